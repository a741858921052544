package pipeline

import (
	"bytes"
	"slices"

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
		bit := nameBit(k)
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

// SetNames is the answer to ResponseRepeats narrowed to the names one
// middleware sets, compiled once: a repeat of any other name does not
// matter to its sets, and the pass over the response compares a name
// only when its length and end letters could be one of the set's.
type SetNames struct {
	sig   uint64
	names [][]byte // canonical
	any   bool     // more than 64 names: ask ResponseRepeats
}

// NewSetNames compiles names (canonical; duplicates allowed). More than
// 64 distinct names fall back to ResponseRepeats.
func NewSetNames(names ...[]byte) SetNames {
	var n SetNames
	for _, name := range names {
		if len(name) == 0 || slices.ContainsFunc(n.names, func(s []byte) bool { return bytes.Equal(s, name) }) {
			continue
		}
		n.names = append(n.names, name)
		n.sig |= nameBit(name)
	}
	if len(n.names) > 64 {
		n = SetNames{any: true}
	}
	return n
}

// nameBit is a field name's bit in a 64-bit signature of names.
func nameBit(k []byte) uint64 {
	return uint64(1) << ((uint(len(k)) + uint(k[0]) + 7*uint(k[len(k)-1])) & 63)
}

// Repeats reports whether one of n's names occurs more than once in h:
// the repeats argument of SetResponse for a run of sets of n's names. It
// errs only towards true, as ResponseRepeats.
func (n *SetNames) Repeats(h *fasthttp.ResponseHeader) bool {
	if n.any {
		return ResponseRepeats(h)
	}
	if n.sig == 0 {
		return false
	}
	if len(h.PeekTrailerKeys()) > 0 {
		return true // All would allocate the Trailer line
	}
	var seen uint64
	for k := range h.All() {
		if len(k) == 0 {
			return true
		}
		if n.sig&nameBit(k) == 0 {
			continue
		}
		for i, s := range n.names {
			if bytes.Equal(s, k) {
				if seen&(1<<i) != 0 {
					return true
				}
				seen |= 1 << i
				break
			}
		}
	}
	return false
}

// SetResponse sets name (canonical) to value in h, replacing every line of
// that name; repeats is ResponseRepeats(h) for h as the caller's run of
// sets found it.
func SetResponse(h *fasthttp.ResponseHeader, name, value []byte, repeats bool) {
	if repeats {
		h.DelBytes(name)
	}
	h.SetCanonical(name, value)
}
