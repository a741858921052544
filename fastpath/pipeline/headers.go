package pipeline

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// managed are the headers Traefik deletes from untrusted peers
// (forwardedheaders), compared case-insensitively with '_' as '-'.
var managed = []string{
	"x-forwarded-proto", "x-forwarded-for", "x-forwarded-host", "x-forwarded-port",
	"x-forwarded-server", "x-forwarded-uri", "x-forwarded-method", "x-forwarded-prefix",
	"x-forwarded-tls-client-cert", "x-forwarded-tls-client-cert-info", "x-real-ip",
}

// hopHeaders are removed before forwarding (net/http/httputil).
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func isManaged(k []byte) bool {
	for _, m := range managed {
		if len(k) != len(m) {
			continue
		}
		eq := true
		for i := 0; i < len(k) && eq; i++ {
			c := k[i] | 0x20
			if k[i] == '_' {
				c = '-'
			}
			eq = c == m[i]
		}
		if eq {
			return true
		}
	}
	return false
}

// present says which of the headers forwarding touches a message carries,
// found in one pass over its headers: the hop-by-hop set (bits in
// hopHeaders order), then the forwarded ones. fasthttp normalises names,
// so the canonical spellings are compared; anyManaged also covers the
// spellings Traefik matches loosely ('_' for '-').
type present uint32

const (
	hasConnection present = 1 << iota
	hasProxyConnection
	hasKeepAlive
	hasProxyAuthenticate
	hasProxyAuthorization
	hasTe
	hasTrailer
	hasTransferEncoding
	hasUpgrade
	hasXFF
	hasXRealIP
	hasXFProto
	hasXFHost
	hasXFPort
	anyManaged
	hasAcceptEncoding
	hasRange
	hasContentEncoding
	// badName: a field name with a space inside, which fasthttp accepts
	// (its issue 1917) and Go's server, so Traefik, refuses with 400.
	badName
	// hasUserAgent and hasContentType, and repeatedSingle when either
	// came twice: fasthttp keeps the last such line only (repeated.go).
	hasUserAgent
	hasContentType
	repeatedSingle
	// badTE: a Transfer-Encoding Go's server refuses with 501 (anything
	// but one line of "chunked").
	badTE
)

// presentIn is the bit of a request header name, a loose spelling of a
// managed one included.
func presentIn(k []byte) present {
	if p := presentExact(k); p != 0 {
		return p
	}
	if isManaged(k) {
		return anyManaged
	}
	return 0
}

// presentExact is the bit of a canonical name alone: what a response
// scan needs, the loose spellings mattering only on requests.
func presentExact(k []byte) present {
	switch string(k) {
	case "Connection":
		return hasConnection
	case "Proxy-Connection":
		return hasProxyConnection
	case "Keep-Alive":
		return hasKeepAlive
	case "Proxy-Authenticate":
		return hasProxyAuthenticate
	case "Proxy-Authorization":
		return hasProxyAuthorization
	case "Te":
		return hasTe
	case "Trailer":
		return hasTrailer
	case "Transfer-Encoding":
		return hasTransferEncoding
	case "Upgrade":
		return hasUpgrade
	case "X-Forwarded-For":
		return hasXFF | anyManaged
	case "X-Real-Ip":
		return hasXRealIP | anyManaged
	case "X-Forwarded-Proto":
		return hasXFProto | anyManaged
	case "X-Forwarded-Host":
		return hasXFHost | anyManaged
	case "X-Forwarded-Port":
		return hasXFPort | anyManaged
	case "Accept-Encoding":
		return hasAcceptEncoding
	case "Range":
		return hasRange
	case "Content-Encoding":
		return hasContentEncoding
	case "User-Agent":
		return hasUserAgent
	case "Content-Type":
		return hasContentType
	}
	return 0
}

// scanRequest reads the headers as received: All would parse and
// re-serialise the cookies, a cost and a change nobody asked for. It
// appends every Connection line's value to conn, comma-joined: fasthttp
// keeps the first line for Peek, or "close" alone when a line said close,
// and Go's proxy honours the tokens of all of them.
func scanRequest(hdr *fasthttp.RequestHeader, conn *[]byte) present {
	var p present
	for k, v := range hdr.AllInOrder() {
		bit := presentIn(k)
		if bit == hasConnection {
			if p&hasConnection != 0 {
				*conn = append(*conn, ',')
			}
			*conn = append(*conn, v...)
		}
		if bit&p&(hasUserAgent|hasContentType) != 0 {
			p |= repeatedSingle
		}
		if bit == hasTransferEncoding && (p&hasTransferEncoding != 0 || !bytes.EqualFold(v, []byte("chunked"))) {
			p |= badTE // Go: one line, "chunked", else 501 (request smuggling's surface)
		}
		p |= bit
		if bytes.IndexByte(k, ' ') >= 0 {
			p |= badName
		}
	}
	return p
}

var (
	strTe, strTrailers         = []byte("Te"), []byte("trailers")
	strXFF, strXRealIP         = []byte("X-Forwarded-For"), []byte("X-Real-Ip")
	strXFProto, strWS, strHTTP = []byte("X-Forwarded-Proto"), []byte("ws"), []byte("http")
	strWSS, strHTTPS, port443  = []byte("wss"), []byte("https"), []byte("443")
	strXFHost, strXFPort       = []byte("X-Forwarded-Host"), []byte("X-Forwarded-Port")
	strXFServer                = []byte("X-Forwarded-Server")
)

var port80 = []byte("80")

// hostPort is the port of a Host value, or nil.
func hostPort(host []byte) []byte {
	i := bytes.LastIndexByte(host, ':')
	if i < 0 || bytes.IndexByte(host[i:], ']') >= 0 || i+1 == len(host) {
		return nil
	}
	return host[i+1:]
}

// StripResponseHopHeaders removes hop-by-hop headers from an upstream
// response (fasthttp frames the body itself), and reports whether the
// response has a Content-Encoding, found in the same pass.
func StripResponseHopHeaders(h *fasthttp.ResponseHeader) (encoded bool) {
	p := ^present(0) // with trailers, All allocates: look every header up
	if len(h.PeekTrailerKeys()) == 0 {
		p = 0
		for k := range h.All() {
			p |= presentExact(k)
		}
	}
	if p&hasConnection != 0 {
		for tok, rest := nextToken(h.Peek("Connection")); tok != nil; tok, rest = nextToken(rest) {
			if !bytes.EqualFold(tok, strClose) && !bytes.EqualFold(tok, strKeepAlive) {
				h.DelBytes(tok)
			}
		}
	}
	for i, k := range hopHeaders {
		if p&(1<<i) != 0 && k != "Trailer" && k != "Transfer-Encoding" {
			h.Del(k)
		}
	}
	return p&hasContentEncoding != 0
}

var strClose, strKeepAlive = []byte("close"), []byte("keep-alive")

// nextToken returns the first non-empty token of a comma-separated header
// value and the rest, or nil when there is none. It allocates nothing.
func nextToken(v []byte) (tok, rest []byte) {
	for len(v) > 0 {
		if i := bytes.IndexByte(v, ','); i >= 0 {
			tok, v = v[:i], v[i+1:]
		} else {
			tok, v = v, nil
		}
		if tok = bytes.TrimSpace(tok); len(tok) > 0 {
			return tok, v
		}
	}
	return nil, nil
}

// hasToken reports whether a comma-separated header value holds tok
// (ASCII case-insensitive).
func hasToken(v []byte, tok string) bool {
	for t, rest := nextToken(v); t != nil; t, rest = nextToken(rest) {
		if len(t) == len(tok) && bytes.EqualFold(t, []byte(tok)) {
			return true
		}
	}
	return false
}
