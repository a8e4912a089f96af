package opcua

import "github.com/gopcua/opcua/ua"

// decoderMaxArrayLen replaces gopcua's decoder limit on the elements of one
// array variant (ua.MaxVariantArrayLength, 65535). At gopcua's limit a
// single longer array fails the decoding of the whole response it is in —
// every notification of a Publish response — and the session is rebuilt,
// only to fail again at the next change of that node: one hostile node
// stops every node of its server. Above the limit the array reaches the
// per-node check (Options.MaxArrayLen, default DefaultMaxArrayLen) and
// becomes one Null reading with BadEncodingLimitsExceeded.
//
// The bound: gopcua accepts responses up to 2 MiB (its default maximum
// message size, which the patched copy in third_party/gopcua applies
// whatever the server announces), so no array of 1-byte elements in one can
// be longer than 2 Mi; the patched decoder also refuses a length beyond the
// bytes left in the message before it allocates anything.
const decoderMaxArrayLen = 2 << 20

// init sets the limit once for the process, before any session decodes a
// message (a later write would race with the decoders). It is set here,
// in the package whose per-node check depends on it, so that the client
// behaves the same in its own tests as in the binary. It is a gopcua
// global: every gopcua client of the process gets the raised limit.
func init() { ua.MaxVariantArrayLength = decoderMaxArrayLen }
