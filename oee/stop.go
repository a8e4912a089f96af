package oee

// A stop is the time a station spends in one stop state (unplanned stop,
// small stop or planned stop) from the moment it enters it until it leaves
// it. A stop may span a data gap (a lost session, a bridge restart, a Bad
// state): when the station reports the same state again after the gap, it
// is the same stop, counted once and classified by its whole length, gap
// included; the gap's own time stays unknown. A stop whose station comes
// back in another state, or only after MaxStopGap, ended somewhere in the
// gap: it is classified by the part that was seen.

// stopState is the stop a station is in, if any. Its fields are exported
// for gob.
type stopState struct {
	Bucket Bucket // the stop's bucket; BucketUnknown: no stop is open
	Key    int64  // the state (machinery: state and mode) that began it
	Start  int64  // when it began, Unix ns
	Code   string // its reason code
	Small  bool   // classified as a small stop (when it was pending)
	Held   bool   // the data stopped during it, at HeldAt: unknown time follows
	HeldAt int64
}

func (p *stopState) open() bool { return p.Bucket != BucketUnknown }

func isStop(b Bucket) bool {
	return b == BucketUnplannedStop || b == BucketSmallStop || b == BucketPlannedStop
}

// setBucket changes the station's state at t, ending and starting stops.
// key is the state value that maps to b. Another value of the same bucket
// is the same stop going on.
func (s *station) setBucket(b Bucket, key, t int64) {
	if b == s.S.Bucket {
		return
	}
	prev := s.S.Bucket
	s.S.Bucket = b
	switch {
	case b == BucketUnknown:
		s.holdStop(t)
		return
	case prev == BucketUnknown && s.resumes(key, t):
		s.S.Stop.Held = false
		s.settle()
		return
	}
	s.endStop(t)
	s.startStop(b, key, t)
}

// holdStop notes that the data stopped at t while a stop was open.
func (s *station) holdStop(t int64) {
	if p := &s.S.Stop; p.open() && !p.Held {
		p.Held, p.HeldAt = true, t
	}
}

// resumes reports whether the station, back in state key at t after a gap,
// is still in the stop it was in when the data stopped.
func (s *station) resumes(key, t int64) bool {
	p := &s.S.Stop
	return p.open() && p.Held && p.Key == key && t-p.HeldAt <= int64(MaxStopGap)
}

// startStop opens a stop if b is a stop bucket.
func (s *station) startStop(b Bucket, key, t int64) {
	if !isStop(b) {
		return
	}
	s.S.Stop = stopState{Bucket: b, Key: key, Start: t, Code: s.reasonCode(key)}
	switch {
	case b == BucketUnplannedStop && s.smallStop > 0:
		s.S.Pending, s.S.PendingStart = true, t
	case b == BucketUnplannedStop:
		s.countStop(t, false)
	case b == BucketSmallStop:
		s.countStop(t, true)
	default:
		s.countOpen(t) // planned stops count per reason only
	}
}

// endStop closes the open stop at t, or where its data stopped if it was
// held across a gap, classifying it if it was pending and giving its time
// to its reason.
func (s *station) endStop(t int64) {
	p := &s.S.Stop
	if !p.open() {
		return
	}
	end := t
	if p.Held {
		end = p.HeldAt
	}
	if s.S.Pending {
		s.resolve(end-s.S.PendingStart < s.smallStop)
	}
	if s.startup > 0 && p.Bucket != BucketSmallStop && !p.Small {
		s.S.StartupUntil = t + s.startup // the first parts after it are a startup
	}
	s.closeReason()
	s.S.Stop = stopState{}
}

// settle classifies a pending stop that has reached the threshold, and ends
// a stop held across a gap that has lasted longer than MaxStopGap.
func (s *station) settle() {
	p := &s.S.Stop
	switch {
	case p.Held && s.S.Cursor-p.HeldAt > int64(MaxStopGap):
		s.endStop(p.HeldAt)
	case s.S.Pending && !p.Held && s.S.PendingStart+s.smallStop <= s.S.Cursor:
		s.resolve(false) // long enough: an unplanned stop
	}
}

// resolve classifies the pending stop, in every tally that holds its time.
func (s *station) resolve(small bool) {
	s.S.Pending, s.S.Stop.Small = false, small
	for i := range s.S.Ring {
		s.S.Ring[i].resolve(small)
	}
	for _, p := range s.line.S.Open {
		p.St[s.idx].resolve(small)
	}
	s.countStop(s.S.PendingStart, small)
}

// countStop counts a stop that began at `at` where it began: stops that
// reach the threshold and small stops apart, and once for its reason.
func (s *station) countStop(at int64, small bool) {
	for _, tg := range s.targets(at) {
		switch {
		case tg == nil:
		case small:
			tg.SmallStops++
		default:
			tg.Stops++
		}
	}
	s.countOpen(at)
}

// countOpen counts the open stop once, for the reason it ends up with.
func (s *station) countOpen(at int64) {
	for _, tg := range s.targets(at) {
		if tg != nil {
			tg.StopN++
		}
	}
}
