package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	fb "factorybridge"
	"factorybridge/internal/testenv"
	"factorybridge/publisher/wire"
)

// Node ids of the simulator used by the acquisition tests.
const (
	simLoad    = "nsu=urn:factorybridge:load;s=load."
	simTypes   = "nsu=urn:factorybridge:types;s=types."
	simStation = "nsu=http://opcfoundation.org/UA/Station/;s="
)

// acqLog records every entry a bridge publishes, whatever its type and
// class, by name in arrival order, and every seq (for checkDense).
type acqLog struct {
	mu     sync.Mutex
	byName map[string][]fb.Reading
	events []fb.Reading
	seqs   []uint64
	errs   []string
	topics map[string]map[string]bool // message type → topics it came on
}

// subscribeAll subscribes to every topic under prefix (QoS 1, a persistent
// session, so a bridge restart loses nothing).
func subscribeAll(t *testing.T, broker, prefix string) *acqLog {
	t.Helper()
	l := &acqLog{byName: map[string][]fb.Reading{}, topics: map[string]map[string]bool{}}
	sub := func(cl mqtt.Client) mqtt.Token {
		return cl.Subscribe(prefix+"/#", 1, func(_ mqtt.Client, m mqtt.Message) { l.add(m.Topic(), m.Payload()) })
	}
	o := mqtt.NewClientOptions().AddBroker(broker).SetClientID("acq-consumer").SetOrderMatters(true).
		SetCleanSession(false).SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond)
	o.SetOnConnectHandler(func(cl mqtt.Client) { go sub(cl) })
	cl := mqtt.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect consumer: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	if tok := sub(cl); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	return l
}

func (l *acqLog) add(topic string, payload []byte) {
	m, err := wire.DecodeMessage(payload)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.errs = append(l.errs, err.Error())
		return
	}
	if l.topics[m.Type] == nil {
		l.topics[m.Type] = map[string]bool{}
	}
	l.topics[m.Type][topic] = true
	for _, r := range m.Readings {
		l.seqs = append(l.seqs, r.Seq)
		if r.Class == fb.ClassEvent {
			l.events = append(l.events, r)
			continue
		}
		if r.Class.IsNodeValue() {
			l.byName[r.Name] = append(l.byName[r.Name], r)
		}
	}
}

// of returns the entries of name with one of classes (all, when none).
func (l *acqLog) of(name string, classes ...fb.Class) []fb.Reading {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []fb.Reading
	for _, r := range l.byName[name] {
		if len(classes) == 0 || slices.Contains(classes, r.Class) {
			out = append(out, r)
		}
	}
	return out
}

func (l *acqLog) eventList() []fb.Reading {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// topicsOf returns the topics messages of type typ came on.
func (l *acqLog) topicsOf(typ string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for tp := range l.topics[typ] {
		out = append(out, tp)
	}
	slices.Sort(out)
	return out
}

func (l *acqLog) allSeqs() []uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.seqs)
}

func (l *acqLog) checkNoErrors(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) > 0 {
		t.Errorf("%d messages did not decode: %v", len(l.errs), l.errs[:min(len(l.errs), 5)])
	}
}

// writeConfig writes a bridge config in a temp dir and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bridge.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// proxyTo starts a TCP proxy to the simulator and returns it with the
// endpoint through it.
func proxyTo(t *testing.T, sim *testenv.Simulator) (*testenv.Proxy, string) {
	t.Helper()
	p := testenv.StartProxy(t, strings.TrimPrefix(sim.Endpoint, "opc.tcp://"))
	return p, "opc.tcp://" + p.Addr
}

// cutFor cuts every connection through p and refuses new ones for d, as a
// dead network does; it returns when the connection is possible again.
func cutFor(p *testenv.Proxy, d time.Duration) (from, to time.Time) {
	from = time.Now()
	p.Stall()
	p.Cut()
	time.Sleep(d) // the outage itself: there is nothing to wait for
	p.Cut()       // the connection attempts made meanwhile hang: end them
	p.Resume()
	return from, time.Now()
}
