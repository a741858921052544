package pipeline

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// Preallocated bodies, as Go's http.Error and NotFoundHandler (and so
// Traefik) write them.
var (
	BodyNotFound   = []byte("404 page not found\n")
	BodyNoServer   = []byte("no available server\n")
	BodyBadRequest = []byte("400 Bad Request\n")
	// A server that failed: Traefik's proxy writes the status text alone
	// (no newline, no Content-Type): RespondStatusText.
	BodyBadGateway     = []byte("Bad Gateway")
	BodyGatewayTimeout = []byte("Gateway Timeout")
	BodyInternal       = []byte("Internal Server Error\n")
	BodyTooLarge       = []byte("Request body too large\n")
	BodyMisdirected    = []byte("Misdirected Request\n")
)

// Respond answers with status and a plain-text body, as http.Error does
// (Content-Type, X-Content-Type-Options). The Date header is the front
// end's: fasthttp's server and Go's HTTP/2 server add it to every answer.
func (x *Exchange) Respond(status int, body []byte) {
	r := x.Resp
	r.SetStatusCode(status)
	r.Header.SetContentType("text/plain; charset=utf-8")
	r.Header.Set("X-Content-Type-Options", "nosniff")
	r.SetBodyRaw(body)
}

// RespondBadTarget answers a request whose target Begin refused: 400
// with an empty body when its path holds a fragment ('#'), as Traefik's
// entry point (denyFragment) answers, else as http.Error would. It
// reports whether the connection may go on (the fragment's answer is a
// handler's, not a malformed request's).
func (x *Exchange) RespondBadTarget(target []byte) (keepAlive bool) {
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	if bytes.IndexByte(target, '#') >= 0 {
		x.RespondStatusText(fasthttp.StatusBadRequest, nil)
		return true
	}
	x.Respond(fasthttp.StatusBadRequest, BodyBadRequest)
	return false
}

// UnsupportedTE reports that BeginHTTP1 refused the request for its
// Transfer-Encoding, which Go's server (Traefik's) answers 501 with
// RespondUnsupportedTE's body.
func (x *Exchange) UnsupportedTE() bool { return x.badTE }

// RespondUnsupportedTE answers as Go's server answers a Transfer-Encoding
// it does not support.
func (x *Exchange) RespondUnsupportedTE() {
	x.Resp.SetStatusCode(fasthttp.StatusNotImplemented)
	x.Resp.Header.SetContentType("text/plain; charset=utf-8")
	x.Resp.SetBodyRaw(bodyUnsupportedTE)
}

var bodyUnsupportedTE = []byte("Unsupported transfer encoding")

// NotFound answers 404 as Go's NotFoundHandler.
func (x *Exchange) NotFound() { x.Respond(fasthttp.StatusNotFound, BodyNotFound) }

// RespondStatusText answers as Traefik's reverse proxy answers a server's
// failure (pkg/proxy/httputil ErrorHandler): the status, then its text as
// the body, and no other header.
func (x *Exchange) RespondStatusText(status int, body []byte) {
	r := x.Resp
	r.SetStatusCode(status)
	r.Header.SetNoDefaultContentType(true)
	r.SetBodyRaw(body)
}
