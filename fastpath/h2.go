package fastpath

import (
	"net"
	"net/netip"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/h2"
	"github.com/sluiceproxy/sluice/fastpath/obs"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// h2cPreface is what fasthttp has consumed of an HTTP/2 connection preface
// when it hands the "PRI * HTTP/2.0" request to the handler.
const h2cPreface = "PRI * HTTP/2.0\r\n\r\n"

// isH2CPreface: the connection opened with HTTP/2's preface (prior
// knowledge h2c, what gRPC clients send on plain entry points).
func isH2CPreface(ctx *fasthttp.RequestCtx) bool {
	hdr := &ctx.Request.Header
	return string(hdr.Method()) == "PRI" && string(hdr.RequestURI()) == "*"
}

// serveH2C hands the connection, preface restored, to the HTTP/2 server,
// whose streams go through the same pipeline as HTTP/1.1 requests.
// HTTP/1.1 requests never come here, so they pay nothing for it.
func (h *Handler) serveH2C(ctx *fasthttp.RequestCtx) {
	peer := addrPort(ctx.RemoteAddr())
	sock := socketOf(ctx.Conn())
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		_ = c.SetDeadline(time.Time{}) // no reader yet: the wrappers' own state is cleared too
		hc := &h2Conn{c: c, sock: sock, pre: []byte(h2cPreface)}
		defer hc.finish()
		h.h2.ServeConn(hc, func(s *h2.Stream) { h.serveStream(s, peer, nil) })
	})
}

// serveStream is the HTTP/2 front end: each stream becomes an Exchange,
// routed and served as an HTTP/1.1 request is, and the response the
// pipeline left is written to the stream. tls is the connection's TLS,
// nil for h2c.
func (h *Handler) serveStream(s *h2.Stream, peer netip.AddrPort, tls *pipeline.ConnTLS) {
	o := h.begin()
	x := pipeline.Acquire()
	x.TLS, x.Logged = tls, h.cfg.AccessLog != nil
	if x.BeginHTTP2(&s.Request, s, &h.ep, peer.Addr()) {
		upstream.SetInterim(&x.Out, (*h2Interim)(s))
		if !o.start.IsZero() {
			o.note(&x.Out.Header, int(s.Request.ContentLength))
		}
		if h.cfg.Tracer != nil {
			r := &s.Request
			v := reqView{method: r.Method, uri: r.Path, proto: protoHTTP2, host: r.Authority, peer: peer}
			h.traceBegin(x, &v, "2", o.start)
		}
		h.routeH2(x)
	} else {
		o.method = obs.Method(s.Request.Method) // a 400: no header to note
		x.RespondBadTarget(s.Request.Path)
	}
	if !o.start.IsZero() {
		h.observe(x, &o)
		if x.Logged {
			r := &s.Request
			v := reqView{method: r.Method, uri: r.Path, proto: protoHTTP2, host: r.Authority, peer: peer}
			h.logAccess(x, &o, &v)
		}
		if x.Trace != nil {
			h.traceEnd(x)
		}
	}
	s.WriteResponse(x.Resp)
	pipeline.Release(x) // closes a streamed response body
}

// h2Interim relays a server's informational answers (103 Early Hints) to
// the HTTP/2 stream, as Traefik's proxy relays them (upstream.Interim).
// A type of its own, without the stream's Close: fasthttp closes an
// io.Closer among a request's user values when it resets the request.
type h2Interim h2.Stream

func (s *h2Interim) Interim(status int, h *fasthttp.ResponseHeader) {
	(*h2.Stream)(s).WriteInterim(status, h)
}

// routeH2 is route with a panic answered 500, as the HTTP/1.1 front end does.
func (h *Handler) routeH2(x *pipeline.Exchange) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic while handling request", "entryPoint", h.cfg.EntryPoint, "panic", p)
			x.Resp.Reset()
			x.Respond(fasthttp.StatusInternalServerError, pipeline.BodyInternal)
		}
	}()
	h.route(x)
}
