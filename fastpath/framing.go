package fastpath

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// framingConflict reports a request that carried both Transfer-Encoding:
// chunked and Content-Length. fasthttp reads such a body as chunked and
// drops the Content-Length (so the server sees one framing), but a front
// end before Sluice that framed it by Content-Length saw a different
// request boundary; RFC 9112 section 6.1 says the connection MUST be
// closed after the response, and so it is (as HAProxy does): the bytes
// after the chunked body are never served as a next request.
//
// fasthttp keeps no trace of the dropped Content-Length but the raw
// header lines, which are scanned only for chunked requests.
func framingConflict(h *fasthttp.RequestHeader) bool {
	if h.ContentLength() != -1 {
		return false
	}
	raw := h.RawHeaders()
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		if len(line) > len(contentLength) && line[len(contentLength)] == ':' &&
			bytes.EqualFold(line[:len(contentLength)], contentLength) {
			return true
		}
	}
	return false
}

var contentLength = []byte("Content-Length")

// http1Version reports a request line's version that an HTTP/1 server
// serves: HTTP/1.0, HTTP/1.1 or another HTTP/1.x, as Go's server (and so
// Traefik) takes them.
func http1Version(proto []byte) bool {
	return len(proto) == len("HTTP/1.1") && bytes.HasPrefix(proto, http1Prefix) && proto[7] >= '0' && proto[7] <= '9'
}

var http1Prefix = []byte("HTTP/1.")

// answerVersion is Go's answer to any other version: 505, then close.
func answerVersion(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	ctx.SetStatusCode(fasthttp.StatusHTTPVersionNotSupported)
	ctx.SetBodyString("505 HTTP Version Not Supported: unsupported protocol version")
	ctx.SetConnectionClose()
}
