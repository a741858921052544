package fastpath

import (
	"bytes"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/http2"

	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// Config is the per-entry-point configuration of a Handler.
type Config struct {
	EntryPoint string         // name, for logs
	Index      int            // index of the entry point in route.Table
	TrustedIPs []netip.Prefix // peers whose X-Forwarded-* headers are kept
	Insecure   bool           // trust every peer's X-Forwarded-* headers
	KeepPath   bool           // disable sanitizePath (Traefik's default is to sanitize)
	// EncodeQuerySemicolons turns ';' in the query into %3B instead of '&'.
	EncodeQuerySemicolons bool
	// MaxHeaderBytes is the request header limit; 0 means
	// DefaultMaxHeaderBytes (Traefik's 1 MiB).
	MaxHeaderBytes int
	ServerName     string       // X-Forwarded-Server; the hostname if empty
	Health         *Health      // when set, /ping and /ready are answered here before routing
	Logger         *slog.Logger // nil: slog.Default()
}

// Handler serves one entry point from the table behind Table.
type Handler struct {
	table   *atomic.Pointer[route.Table]
	cfg     Config
	log     *slog.Logger
	pool    sync.Pool
	h2      *http2.Server // h2c connections (see serveH2C)
	mirrors chan struct{} // bounds mirror copies in flight

	serverName []byte // cfg.ServerName
}

// NewHandler returns a handler reading the table published in table.
func NewHandler(table *atomic.Pointer[route.Table], cfg Config) *Handler {
	if cfg.ServerName == "" {
		cfg.ServerName, _ = os.Hostname()
	}
	h := &Handler{table: table, cfg: cfg, log: cfg.Logger, h2: &http2.Server{MaxConcurrentStreams: 250},
		mirrors: make(chan struct{}, 256), serverName: []byte(cfg.ServerName)}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.pool.New = func() any { return &state{} }
	return h
}

// state is the per-request scratch space, pooled; it lives for one Serve.
type state struct {
	req   match.Request
	host  []byte
	fwd   []byte // forward path + '?' + query
	rpath []byte
	buf   []byte
	// upgrade is the Upgrade protocol of a Connection: Upgrade request.
	upgrade []byte
	choice  route.Choice
	date    []byte // the last Date header, for the second dateSec
	dateSec int64
	// peer is req.ClientIP as text (X-Forwarded-For, X-Real-Ip): the
	// connection's own copy, or peerBuf.
	peer    []byte
	peerBuf []byte
}

// setPeer sets the client's address, and its text from peerBuf.
func (st *state) setPeer(ip netip.Addr) {
	st.req.ClientIP = ip
	st.peerBuf = ip.AppendTo(st.peerBuf[:0])
	st.peer = st.peerBuf
}

// Serve is the fasthttp.RequestHandler.
func (h *Handler) Serve(ctx *fasthttp.RequestCtx) {
	defer h.recover(ctx)
	st := h.pool.Get().(*state)
	h.serve(ctx, st)
	st.req.Reset()
	st.req.Headers = nil
	h.pool.Put(st)
}

func (h *Handler) recover(ctx *fasthttp.RequestCtx) {
	if p := recover(); p != nil {
		h.log.Error("panic while handling request", "entryPoint", h.cfg.EntryPoint, "panic", p,
			"uri", string(ctx.Request.Header.RequestURI()))
		ctx.Response.Reset()
		respond(ctx, fasthttp.StatusInternalServerError, bodyInternal)
	}
}

func (h *Handler) serve(ctx *fasthttp.RequestCtx, st *state) {
	if isH2CPreface(ctx) {
		h.serveH2C(ctx)
		return
	}
	if h.cfg.Health != nil && h.cfg.Health.serveHealth(ctx) {
		return
	}
	if !h.prepare(ctx, st) {
		respond(ctx, fasthttp.StatusBadRequest, bodyBadRequest)
		return
	}
	t := h.table.Load()
	ix := t.Index(h.cfg.Index)
	var hit route.Hit
	if ix != nil {
		hit = ix.Find(&st.req)
	}
	if hit.Route == nil {
		respondNotFound(ctx)
		return
	}
	ch := &st.choice
	hit.Choose(st.req.ClientIP, &ctx.Request.Header, ch)
	svc, srv := ch.Service, ch.Server
	if srv == nil {
		respond(ctx, fasthttp.StatusServiceUnavailable, bodyNoServer)
		return
	}
	if ch.NMirrors > 0 {
		h.mirror(ctx, st, ch)
	}
	if ch.Failover != nil {
		h.sendFailover(ctx, st, ch)
	} else {
		h.send(ctx, st, svc, srv)
	}
	for _, c := range ch.Set[:ch.NSet] {
		setStickyCookie(&ctx.Response, c.Sticky, c.Value)
	}
}

// send forwards the request to srv the way the request needs: an upgrade,
// net/http for h2c servers, else the fasthttp pool.
func (h *Handler) send(ctx *fasthttp.RequestCtx, st *state, svc *route.Service, srv *route.Server) {
	switch svc.Strategy {
	case route.P2C:
		srv.Begin()
		defer srv.End()
	case route.LeastTime:
		srv.Begin()
		start := time.Now()
		defer func() {
			srv.Observe(time.Since(start))
			srv.End()
		}()
	}
	switch {
	case len(st.upgrade) > 0:
		h.upgrade(ctx, st, svc, srv)
	case srv.Endpoint.Scheme == "h2c":
		h.forwardNetHTTP(ctx, st, svc, srv)
	default:
		h.forward(ctx, st, svc, srv)
	}
}

// setStickyCookie adds the cookie that routes the client's next requests
// to the same server (Traefik writes it on every response that a valid
// cookie did not route).
func setStickyCookie(resp *fasthttp.Response, s *route.Sticky, value string) {
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(s.Name)
	c.SetValue(value)
	c.SetPath(s.Path)
	c.SetDomain(s.Domain)
	c.SetSecure(s.Secure)
	c.SetHTTPOnly(s.HTTPOnly)
	switch {
	case s.MaxAge > 0:
		c.SetMaxAge(s.MaxAge)
	case s.MaxAge < 0:
		c.SetExpire(fasthttp.CookieExpireDelete)
	}
	switch s.SameSite {
	case "none":
		c.SetSameSite(fasthttp.CookieSameSiteNoneMode)
	case "lax":
		c.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	case "strict":
		c.SetSameSite(fasthttp.CookieSameSiteStrictMode)
	}
	resp.Header.SetCookie(c)
}

// prepare computes the request attributes (rules.md 3) and applies the
// pre-routing steps (section 1: fragment, normalize, sanitize, semicolons,
// forwarded headers). It returns false for a 400.
func (h *Handler) prepare(ctx *fasthttp.RequestCtx, st *state) bool {
	hdr := &ctx.Request.Header
	uri := hdr.RequestURI()
	hostHdr := hdr.Host()
	path, authority, abs := splitTarget(uri)
	host := hostHdr
	if abs && len(authority) > 0 {
		hdr.SetHostBytes(authority) // Go: the absolute-form authority is req.Host
		host = hdr.Host()
	}
	if len(hostHdr) == 0 && !abs && hdr.IsHTTP11() {
		return false // HTTP/1.1 without Host
	}
	if !match.ValidHostHeader(host) {
		return false
	}
	query := []byte(nil)
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	var ok bool
	st.fwd, ok = match.AppendForwardPath(st.fwd[:0], path, !h.cfg.KeepPath)
	if !ok {
		return false
	}
	pathLen := len(st.fwd)
	if len(query) > 0 || bytes.IndexByte(uri, '?') >= 0 {
		st.fwd = append(st.fwd, '?')
		for _, c := range query {
			switch {
			case c != ';':
				st.fwd = append(st.fwd, c)
			case h.cfg.EncodeQuerySemicolons:
				st.fwd = append(st.fwd, "%3B"...)
			default:
				st.fwd = append(st.fwd, '&')
			}
		}
	}
	st.rpath = match.AppendRoutingPath(st.rpath[:0], st.fwd[:pathLen])
	st.host = match.AppendCanonicalHost(st.host[:0], host)
	st.req.Host, st.req.Path, st.req.Method = st.host, st.rpath, hdr.Method()
	if pathLen < len(st.fwd) {
		st.req.RawQuery = st.fwd[pathLen+1:]
	}
	if c, ok := ctx.Conn().(*spillConn); ok {
		st.req.ClientIP, st.peer = c.peerOf(ctx)
	} else {
		st.setPeer(peerIP(ctx))
	}
	st.req.Headers = hdr
	h.forwardedHeaders(ctx, st, host)
	return true
}

// splitTarget splits an origin-form or absolute-form request target.
func splitTarget(uri []byte) (path, authority []byte, abs bool) {
	i := bytes.Index(uri, []byte("://"))
	if i <= 0 || bytes.IndexByte(uri[:i], '/') >= 0 || uri[0] == '/' {
		return uri, nil, false
	}
	rest := uri[i+3:]
	end := bytes.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, path = rest[:end], rest[end:]
	if at := bytes.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	return path, authority, true
}

func peerIP(ctx *fasthttp.RequestCtx) netip.Addr {
	if a, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

func (h *Handler) trusted(ip netip.Addr) bool {
	if h.cfg.Insecure {
		return true
	}
	for _, p := range h.cfg.TrustedIPs {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forward sends the request to srv and relays the response.
func (h *Handler) forward(ctx *fasthttp.RequestCtx, st *state, svc *route.Service, srv *route.Server) {
	req, resp := &ctx.Request, &ctx.Response
	closeClient := req.Header.ConnectionClose()
	req.Header.ResetConnectionClose()
	req.SetRequestURIBytes(st.fwd)
	req.UseHostHeader = true
	if srv.Endpoint.Client.IsTLS {
		req.URI().SetSchemeBytes(schemeHTTPS) // the HostClient refuses a request whose scheme differs from its own
	}
	if !svc.PassHostHeader {
		req.Header.SetHost(srv.Endpoint.Addr)
	}
	err := srv.Endpoint.Do(req, resp)
	if err != nil {
		resp.Reset()
		h.upstreamError(ctx, srv, err)
	} else {
		stripResponseHopHeaders(&resp.Header)
		if len(resp.Header.Peek("Date")) == 0 {
			resp.Header.SetCanonical(strDate, st.httpDate(time.Now()))
		}
	}
	resp.Header.ResetConnectionClose()
	if closeClient {
		ctx.SetConnectionClose()
	}
}

const timeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

var strDate = []byte("Date")

// httpDate is now as a Date header value, formatted once a second per
// state.
func (st *state) httpDate(now time.Time) []byte {
	if sec := now.Unix(); sec != st.dateSec || len(st.date) == 0 {
		st.dateSec = sec
		st.date = now.UTC().AppendFormat(st.date[:0], timeFormat)
	}
	return st.date
}

var schemeHTTPS = []byte("https")

// upstreamError answers 504 for a timeout, else 502.
func (h *Handler) upstreamError(ctx *fasthttp.RequestCtx, srv *route.Server, err error) {
	srv.Passive.Fail(time.Now())
	if upstream.IsTimeout(err) {
		respond(ctx, fasthttp.StatusGatewayTimeout, bodyGatewayTimeout)
	} else {
		respond(ctx, fasthttp.StatusBadGateway, bodyBadGateway)
	}
	h.log.Debug("upstream error", "entryPoint", h.cfg.EntryPoint, "server", srv.URL, "error", err)
}

// Resolve runs the pre-routing steps and the lookup on ctx without
// forwarding (for `sluice route`). It returns the route (nil for 404), the
// candidates that were considered in order, and 400, 404 or 200.
func (h *Handler) Resolve(ctx *fasthttp.RequestCtx) (*route.Route, []*route.Cand, int) {
	st := &state{}
	if !h.prepare(ctx, st) {
		return nil, nil, fasthttp.StatusBadRequest
	}
	ix := h.table.Load().Index(h.cfg.Index)
	if ix == nil {
		return nil, nil, fasthttp.StatusNotFound
	}
	cands := ix.Candidates(&st.req)
	r := ix.Lookup(&st.req)
	if r == nil {
		return nil, cands, fasthttp.StatusNotFound
	}
	return r, cands, fasthttp.StatusOK
}
