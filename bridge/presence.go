package bridge

import (
	"encoding/json"
	"time"

	"factorybridge/config"
	"factorybridge/publisher/mqtt"
)

// presenceMessage is the JSON of the retained status topic.
type presenceMessage struct {
	State        string    `json:"state"` // "online" or "offline"
	Bridge       string    `json:"bridge"`
	Version      string    `json:"version,omitempty"`
	Commit       string    `json:"commit,omitempty"`
	ConfigDigest string    `json:"configDigest,omitempty"`
	Reason       string    `json:"reason,omitempty"` // why offline: "connection lost" (the will) or "stopped"
	Since        time.Time `json:"since,omitzero"`   // when the bridge started
}

// presence is the MQTT publisher's Presence on cfg's status topic, with
// the digest of cfg's file; nil when it is off.
func (b *Bridge) presence(cfg *config.Config, digest string) *mqtt.Presence {
	topic := cfg.StatusTopic()
	if topic == "" {
		return nil
	}
	msg := func(state, reason string) []byte {
		data, _ := json.Marshal(presenceMessage{State: state, Bridge: cfg.Bridge.ID, Version: b.opts.Version,
			Commit: b.opts.Commit, ConfigDigest: digest, Reason: reason, Since: b.started.UTC()})
		return data
	}
	return &mqtt.Presence{Topic: topic, Online: msg("online", ""),
		Offline: msg("offline", "connection lost"), Stopped: msg("offline", "stopped")}
}
