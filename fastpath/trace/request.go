package trace

import (
	"encoding/hex"
	"time"
)

// Span indexes of a Request: Traefik's spans of one request.
const (
	spanEntryPoint = iota
	spanRouter
	spanService
	spanProxy
	numSpans
)

// Request is a traced request's spans in the making: what the front
// end, the router and the load balancer note, copied, so that the
// exporter can build the spans after the request is gone.
type Request struct {
	TraceID      [16]byte
	remoteParent [8]byte
	hasParent    bool
	spanIDs      [numSpans][8]byte
	start, end   time.Time

	// the entry point's server span
	EntryPoint                            string
	Method, Path, Query, Host, UA, Scheme []byte
	Proto                                 string // "1.1", "2"
	ClientIP                              []byte
	ClientPort                            int
	BodySize                              int64
	Status                                int
	reqHeaders, respHeaders               []byte // captured: name, 0, value, 0 ...
	router, rule, routerService, service  string
	routerStart, serviceStart, serviceEnd time.Time
	proxyURL                              string
	proxyStart, proxyEnd                  time.Time
	proxyStatus                           int
	routed, served, proxied               bool
	traceparent                           [55]byte

	// detailed: the router's traceVerbosity is detailed, so the Router,
	// middleware and Service spans are exported too (Traefik's minimal
	// verbosity has the entry point's and the ReverseProxy span only).
	detailed bool
	mws      []mwSpan // middleware spans, in the order they started
	top      int      // the innermost middleware span still open (-1: none)
	svcIn    int      // the middleware span the Service span is inside (-1: the Router's)
}

// mwSpan is one middleware's span (detailed verbosity): Traefik's span
// named by the middleware's type, with its name as an attribute.
type mwSpan struct {
	name, typ  string
	start, end time.Time
	parent     int // index in mws, -1: the Router span
	id         [8]byte
}

func (r *Request) reset() {
	*r = Request{Method: r.Method[:0], Path: r.Path[:0], Query: r.Query[:0], Host: r.Host[:0], UA: r.UA[:0],
		Scheme: r.Scheme[:0], ClientIP: r.ClientIP[:0], reqHeaders: r.reqHeaders[:0], respHeaders: r.respHeaders[:0],
		mws: r.mws[:0], top: -1, svcIn: -1}
}

// Router notes the router that matched, when it starts serving, and
// whether it traces in detail.
func (r *Request) Router(name, rule, service string, detailed bool, now time.Time) {
	r.router, r.rule, r.routerService, r.routerStart, r.routed, r.detailed = name, rule, service, now, true, detailed
}

// Detailed reports whether middleware spans are wanted.
func (r *Request) Detailed() bool { return r.detailed }

// MiddlewareStart opens a middleware's span (inside the innermost one
// open) and returns it for MiddlewareEnd.
func (r *Request) MiddlewareStart(name, typ string, now time.Time) int {
	r.mws = append(r.mws, mwSpan{name: name, typ: typ, start: now, parent: r.top})
	r.top = len(r.mws) - 1
	return r.top
}

// MiddlewareEnd closes span i.
func (r *Request) MiddlewareEnd(i int, now time.Time) {
	r.mws[i].end = now
	r.top = r.mws[i].parent
}

// ServiceStart notes the load balancer that serves, and returns the
// traceparent to send to its server (the ReverseProxy span's). The
// bytes are the Request's: valid until Finish.
func (r *Request) ServiceStart(service, serverURL string, now time.Time) []byte {
	r.service, r.proxyURL, r.serviceStart, r.proxyStart, r.served, r.svcIn = service, serverURL, now, now, true, r.top
	b := r.traceparent[:0]
	b = append(b, "00-"...)
	b = hex.AppendEncode(b, r.TraceID[:])
	b = append(b, '-')
	b = hex.AppendEncode(b, r.spanIDs[spanProxy][:])
	b = append(b, "-01"...)
	return b
}

// ServiceEnd notes the server's answer.
func (r *Request) ServiceEnd(status int, now time.Time) {
	r.proxyStatus, r.proxyEnd, r.serviceEnd, r.proxied = status, now, now, true
}

// CaptureRequestHeader and CaptureResponseHeader keep a header value
// for the captured-headers attributes.
func (r *Request) CaptureRequestHeader(name string, value []byte) {
	r.reqHeaders = append(append(append(append(r.reqHeaders, name...), 0), value...), 0)
}

// CaptureResponseHeader is CaptureRequestHeader for the answer.
func (r *Request) CaptureResponseHeader(name string, value []byte) {
	r.respHeaders = append(append(append(append(r.respHeaders, name...), 0), value...), 0)
}

// Finish ends the request's spans and hands them to the exporter; r
// must not be used afterwards.
func (t *Tracer) Finish(r *Request, status int, now time.Time) {
	r.Status, r.end = status, now
	t.exp.submit(r)
}

// Captured reports the header names to capture (nil: none).
func (t *Tracer) Captured() (req, resp []string) { return t.cfg.CapturedRequest, t.cfg.CapturedResp }

// Discard drops r unexported (its router does not trace).
func (t *Tracer) Discard(r *Request) { t.pool.Put(r) }
