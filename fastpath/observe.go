package fastpath

import (
	"bytes"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/obs"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// observing: some level of metrics is on for this entry point (its own,
// or routers' and services', which any table may carry).
func (h *Handler) observing() bool {
	return h.cfg.Metrics != nil || h.cfg.MetricsRoutes || h.cfg.AccessLog != nil || h.cfg.Tracer != nil
}

// observation is what the front end notes of a request before routing,
// as Traefik's entry point middleware sees it: when it began, Traefik's
// method and protocol values, and the request body's declared size
// (negative: none declared).
type observation struct {
	start         time.Time
	method, proto uint8
	reqBytes      int
}

// begin starts an observation when metrics are on (the zero value: off).
func (h *Handler) begin() observation {
	if !h.observing() {
		return observation{}
	}
	return observation{start: time.Now(), proto: obs.ProtoHTTP}
}

// note reads the request's method, protocol and size from its header.
func (o *observation) note(hd *fasthttp.RequestHeader, size int) {
	o.method, o.proto, o.reqBytes = obs.Method(hd.Method()), protocol(hd), size
}

// bodyBytes is the request body's size as Traefik's metrics and access
// log count it: the bytes its handlers read, none when the answer came
// before anything read the body (pipeline.Exchange.BodyRead); a body of
// no declared length by what went on (pipeline.Exchange.BodyLen).
func (o *observation) bodyBytes(x *pipeline.Exchange) int {
	switch {
	case !x.BodyRead():
		return 0
	case o.reqBytes < 0:
		return int(x.BodyLen())
	}
	return o.reqBytes
}

// observe counts an answered exchange at the entry point, the router and
// the service that served it, as Traefik's metrics middleware does: the
// status (a gRPC call's grpc-status), the time since the start, and the
// body sizes.
func (h *Handler) observe(x *pipeline.Exchange, o *observation) {
	if !x.Metrics.Metered(h.cfg.MetricsOff) {
		return
	}
	code := x.Resp.StatusCode()
	if o.proto == obs.ProtoGRPC || o.proto == obs.ProtoGRPCWeb {
		code = grpcStatus(&x.Resp.Header)
	}
	handles := [3]*obs.Handle{h.cfg.Metrics, x.ObsRouter, x.ObsService}
	for _, m := range handles {
		if m == nil {
			continue
		}
		m.CountHeaders(code, o.method, o.proto, &x.Out.Header) // headerLabels (none: returns at once)
		if x.TLS != nil {
			m.ObserveTLS(x.TLS.State.Version, x.TLS.State.CipherSuite)
		}
	}
	if handles == [3]*obs.Handle{} {
		return
	}
	if x.Resp.IsBodyStream() { // counted when the stream ends: its bytes and whole duration
		s := meteredStreams.Get().(*meteredStream)
		s.handles, s.code, s.method, s.proto, s.start, s.req = handles, code, o.method, o.proto, o.start, o.bodyBytes(x)
		size := x.Resp.Header.ContentLength()
		s.src = upstream.TakeBody(x.Resp)
		x.Resp.SetBodyStream(s, size)
		return
	}
	d, resp := time.Since(o.start), len(x.Resp.Body())
	for _, m := range handles {
		m.Observe(code, o.method, o.proto, d, o.bodyBytes(x), resp) // nil-safe
	}
}

// meteredStream counts a streamed answer's bytes as they are sent and
// observes the request when the stream ends, as Traefik's metrics
// middleware does once its handler (which copies the body) returns; a
// gRPC call's status is then its trailers' grpc-status.
type meteredStream struct {
	watched
	handles       [3]*obs.Handle
	code          int
	method, proto uint8
	start         time.Time
	req           int
}

var meteredStreams = sync.Pool{New: func() any { return new(meteredStream) }}

// Close ends the stream (closed once written or abandoned) and counts it.
func (s *meteredStream) Close() error {
	if s.handover() {
		return nil
	}
	err := s.src.Close()
	d := time.Since(s.start)
	if s.proto == obs.ProtoGRPC || s.proto == obs.ProtoGRPCWeb {
		if v := s.Trailers().Get("Grpc-Status"); v != "" {
			if c, cerr := strconv.Atoi(v); cerr == nil {
				s.code = c
			}
		}
	}
	for _, m := range s.handles {
		m.Observe(s.code, s.method, s.proto, d, s.req, int(s.n))
	}
	*s = meteredStream{}
	meteredStreams.Put(s)
	return err
}

var (
	hdrUpgrade     = []byte("Upgrade")
	hdrAccept      = []byte("Accept")
	hdrGRPCStatus  = []byte("Grpc-Status")
	valWebsocket   = []byte("websocket")
	valEventStream = []byte("text/event-stream")
	valGRPCWeb     = []byte("application/grpc-web")
	valGRPC        = []byte("application/grpc")
)

// protocol is Traefik's getRequestProtocol.
func protocol(hd *fasthttp.RequestHeader) uint8 {
	switch {
	case hd.ConnectionUpgrade() && hasToken(hd.PeekBytes(hdrUpgrade), valWebsocket):
		return obs.ProtoWebsocket
	case hasToken(hd.PeekBytes(hdrAccept), valEventStream):
		return obs.ProtoSSE
	case bytes.HasPrefix(hd.ContentType(), valGRPCWeb):
		return obs.ProtoGRPCWeb
	case bytes.HasPrefix(hd.ContentType(), valGRPC):
		return obs.ProtoGRPC
	}
	return obs.ProtoHTTP
}

// hasToken: a comma list holds v (case-insensitively, trimmed).
func hasToken(list, v []byte) bool {
	for len(list) > 0 {
		item := list
		if i := bytes.IndexByte(list, ','); i >= 0 {
			item, list = list[:i], list[i+1:]
		} else {
			list = nil
		}
		if bytes.EqualFold(bytes.TrimSpace(item), v) {
			return true
		}
	}
	return false
}

// grpcStatus is the answer's grpc-status, or 2 (Unknown) as Traefik's
// grpcStatusCode.
func grpcStatus(hd *fasthttp.ResponseHeader) int {
	v := hd.PeekBytes(hdrGRPCStatus)
	if len(v) == 0 {
		return 2
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' || n > 1000 {
			return 2
		}
		n = n*10 + int(c-'0')
	}
	return n
}

var (
	metricsPath = []byte("/metrics")
	apiPath     = []byte("/api")
)

// serveAPI is Traefik's api and dashboard routers: the dashboard's
// redirect of / to /dashboard/ (its redirectRegex, permanent), the rest
// to api@internal.
func (h *Handler) serveAPI(x *pipeline.Exchange) {
	if h.cfg.Dashboard && string(x.Req.Path) == "/" {
		code := fasthttp.StatusMovedPermanently
		if m := x.Out.Header.Method(); string(m) != fasthttp.MethodGet && string(m) != fasthttp.MethodHead {
			code = fasthttp.StatusPermanentRedirect
		}
		x.Resp.SetStatusCode(code)
		x.Resp.Header.Set("Location", "/dashboard/")
		return
	}
	h.cfg.API.Serve(x)
}

// internal marks x as served by one of Traefik's @internal routers, which
// Traefik meters only with --metrics.addInternals.
func (h *Handler) internal(x *pipeline.Exchange) {
	if !h.cfg.MetricsInternals {
		x.Metrics = obs.Off
	}
	if !h.cfg.AccessLogInternals {
		x.AccessLogs = obs.Off
	}
	if !h.cfg.TracingInternals {
		x.Tracing = obs.Off
	}
}

// MetricsHandler is prometheus@internal: the exposition as a service an
// IngressRoute can route to (manualRouting).
func MetricsHandler(write func(io.Writer)) pipeline.Handler {
	return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
		x.Resp.SetStatusCode(fasthttp.StatusOK)
		x.Resp.Header.SetContentType("text/plain; version=0.0.4; charset=utf-8")
		write(x.Resp.BodyWriter())
	})
}
