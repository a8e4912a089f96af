package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"factorybridge/internal/testenv"
)

// presenceLog subscribes to a status topic and keeps what arrives.
type presenceLog struct {
	mu   sync.Mutex
	msgs []presenceMsg
}

type presenceMsg struct {
	State, Reason, Version, ConfigDigest, Bridge string
	retained                                     bool
}

func subscribePresence(t *testing.T, url, topic string) *presenceLog {
	t.Helper()
	p := &presenceLog{}
	o := paho.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("watcher-%d", time.Now().UnixNano())).
		SetCleanSession(true).SetAutoReconnect(false)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		var msg presenceMsg
		if err := json.Unmarshal(m.Payload(), &msg); err != nil {
			t.Errorf("presence payload %q: %v", m.Payload(), err)
		}
		msg.retained = m.Retained()
		p.mu.Lock()
		p.msgs = append(p.msgs, msg)
		p.mu.Unlock()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", topic, tok.Error())
	}
	return p
}

// waitLast waits until the latest message has state and reason.
func (p *presenceLog) waitLast(t *testing.T, state, reason string) presenceMsg {
	t.Helper()
	var last presenceMsg
	testenv.Wait(t, 30*time.Second, "presence "+state+" "+reason, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.msgs) == 0 {
			return false
		}
		last = p.msgs[len(p.msgs)-1]
		return last.State == state && last.Reason == reason
	})
	return last
}

// TestDeadBridgeIsSeenOnTheBroker: the bridge announces itself online,
// retained, with its version and config digest; killed with SIGKILL (no
// shutdown, no goodbye) the broker publishes its last will and a watcher
// sees it offline; restarted it is online again; stopped cleanly it says
// so itself.
func TestDeadBridgeIsSeenOnTheBroker(t *testing.T) {
	m := testenv.StartMosquitto(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "bridge.toml")
	nobody := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := fmt.Sprintf("[bridge]\nid = \"press-7\"\ndata_dir = %q\n\n[mqtt]\nbroker = %q\n\n"+
		"[[servers]]\nname = \"plc\"\nendpoint = \"opc.tcp://%s\"\n\n"+
		"[[lines]]\nname = \"line1\"\n[[lines.stations]]\nname = \"st\"\nnodes = [{ name = \"n\", id = \"ns=1;s=n\" }]\n",
		dir, m.URL, nobody)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	watch := subscribePresence(t, m.URL, "factorybridge/press-7/status")
	br := testenv.StartBridge(t, path)
	online := watch.waitLast(t, "online", "")
	if online.Bridge != "press-7" || online.Version != "dev" || len(online.ConfigDigest) != 16 {
		t.Errorf("online message %+v: want bridge, version and config digest", online)
	}

	br.Kill()
	watch.waitLast(t, "offline", "connection lost")
	late := subscribePresence(t, m.URL, "factorybridge/press-7/status")
	if got := late.waitLast(t, "offline", "connection lost"); !got.retained {
		t.Error("the last will is not retained: a watcher subscribing later would not see the dead bridge")
	}

	br.Start()
	watch.waitLast(t, "online", "")
	if code := br.Stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	watch.waitLast(t, "offline", "stopped")
}
