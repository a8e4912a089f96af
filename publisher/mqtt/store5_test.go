package mqtt

import (
	"bytes"
	"io"
	"slices"
	"testing"

	"github.com/eclipse/paho.golang/packets"
)

// TestPublishStoreResendsFullTopics: what paho reads back from the store to
// resend is each PUBLISH as it was put, in order, with its full topic in
// place of a topic alias, whatever happens to paho's packet afterwards;
// other packets come back as they were written.
func TestPublishStoreResendsFullTopics(t *testing.T) {
	s := newState5(true)
	st := newPublishStore(s)
	alias := uint16(3)
	pubs := []*packets.Publish{
		{PacketID: 7, QoS: 1, Topic: "a/b", Payload: []byte(`{"v":1}`), Properties: &packets.Properties{ContentType: "application/json"}},
		{PacketID: 2, QoS: 1, Topic: "", Payload: []byte(`{"v":2}`), Properties: &packets.Properties{TopicAlias: &alias}},
	}
	s.topic = "a/b"
	for _, p := range pubs {
		if err := st.Put(p.PacketID, packets.PUBLISH, p); err != nil {
			t.Fatal(err)
		}
	}
	rel := &packets.Pubrel{PacketID: 9}
	if err := st.Put(9, packets.PUBREL, rel); err != nil {
		t.Fatal(err)
	}
	pubs[0].Topic, pubs[0].Properties.ContentType = "changed", "" // paho's packet, after the store took it
	ids, _ := st.List()
	if want := []uint16{7, 2, 9}; !slices.Equal(ids, want) {
		t.Fatalf("List = %v, want %v", ids, want)
	}
	for i, want := range []string{"a/b", "a/b"} {
		p := readStored(t, st, ids[i]).Content.(*packets.Publish)
		if p.Topic != want || p.Properties.TopicAlias != nil || !bytes.Equal(p.Payload, pubs[i].Payload) {
			t.Errorf("packet %d: topic %q alias %v payload %s; want topic %q, no alias, %s",
				ids[i], p.Topic, p.Properties.TopicAlias, p.Payload, want, pubs[i].Payload)
		}
	}
	if ct := readStored(t, st, 7).Content.(*packets.Publish).Properties.ContentType; ct != "application/json" {
		t.Errorf("content type %q after paho's packet changed", ct)
	}
	if p := readStored(t, st, 9); p.Type != packets.PUBREL {
		t.Errorf("packet 9 reads back as type %d", p.Type)
	}
	if err := st.Delete(7); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(7); err == nil {
		t.Error("deleted packet 7 still in the store")
	}
	if st.Reset(); len(st.packets) != 0 {
		t.Errorf("%d packets after Reset", len(st.packets))
	}
}

// readStored reads packet id back from st as paho does.
func readStored(t *testing.T, st *publishStore, id uint16) *packets.ControlPacket {
	t.Helper()
	r, err := st.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cp, err := packets.ReadPacket(r)
	if err != nil {
		t.Fatalf("read packet %d: %v", id, err)
	}
	if _, err := io.ReadAll(r); err != nil {
		t.Fatal(err)
	}
	return cp
}
