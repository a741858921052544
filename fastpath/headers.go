package fastpath

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

// forwardedHeaders applies rules.md section 1 step 7 before routing, and the
// reverse proxy's hop-by-hop removal and X-Forwarded-For append.
func (h *Handler) forwardedHeaders(ctx *fasthttp.RequestCtx, st *state, host []byte) {
	hdr := &ctx.Request.Header
	ip := st.req.ClientIP
	if !h.trusted(ip) {
		deleteManaged(hdr, st)
	}
	// Headers named in Connection go, then the hop-by-hop set. An upgrade
	// (WebSocket) survives, as in Go's reverse proxy: its protocol is kept
	// in st.upgrade and restored below.
	st.upgrade = st.upgrade[:0]
	teTrailers := bytes.Contains(hdr.Peek("Te"), []byte("trailers"))
	for tok, rest := nextToken(hdr.Peek("Connection")); tok != nil; tok, rest = nextToken(rest) {
		if len(st.upgrade) == 0 && bytes.EqualFold(tok, []byte("upgrade")) {
			st.upgrade = append(st.upgrade, hdr.Peek("Upgrade")...)
		}
		hdr.DelBytes(tok)
	}
	for _, k := range hopHeaders {
		hdr.Del(k)
	}
	if teTrailers {
		hdr.Set("Te", "trailers")
	}
	// X-Forwarded-For: repeated lines joined, then the peer appended.
	st.buf = st.buf[:0]
	for _, v := range hdr.PeekAll("X-Forwarded-For") {
		st.buf = append(append(st.buf, v...), ", "...)
	}
	st.buf = ip.AppendTo(st.buf)
	hdr.SetBytesV("X-Forwarded-For", st.buf)
	if len(hdr.Peek("X-Real-Ip")) == 0 {
		hdr.SetBytesV("X-Real-Ip", ip.AppendTo(st.buf[:0]))
	}
	if len(st.upgrade) > 0 {
		hdr.Set("Connection", "Upgrade")
		hdr.SetBytesV("Upgrade", st.upgrade)
	}
	if len(hdr.Peek("X-Forwarded-Proto")) == 0 {
		if hasToken(st.upgrade, "websocket") {
			hdr.Set("X-Forwarded-Proto", "ws") // Traefik's scheme for WebSocket requests
		} else {
			hdr.Set("X-Forwarded-Proto", "http")
		}
	}
	if len(hdr.Peek("X-Forwarded-Host")) == 0 {
		hdr.SetBytesV("X-Forwarded-Host", host)
	}
	if len(hdr.Peek("X-Forwarded-Port")) == 0 {
		hdr.SetBytesV("X-Forwarded-Port", hostPort(host))
	}
	hdr.Set("X-Forwarded-Server", h.cfg.ServerName)
}

var port80 = []byte("80")

// hostPort is the port of a Host value, or 80.
func hostPort(host []byte) []byte {
	i := bytes.LastIndexByte(host, ':')
	if i < 0 || bytes.IndexByte(host[i:], ']') >= 0 || i+1 == len(host) {
		return port80
	}
	return host[i+1:]
}

// deleteManaged removes every managed header, in any spelling. Names are
// collected first: fasthttp forbids deleting while visiting.
func deleteManaged(hdr *fasthttp.RequestHeader, st *state) {
	st.buf = st.buf[:0]
	n := 0
	for k := range hdr.All() {
		if isManaged(k) {
			st.buf = append(append(st.buf, k...), 0)
			n++
		}
	}
	for b := st.buf; n > 0; n-- {
		i := bytes.IndexByte(b, 0)
		hdr.DelBytes(b[:i])
		b = b[i+1:]
	}
}

// stripResponseHopHeaders removes hop-by-hop headers from an upstream
// response; fasthttp frames the body itself.
func stripResponseHopHeaders(h *fasthttp.ResponseHeader) {
	for tok, rest := nextToken(h.Peek("Connection")); tok != nil; tok, rest = nextToken(rest) {
		if !bytes.EqualFold(tok, strClose) && !bytes.EqualFold(tok, strKeepAlive) {
			h.DelBytes(tok)
		}
	}
	for _, k := range hopHeaders {
		if k != "Trailer" && k != "Transfer-Encoding" {
			h.Del(k)
		}
	}
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
