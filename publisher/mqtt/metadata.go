package mqtt

// sendMetadata publishes the metadata messages the message being sent
// needs (wire.EncodingPubSubJSON: a writer's DataSetMetaData) before it, on
// its topic, without waiting for their acknowledgements: the broker
// delivers a client's messages in order, and after a reconnect the Packer
// (Reset) has them sent again. A dialect meters them with first 0, a
// message that holds no reading. One larger than MaxMessageBytes is not
// sent, as the broker or hub would refuse it.
func (s *session) sendMetadata(topic string) {
	for _, md := range s.p.packer.TakeMetadata() {
		if len(md) > s.p.opts.MaxMessageBytes {
			s.p.log.Warn("mqtt: pubsub-json metadata message larger than max_message_bytes not sent; consumers cannot type the station's fields",
				"topic", topic, "bytes", len(md), "limit", s.p.opts.MaxMessageBytes)
			continue
		}
		s.publish(outgoing{topic: s.p.dialect.MessageTopic(topic, 0, len(md)), qos: s.p.qos, payload: md})
	}
}
