package fastpath

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/accesslog"
	"github.com/sluiceproxy/sluice/fastpath/h2"
	"github.com/sluiceproxy/sluice/fastpath/obs"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/trace"
)

// Config is the per-entry-point configuration of a Handler.
type Config struct {
	EntryPoint string         // name, for logs
	Index      int            // index of the entry point in route.Table
	TrustedIPs []netip.Prefix // peers whose X-Forwarded-* headers are kept
	Insecure   bool           // trust every peer's X-Forwarded-* headers
	KeepPath   bool           // disable sanitizePath (Traefik's default is to sanitize)
	// NotAppendXFF is forwardedHeaders.notAppendXForwardedFor: the client's
	// address is not appended to X-Forwarded-For (none added when absent).
	NotAppendXFF bool
	// KeepConnection is forwardedHeaders.connection: headers the
	// request's Connection may name that still reach the rule and the
	// middlewares, removed before the request is sent.
	KeepConnection []string
	// EncodeQuerySemicolons turns ';' in the query into %3B instead of '&'.
	EncodeQuerySemicolons bool
	// MaxHeaderBytes is the request header limit; 0 means
	// DefaultMaxHeaderBytes (Traefik's 1 MiB).
	MaxHeaderBytes int
	ServerName     string       // X-Forwarded-Server; the hostname if empty
	Health         *Health      // when set, /ping and /ready are answered here before routing
	Logger         *slog.Logger // nil: slog.Default()
	// HandshakeTimeout bounds a TLS handshake; 0: DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// Timeouts limit client connections (nil: DefaultTimeouts, Traefik's).
	Timeouts *Timeouts
	// ProxyProtocol reads PROXY protocol headers (nil: off).
	ProxyProtocol *ProxyProtocol
	// ACMEHTTP01, on the entry point of an ACME resolver's httpChallenge,
	// answers /.well-known/acme-challenge/<token> before any router (as
	// Traefik's challenge router, of the highest priority): the key
	// authorization of token for the request's host, or 404.
	ACMEHTTP01 func(host, token string) (string, bool)
	// Metrics is the entry point's metrics handle (nil: off);
	// MetricsRoutes: the tables carry router or service handles.
	Metrics       *obs.Handle
	MetricsRoutes bool
	// MetricsOff is --entryPoints.<n>.observability.metrics=false: only
	// routers whose observability.metrics is true are counted.
	// MetricsInternals is --metrics.addInternals: the metrics page and
	// ACME's challenge router are counted too.
	MetricsOff, MetricsInternals bool
	// AccessLogInternals is --accesslog.addInternals, as MetricsInternals.
	AccessLogInternals bool
	// API, on the traefik entry point with --api.insecure, answers
	// PathPrefix(`/api`) before any router (Traefik's api router,
	// priority MaxInt-1) and, with Dashboard, every other path (its
	// dashboard router, PathPrefix(`/`) at MaxInt-2): `/` is redirected
	// to /dashboard/, the rest go to API, which serves the dashboard.
	API       pipeline.Handler
	Dashboard bool
	// Tracer is --tracing (nil: off); TracingOff is
	// --entryPoints.<n>.observability.tracing=false; TracingInternals is
	// --tracing.addInternals.
	Tracer                       *trace.Tracer
	TracingOff, TracingInternals bool
	// AccessLog is --accesslog (nil: off); AccessLogOff is
	// --entryPoints.<n>.observability.accessLogs=false.
	AccessLog    *accesslog.Logger
	AccessLogOff bool
	// MetricsPage, on the metrics entry point (unless manualRouting),
	// writes the exposition answering PathPrefix(`/metrics`) before any
	// router, as Traefik's prometheus router (priority MaxInt) does.
	MetricsPage func(io.Writer)
}

// Handler serves one entry point from the table behind Table: both front
// ends (HTTP/1.1, and HTTP/2 with prior knowledge on the same port) fill a
// pipeline.Exchange, look the router up once, and let it serve.
type Handler struct {
	table *atomic.Pointer[route.Table]
	cfg   Config
	ep    pipeline.EntryPoint
	log   *slog.Logger
	h2    *h2.Server // h2c connections (see serveH2C)
	// keepAliveMax is Timeouts.KeepAliveMaxTime (0: none).
	keepAliveMax time.Duration
}

// NewHandler returns a handler reading the table published in table.
func NewHandler(table *atomic.Pointer[route.Table], cfg Config) *Handler {
	if cfg.ServerName == "" {
		cfg.ServerName, _ = os.Hostname()
	}
	t := cfg.timeouts()
	h := &Handler{table: table, cfg: cfg, log: cfg.Logger, keepAliveMax: t.KeepAliveMaxTime,
		h2: &h2.Server{MaxHeaderBytes: cfg.MaxHeaderBytes, MaxConcurrentStreams: uint32(t.MaxConcurrentStreams), IdleTimeout: t.Idle,
			MaxRequests: t.KeepAliveMaxRequests, MaxAge: t.KeepAliveMaxTime}}
	if t.Idle == 0 {
		h.h2.IdleTimeout = noTimeout
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.ep = pipeline.EntryPoint{Name: cfg.EntryPoint, Index: cfg.Index, TrustedIPs: cfg.TrustedIPs, Insecure: cfg.Insecure, NotAppendXFF: cfg.NotAppendXFF,
		KeepConnection: cfg.KeepConnection,
		KeepPath:       cfg.KeepPath, EncodeQuerySemicolons: cfg.EncodeQuerySemicolons, ServerName: []byte(cfg.ServerName), Log: h.log}
	return h
}

// Serve is the fasthttp.RequestHandler: the HTTP/1.1 front end.
func (h *Handler) Serve(ctx *fasthttp.RequestCtx) {
	defer h.recover(ctx)
	if isH2CPreface(ctx) {
		h.serveH2C(ctx)
		return
	}
	if !ctx.Request.Header.IsHTTP11() && !http1Version(ctx.Request.Header.Protocol()) {
		answerVersion(ctx)
		return
	}
	if h.cfg.Health != nil && h.cfg.Health.serveHealth(ctx) {
		return
	}
	o := h.begin()
	if !o.start.IsZero() {
		o.note(&ctx.Request.Header, ctx.Request.Header.ContentLength())
	}
	x := pipeline.Acquire()
	x.Logged = h.cfg.AccessLog != nil
	var client netip.Addr
	var peer []byte
	if c, ok := ctx.Conn().(*spillConn); ok {
		client, peer = c.peerOf(ctx)
		x.TLS = c.tls
	} else {
		client = peerIP(ctx) // peer nil: the Exchange formats it
		x.TLS = tlsOf(ctx.Conn())
	}
	if x.BeginHTTP1(ctx, &h.ep, client, peer) {
		if h.cfg.Tracer != nil {
			v := view1(ctx)
			h.traceBegin(x, &v, protoOf(ctx), o.start)
		}
		h.route(x)
	} else if x.UnsupportedTE() {
		x.RespondUnsupportedTE()
		ctx.SetConnectionClose()
	} else if !x.RespondBadTarget(ctx.Request.Header.RequestURI()) {
		ctx.SetConnectionClose() // as Go's server: after a malformed request, nothing more is read
	}
	if !o.start.IsZero() {
		h.observe(x, &o)
		if x.Logged {
			v := view1(ctx)
			h.logAccess(x, &o, &v)
		}
		if x.Trace != nil {
			h.traceEnd(x)
		}
	}
	if !x.DrainBody(maxDrainedBody) || framingConflict(&ctx.Request.Header) || h.keepAliveExpired(ctx) {
		ctx.SetConnectionClose()
	}
	pipeline.Release(x)
	if !ctx.Request.Header.IsHTTP11() {
		answerHTTP10(ctx)
	}
}

// maxDrainedBody is how much of an unread request body is read and
// dropped after the answer so that the connection stays usable (Go's
// server's maxPostHandlerReadBytes).
const maxDrainedBody = 256 << 10

// route looks the router up in the current table, once, and lets it
// serve: its middlewares, its service, the server choice, the forward. A
// request on a TLS connection is routed among the TLS routers.
func (h *Handler) route(x *pipeline.Exchange) {
	if h.cfg.ACMEHTTP01 != nil && x.TLS == nil && bytes.HasPrefix(x.Req.Path, acmeChallengePath) {
		h.internal(x)
		h.acmeChallenge(x)
		return
	}
	if h.cfg.MetricsPage != nil && bytes.HasPrefix(x.Req.Path, metricsPath) {
		h.internal(x)
		MetricsHandler(h.cfg.MetricsPage).Serve(x) // Traefik's prometheus router, priority MaxInt
		return
	}
	if h.cfg.API != nil && (h.cfg.Dashboard || bytes.HasPrefix(x.Req.Path, apiPath)) {
		h.internal(x)
		h.serveAPI(x)
		return
	}
	t := h.table.Load()
	if x.TLS != nil {
		t.TLSIndex(h.ep.Index).Serve(x)
		return
	}
	t.Index(h.ep.Index).Serve(x)
}

var acmeChallengePath = []byte("/.well-known/acme-challenge/")

// acmeChallenge is Traefik's ChallengeHTTP handler: the token is the path
// segment after the prefix (one trailing slash allowed); its key
// authorization is the body of a 200; anything else is a 404.
func (h *Handler) acmeChallenge(x *pipeline.Exchange) {
	token := strings.TrimSuffix(string(x.Req.Path[len(acmeChallengePath):]), "/")
	x.Resp.Header.SetNoDefaultContentType(true)
	if v, ok := h.cfg.ACMEHTTP01(string(x.Req.Host), token); ok && token != "" && !strings.Contains(token, "/") {
		x.Resp.SetStatusCode(fasthttp.StatusOK)
		x.Resp.SetBodyString(v)
		return
	}
	x.Resp.SetStatusCode(fasthttp.StatusNotFound)
}

func (h *Handler) recover(ctx *fasthttp.RequestCtx) {
	if p := recover(); p != nil {
		h.log.Error("panic while handling request", "entryPoint", h.cfg.EntryPoint, "panic", p,
			"uri", string(ctx.Request.Header.RequestURI()))
		ctx.Response.Reset()
		ctx.Response.SetStatusCode(fasthttp.StatusInternalServerError)
		ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
		ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
		ctx.Response.SetBodyRaw(pipeline.BodyInternal)
	}
}

func peerIP(ctx *fasthttp.RequestCtx) netip.Addr { return addrIP(ctx.RemoteAddr()) }

// addrPort is a TCP address's IP (unmapped) and port, or the zero value.
func addrPort(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

// addrIP is a TCP address's IP (IPv4-mapped unmapped), or the zero Addr.
func addrIP(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// Resolution is what the pre-routing steps and the lookup make of a
// request, without forwarding it (`sluice route`).
type Resolution struct {
	Status int          // 400, 404, 421 or 200
	Route  *route.Route // nil: 404
	// Child is the child router a parent Route routes the request to, as
	// it arrives (its middlewares could change that); nil if none.
	Child      *route.Route
	Candidates []*route.Cand // the candidates considered, in order
	// Shadow is the router the request would have reached first in
	// shadow, a table of routers left out of the live one, if any.
	Shadow *route.Route
}

// Resolve runs the pre-routing steps and the lookup on ctx without
// forwarding, and looks the request up in shadow too when it is not nil.
// tls is the connection's TLS (nil: a plain request): the TLS routers are
// looked up, and a router of another TLS option is a 421.
func (h *Handler) Resolve(ctx *fasthttp.RequestCtx, shadow *route.Table, tls *pipeline.ConnTLS) Resolution {
	x := pipeline.Acquire()
	defer pipeline.Release(x)
	x.TLS = tls
	client := peerIP(ctx)
	if !x.BeginHTTP1(ctx, &h.ep, client, nil) {
		return Resolution{Status: fasthttp.StatusBadRequest}
	}
	res := Resolution{Status: fasthttp.StatusNotFound}
	index := (*route.Table).Index
	if tls != nil {
		index = (*route.Table).TLSIndex
	}
	if ix := index(shadow, h.ep.Index); ix != nil {
		res.Shadow = ix.Lookup(&x.Req)
	}
	ix := index(h.table.Load(), h.ep.Index)
	if ix == nil {
		return res
	}
	res.Candidates = ix.Candidates(&x.Req)
	if res.Route = ix.Lookup(&x.Req); res.Route != nil {
		res.Status = fasthttp.StatusOK
		if t := res.Route.TLS; t != nil && t.Option != tls.Option {
			res.Status = fasthttp.StatusMisdirectedRequest
		}
		res.Child = res.Route.Child(&x.Req)
	}
	return res
}
