package match

import "net/netip"

// Headers gives the values of a request header, one per header line, for a
// canonical header name (*fasthttp.RequestHeader satisfies it). The returned
// slices are valid until the next call.
type Headers interface {
	PeekAll(key string) [][]byte
}

// Request is the view of one request the matchers read. It must not be
// copied after use begins (Scratch is reused) and is not safe for concurrent
// use.
type Request struct {
	Host     []byte     // canonical host: lower-cased, port stripped, trailing dot kept
	Path     []byte     // routing path (rules.md 3.2)
	Method   []byte     // as sent
	RawQuery []byte     // raw query after the ';' -> '&' rewrite, without '?'
	ClientIP netip.Addr // socket peer, IPv4-mapped addresses unmapped
	Headers  Headers

	scratch []byte // decoding buffer for query values
}

// Reset clears r for reuse, keeping its buffers.
func (r *Request) Reset() {
	s := r.scratch[:0]
	*r = Request{scratch: s}
}
