package match

import (
	"bytes"
	"net/netip"
)

// Kind selects what a Matcher checks.
type Kind uint8

// Matcher kinds.
const (
	True         Kind = iota // always true (Host(`*`), HostRegexp matching "")
	False                    // never true (Header on a name Traefik hides)
	Host                     // A: lower-cased host value, may start with '*'
	HostRegexp               // Re over the canonical host
	Path                     // routing path == A
	PathPrefix               // routing path starts with A
	PathRegexp               // Re over the routing path
	Method                   // method == A (A upper-cased at build time)
	Header                   // some value of header A == B
	HeaderRegexp             // some value of header A matches Re
	Query                    // some value of query key A == B (B may be "")
	QueryRegexp              // some value of query key A matches Re
	ClientIP                 // client IP inside Prefix
	// QueryV2 is a v2 rule's Query pair (gorilla/mux): the text A=value,
	// value the first value of query key A that Go's ParseQuery keeps,
	// matches Re; no such value: false.
	QueryV2
)

// Matcher is one compiled rule leaf. It is immutable after construction and
// may be shared by many routes and goroutines.
type Matcher struct {
	Kind   Kind
	A, B   string
	Re     *Regexp
	Prefix netip.Prefix
}

// Match evaluates m against r.
func (m *Matcher) Match(r *Request) bool {
	switch m.Kind {
	case True:
		return true
	case Host:
		return MatchHost(m.A, r.Host)
	case HostRegexp, PathRegexp:
		if m.Kind == HostRegexp {
			return m.Re.Match(r.Host)
		}
		return m.Re.Match(r.Path)
	case Path:
		return string(r.Path) == m.A
	case PathPrefix:
		return len(r.Path) >= len(m.A) && string(r.Path[:len(m.A)]) == m.A
	case Method:
		return string(r.Method) == m.A
	case Header, HeaderRegexp:
		return m.matchHeader(r)
	case Query, QueryRegexp, QueryV2:
		return m.matchQuery(r)
	case ClientIP:
		return r.ClientIP.IsValid() && m.Prefix.Contains(r.ClientIP)
	}
	return false
}

func (m *Matcher) matchHeader(r *Request) bool {
	if r.Headers == nil {
		return false
	}
	for _, v := range r.Headers.PeekAll(m.A) {
		if m.Kind == Header && string(v) == m.B || m.Kind == HeaderRegexp && m.Re.Match(v) {
			return true
		}
	}
	return false
}

func (m *Matcher) matchQuery(r *Request) bool {
	for q := r.RawQuery; len(q) > 0; {
		var k, v []byte
		if k, v, q = nextQueryPair(q); k == nil {
			continue
		}
		var ok bool
		if r.scratch, ok = AppendFormUnescape(r.scratch[:0], k); !ok || string(r.scratch) != m.A {
			continue
		}
		keep := 0 // QueryV2 matches Re against key=value, as mux does; the others the value
		if m.Kind == QueryV2 {
			r.scratch = append(r.scratch, '=')
			keep = len(r.scratch)
		}
		if r.scratch, ok = AppendFormUnescape(r.scratch[:keep], v); !ok {
			continue // Go's ParseQuery drops pairs with a bad escape
		}
		switch {
		case m.Kind == QueryV2:
			return m.Re.Match(r.scratch) // mux reads the key's first value only
		case m.Kind == Query && string(r.scratch) == m.B, m.Kind == QueryRegexp && m.Re.Match(r.scratch):
			return true
		}
	}
	return false
}

// nextQueryPair splits the first &-separated pair off q into its key and
// value (k nil for an empty pair), and returns the rest.
func nextQueryPair(q []byte) (k, v, rest []byte) {
	pair := q
	if i := bytes.IndexByte(q, '&'); i >= 0 {
		pair, rest = q[:i], q[i+1:]
	}
	if len(pair) == 0 {
		return nil, nil, rest
	}
	k = pair
	if i := bytes.IndexByte(pair, '='); i >= 0 {
		k, v = pair[:i], pair[i+1:]
	}
	return k, v, rest
}

// MatchHost is Traefik's Host matcher (rules.md 4.1) for a lower-cased rule
// value and a canonical request host.
func MatchHost(value string, host []byte) bool {
	if value == "*" {
		return true
	}
	if len(host) == 0 {
		return false
	}
	if hostEq(value, host) {
		return true
	}
	if n := len(value); n > 1 && value[n-1] == '.' && hostEq(value[:n-1], host) {
		return true
	}
	if n := len(host); host[n-1] == '.' && hostEq(value, host[:n-1]) {
		return true
	}
	return false
}

func hostEq(value string, host []byte) bool {
	if len(value) == 0 || value[0] != '*' {
		return string(host) == value
	}
	i := bytes.IndexByte(host, '.')
	if i < 0 {
		return value == "*"
	}
	return string(host[i:]) == value[1:]
}

// AppendFormUnescape appends the form-decoded s ('+' is a space, %XX a byte)
// to dst; ok is false for a malformed escape, as in Go's url.QueryUnescape.
func AppendFormUnescape(dst, s []byte) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			dst = append(dst, ' ')
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return dst, false
			}
			dst = append(dst, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}
