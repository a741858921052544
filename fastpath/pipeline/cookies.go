package pipeline

import (
	"bytes"
	"net/textproto"
	"sync"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/http/httpguts"
)

// Request cookies are forwarded as the client sent them, as Go's proxy
// (so Traefik) forwards its Cookie lines. fasthttp parses a request's
// Cookie lines into a jar of its own the first time anything asks it for
// a cookie or walks every header (RequestHeader.Cookie, All, VisitAll,
// PeekKeys), and from then on writes that jar instead: several lines
// merged into one, "a=1;b=2" spaced, quotes and spaces around values
// dropped (`x="q"` goes on as `x=q`). So the request a proxy forwards is
// never read those ways: RequestCookie and EachRequestHeader read the raw
// lines (PeekAll, PeekCanonical and Peek do not collect them). Setting a
// request's Cookie through fasthttp (Set, Add) fills the jar whatever is
// done here.

// maxCookies is Go's limit on the cookies of one request
// (GODEBUG httpcookiemaxnum's default): past it, none are read.
const maxCookies = 3000

// RequestCookie is what Go's Request.Cookie(name) gives as the value: the
// first cookie of that name over all Cookie lines whose value is valid
// (its double quotes stripped). ok is false when there is none. The
// value is h's until h changes.
func RequestCookie(h *fasthttp.RequestHeader, name string) (value []byte, ok bool) {
	lines := h.PeekAll(fasthttp.HeaderCookie)
	n := 0
	for _, l := range lines {
		n += bytes.Count(l, []byte{';'}) + 1
	}
	if n > maxCookies {
		return nil, false
	}
	for _, line := range lines {
		for line = textproto.TrimBytes(line); len(line) > 0; {
			var part []byte
			part, line, _ = bytes.Cut(line, []byte{';'})
			if part = textproto.TrimBytes(part); len(part) == 0 {
				continue
			}
			k, v, _ := bytes.Cut(part, []byte{'='})
			if k = textproto.TrimBytes(k); string(k) != name || !isToken(k) {
				continue
			}
			if v, ok := cookieValue(v); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// isToken reports a non-empty RFC 9110 token (Go's cookie name check).
func isToken(b []byte) bool {
	for _, c := range b {
		if !httpguts.IsTokenRune(rune(c)) {
			return false
		}
	}
	return len(b) > 0
}

// cookieValue is Go's parseCookieValue with quotes allowed.
func cookieValue(v []byte) ([]byte, bool) {
	if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	for _, c := range v {
		if c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' {
			return nil, false
		}
	}
	return v, true
}

var headerCopies = sync.Pool{New: func() any { return new(fasthttp.RequestHeader) }}

// EachRequestHeader calls fn with every header of h as it is sent, the
// Cookie lines as they are (after the others), without collecting h's
// cookies. fn must not change h. A request without cookies is walked in
// place; one with cookies through a copy, whose jar is the one filled.
func EachRequestHeader(h *fasthttp.RequestHeader, fn func(k, v []byte)) {
	if len(h.PeekAll(fasthttp.HeaderCookie)) == 0 { // (a Cookie line of no value counts)
		for k, v := range h.All() {
			fn(k, v)
		}
		return
	}
	c := headerCopies.Get().(*fasthttp.RequestHeader)
	h.CopyTo(c)
	for k, v := range c.All() {
		if string(k) != fasthttp.HeaderCookie {
			fn(k, v)
		}
	}
	c.Reset()
	headerCopies.Put(c)
	lines := h.PeekAll(fasthttp.HeaderCookie)
	for i := range lines {
		fn(hdrCookie, lines[i])
	}
}

var hdrCookie = []byte(fasthttp.HeaderCookie)
