package pipeline

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// Setting a header, in Traefik, is Go's Header.Set: every line of that
// name is replaced by the one value. fasthttp's Set and SetCanonical
// replace the first line of the name only, so a name that came twice
// (a server answering two X-Frame-Options, a client sending two X-User
// lines) would keep its second line beside the value a middleware set.
// The middlewares set through these instead.

// SetRequest sets name (canonical) to value in h, replacing every line of
// that name.
func SetRequest(h *fasthttp.RequestHeader, name, value []byte) {
	h.DelBytes(name)
	h.SetCanonical(name, value)
}

// ResponseRepeats reports whether some field name may occur more than
// once in h: the answer for a run of SetResponse calls (sets make no
// repeats), worked out once, since a response's fields seldom repeat and
// replacing every line costs a deletion per set. It errs only towards
// true (several Set-Cookie lines, more than maxScanned fields).
func ResponseRepeats(h *fasthttp.ResponseHeader) bool {
	if len(h.PeekTrailerKeys()) > 0 {
		return true // All would allocate the Trailer line
	}
	var seen [maxScanned][]byte
	var sig uint64
	n := 0
	for k := range h.All() {
		if n == maxScanned || len(k) == 0 { // (fasthttp refuses an empty name; no guess)
			return true
		}
		bit := uint64(1) << ((uint(len(k)) + uint(k[0]) + 7*uint(k[len(k)-1])) & 63)
		if sig&bit != 0 {
			for _, s := range seen[:n] {
				if bytes.Equal(s, k) {
					return true
				}
			}
		}
		sig |= bit
		seen[n] = k
		n++
	}
	return false
}

// maxScanned bounds ResponseRepeats' memory of names.
const maxScanned = 32

// SetResponse sets name (canonical) to value in h, replacing every line of
// that name; repeats is ResponseRepeats(h) for h as the caller's run of
// sets found it.
func SetResponse(h *fasthttp.ResponseHeader, name, value []byte, repeats bool) {
	if repeats {
		h.DelBytes(name)
	}
	h.SetCanonical(name, value)
}
