package oee

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
)

// stateVersion is the first byte of MarshalBinary's output; UnmarshalBinary
// refuses other versions rather than misreading them.
const stateVersion = 1

// ErrIncompatibleState is returned by UnmarshalBinary for state saved by
// another version, or for lines and stations other than the engine's.
var ErrIncompatibleState = errors.New("oee state does not match this engine")

type snapshot struct {
	Lines []lineSnap
}

type lineSnap struct {
	Name     string
	S        lineState
	Stations []stationSnap
}

type stationSnap struct {
	Name string
	S    stationState
}

// MarshalBinary encodes everything the engine has accumulated: counter
// values, states, open periods and the rolling window. Persist it in the
// same transaction as the position of the last reading observed, and
// restore it with UnmarshalBinary on an engine built from the same
// configuration, then feed the readings after that position.
func (e *Engine) MarshalBinary() ([]byte, error) {
	var snap snapshot
	for _, l := range e.lines {
		ls := lineSnap{Name: l.name, S: l.S}
		for _, s := range l.stations {
			ls.Stations = append(ls.Stations, stationSnap{Name: s.name, S: s.S})
		}
		snap.Lines = append(snap.Lines, ls)
	}
	var b bytes.Buffer
	b.WriteByte(stateVersion)
	if err := gob.NewEncoder(&b).Encode(&snap); err != nil {
		return nil, fmt.Errorf("encode oee state: %w", err)
	}
	return b.Bytes(), nil
}

// UnmarshalBinary restores state from MarshalBinary into an engine New
// built from the same lines and stations. A changed window length restarts
// the rolling window; other changes return ErrIncompatibleState.
func (e *Engine) UnmarshalBinary(data []byte) error {
	snap, err := decodeSnapshot(data)
	if err != nil {
		return err
	}
	if len(snap.Lines) != len(e.lines) {
		return fmt.Errorf("%w: %d lines, engine has %d", ErrIncompatibleState, len(snap.Lines), len(e.lines))
	}
	for i, ls := range snap.Lines {
		if err := e.lines[i].restore(ls); err != nil {
			return err
		}
	}
	return nil
}

func decodeSnapshot(data []byte) (snapshot, error) {
	var snap snapshot
	if len(data) == 0 || data[0] != stateVersion {
		return snap, fmt.Errorf("%w: unknown version", ErrIncompatibleState)
	}
	if err := gob.NewDecoder(bytes.NewReader(data[1:])).Decode(&snap); err != nil {
		return snap, fmt.Errorf("decode oee state: %w", err)
	}
	return snap, nil
}

func (l *line) restore(ls lineSnap) error {
	if ls.Name != l.name || len(ls.Stations) != len(l.stations) {
		return fmt.Errorf("%w: line %s", ErrIncompatibleState, l.name)
	}
	for i, ss := range ls.Stations {
		if ss.Name != l.stations[i].name {
			return fmt.Errorf("%w: station %s/%s", ErrIncompatibleState, l.name, ss.Name)
		}
	}
	for _, p := range ls.S.Open {
		if len(p.St) != len(l.stations) {
			return fmt.Errorf("%w: line %s", ErrIncompatibleState, l.name)
		}
	}
	l.S = ls.S
	l.mi.min = -1 << 62
	for i, ss := range ls.Stations {
		l.stations[i].restore(ss.S)
	}
	return nil
}

// restore keeps what configuration decides (counter widths, ring length).
func (s *station) restore(st stationState) {
	for i := range st.Counters {
		st.Counters[i].bits, st.Counters[i].sign = s.S.Counters[i].bits, s.S.Counters[i].sign
	}
	if len(st.Ring) != len(s.S.Ring) || len(st.RingMin) != len(s.S.Ring) {
		st.Ring, st.RingMin = s.S.Ring, s.S.RingMin
	}
	s.S = st
	if isStop(st.Bucket) && !st.Stop.open() { // saved before stops were kept: open it again
		s.S.Stop = stopState{Bucket: st.Bucket, Key: s.stateKey(), Start: st.Cursor}
		if st.Pending {
			s.S.Stop.Start = st.PendingStart
		}
	}
}
