// Package wire is the format of the messages factorybridge publishes
// (docs/message-format.md): readings packed into JSON messages of at most a
// given size, in the compact or the flat encoding, OEE records in messages
// of their own, the topic templates that place them, and the decoder that
// reads them back (for tests and consumers written in Go).
//
// It does no I/O. A transport (publisher/mqtt) owns a Packer per
// connection and asks it for builders, one per topic being filled; what a
// builder holds is acknowledged by the transport, not here.
package wire
