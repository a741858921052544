package fastpath

import (
	"bytes"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

var (
	hdrTraceparent = []byte("Traceparent")
	hdrXFProto     = []byte("X-Forwarded-Proto")
	hdrUserAgent   = []byte("User-Agent")
)

// traceBegin starts x's trace when the tracer samples it (after Begin:
// x.Out holds the request as forwarded headers left it). v is the request
// as the client sent it; proto is "1.1" or "2".
func (h *Handler) traceBegin(x *pipeline.Exchange, v *reqView, proto string, start time.Time) {
	t := h.cfg.Tracer
	hd := &x.Out.Header
	r := t.Begin(hd.PeekBytes(hdrTraceparent), start)
	if r == nil {
		return
	}
	path, query := v.uri, []byte(nil)
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	r.EntryPoint, r.Proto, r.ClientPort, r.BodySize = h.cfg.EntryPoint, proto, int(v.peer.Port()), int64(hd.ContentLength())
	r.Method = append(r.Method, v.method...)
	r.Path = append(r.Path, path...)
	r.Query = append(r.Query, query...)
	r.Host = append(r.Host, v.host...)
	r.UA = append(r.UA, hd.PeekBytes(hdrUserAgent)...)
	r.Scheme = append(r.Scheme, hd.PeekBytes(hdrXFProto)...)
	r.ClientIP = v.peer.Addr().AppendTo(r.ClientIP)
	req, _ := t.Captured()
	for _, name := range req {
		if val := hd.Peek(name); len(val) > 0 {
			r.CaptureRequestHeader(name, val)
		}
	}
	x.Trace = r
}

// traceEnd finishes x's trace: exported when its router traces (the
// route's observability.tracing, else the entry point's; internal
// routers only with addInternals), dropped otherwise.
func (h *Handler) traceEnd(x *pipeline.Exchange) {
	r := x.Trace
	x.Trace = nil
	t := h.cfg.Tracer
	if !x.Tracing.Metered(h.cfg.TracingOff) {
		t.Discard(r)
		return
	}
	_, resp := t.Captured()
	for _, name := range resp {
		if val := x.Resp.Header.Peek(name); len(val) > 0 {
			r.CaptureResponseHeader(name, val)
		}
	}
	t.Finish(r, x.Resp.StatusCode(), time.Now())
}

// protoOf is the network.protocol.version of an HTTP/1.x request.
func protoOf(ctx *fasthttp.RequestCtx) string {
	if ctx.Request.Header.IsHTTP11() {
		return "1.1"
	}
	return "1.0"
}
