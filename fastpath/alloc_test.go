//go:build !race

package fastpath

import (
	"bufio"
	"bytes"
	"net"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/middleware"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// inmemProxy is a Handler over one route to a fasthttp backend on an
// in-memory listener.
func inmemProxy(tb testing.TB) (*Handler, func()) {
	ln := fasthttputil.NewInmemoryListener()
	return proxyOver(ln, &upstream.Endpoint{Key: "http://backend:80", Addr: "backend:80", Scheme: "http", Client: &fasthttp.HostClient{
		Addr: "backend:80", Dial: func(string) (net.Conn, error) { return ln.Dial() },
		DisablePathNormalizing: true, NoDefaultUserAgentHeader: true, Transport: &upstream.Transport{},
	}})
}

// tcpProxy is inmemProxy with the backend on a loopback TCP socket and the
// endpoint as the proxy makes them, for what only a real socket does
// (net.TCPConn's ReadFrom, the upstream pollconn.Conn).
func tcpProxy(tb testing.TB) (*Handler, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return proxyOver(ln, upstream.NewRegistry(upstream.Options{}).Get("http", ln.Addr().String()))
}

func proxyOver(ln net.Listener, ep *upstream.Endpoint, mws ...pipeline.Middleware) (*Handler, func()) {
	big := bytes.Repeat([]byte("x"), 2*upstream.DefaultBufferLimit)
	be := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/api/big" {
			ctx.SetBody(big) // over the buffer limit: streamed
			return
		}
		ctx.SetBodyString("hello")
	}}
	go be.Serve(ln)
	svc := service.NewLoadBalancer("svc", true, []service.Server{{URL: "http://backend:80", Endpoint: ep}})
	b := route.NewBuilder([]string{"web"})
	var h pipeline.Handler = svc
	if len(mws) > 0 {
		h = pipeline.Chain(svc, mws...)
	}
	r := &route.Route{Name: "r", Priority: 1, EntryPoints: []string{"web"}, Target: svc, Handler: h}
	b.Add(r, []route.Entry{{HostKind: route.HostExact, HostKey: "a.example", PathKind: route.PathPrefix, PathKey: "/api",
		Cand: route.Cand{Lits: []route.Lit{
			{M: &match.Matcher{Kind: match.Host, A: "a.example"}},
			{M: &match.Matcher{Kind: match.PathPrefix, A: "/api"}},
			{M: &match.Matcher{Kind: match.Method, A: "GET"}},
		}}}})
	up := &route.Route{Name: "upload", Priority: 1, EntryPoints: []string{"web"}, Target: svc, Handler: svc}
	b.Add(up, []route.Entry{{HostKind: route.HostExact, HostKey: "a.example", PathKind: route.PathPrefix, PathKey: "/upload",
		Cand: route.Cand{Lits: []route.Lit{
			{M: &match.Matcher{Kind: match.Host, A: "a.example"}},
			{M: &match.Matcher{Kind: match.PathPrefix, A: "/upload"}},
		}}}})
	var tp atomic.Pointer[route.Table]
	tp.Store(b.Build())
	return NewHandler(&tp, Config{EntryPoint: "web", ServerName: "sluice"}), func() { ln.Close() }
}

// inmemRequest returns a request template and a ctx to serve copies of it
// in: serve copies the template into ctx and runs h on it.
func inmemRequest(h *Handler, uri, host string, hdr ...string) (serve func(...func(*fasthttp.Request)) *fasthttp.RequestCtx) {
	var req fasthttp.Request
	req.SetRequestURI(uri)
	req.Header.SetHost(host)
	req.Header.SetMethod("GET")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555}, nil)
	return func(edit ...func(*fasthttp.Request)) *fasthttp.RequestCtx {
		req.CopyTo(&ctx.Request)
		for _, e := range edit {
			e(&ctx.Request)
		}
		ctx.Response.Reset()
		h.Serve(ctx)
		return ctx
	}
}

// zeroAllocs warms f up, then fails t if a run of f allocates.
func zeroAllocs(t *testing.T, what string, runs int, f func()) {
	t.Helper()
	for i := 0; i < 20; i++ {
		f()
	}
	if n := testing.AllocsPerRun(runs, f); n != 0 {
		t.Fatalf("unexpected allocations per %s; got %v; want 0", what, n)
	}
}

// TestProxyZeroAlloc: a whole proxied request through the handler (prepare,
// lookup, balance, header rewrite, forward, relay) allocates nothing.
func TestProxyZeroAlloc(t *testing.T) {
	h, stop := inmemProxy(t)
	defer stop()
	serve := inmemRequest(h, "/api/users?id=1", "a.example", "X-Forwarded-For", "10.0.0.1")
	zeroAllocs(t, "proxied request", 1000, func() {
		ctx := serve()
		if ctx.Response.StatusCode() != 200 || string(ctx.Response.Body()) != "hello" {
			t.Fatalf("unexpected response %d %q", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	})
}

// TestProxyTCPZeroAlloc: the same over a loopback socket, through the
// upstream connections the proxy dials (the held request write and the
// wait without a first read).
func TestProxyTCPZeroAlloc(t *testing.T) {
	h, stop := tcpProxy(t)
	defer stop()
	serve := inmemRequest(h, "/api/users?id=1", "a.example")
	zeroAllocs(t, "proxied request over TCP", 1000, func() {
		ctx := serve()
		if ctx.Response.StatusCode() != 200 || string(ctx.Response.Body()) != "hello" {
			t.Fatalf("unexpected response %d %q", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	})
}

// TestProxyStreamedZeroAlloc: a response body over the buffer limit is
// streamed from the upstream connection to the client without allocating.
func TestProxyStreamedZeroAlloc(t *testing.T) {
	h, stop := inmemProxy(t)
	defer stop()
	serve := inmemRequest(h, "/api/big", "a.example")
	var sink countWriter
	bw := bufio.NewWriter(&sink)
	zeroAllocs(t, "streamed response", 200, func() {
		ctx := serve()
		sink = 0
		if !ctx.Response.IsBodyStream() {
			t.Fatal("a body over the buffer limit was not streamed")
		}
		if err := ctx.Response.Write(bw); err != nil { // as the server relays it
			t.Fatal(err)
		}
		bw.Flush()
		if sink < 2*upstream.DefaultBufferLimit {
			t.Fatalf("relayed %d bytes; want the %d-byte body and its header", sink, 2*upstream.DefaultBufferLimit)
		}
	})
}

// TestProxyStreamedUploadZeroAlloc: a request body too large to buffer is
// streamed to the upstream socket without allocating (net.TCPConn's own
// ReadFrom would allocate 32 KiB per request).
func TestProxyStreamedUploadZeroAlloc(t *testing.T) {
	h, stop := tcpProxy(t)
	defer stop()
	serve := inmemRequest(h, "/upload", "a.example")
	body := bytes.Repeat([]byte("u"), 4*maxBufferedBody)
	var br bytes.Reader
	src := readOnly{&br} // as fasthttp's request stream: no WriteTo
	upload := []func(*fasthttp.Request){func(req *fasthttp.Request) {
		req.Header.SetMethod("POST")
		req.SetBodyStream(src, len(body))
	}}
	zeroAllocs(t, "streamed upload", 200, func() {
		br.Reset(body)
		ctx := serve(upload...)
		if ctx.Response.StatusCode() != 200 || br.Len() != 0 {
			t.Fatalf("status %d with %d body bytes not sent", ctx.Response.StatusCode(), br.Len())
		}
	})
}

type readOnly struct{ r *bytes.Reader }

func (r readOnly) Read(p []byte) (int, error) { return r.r.Read(p) }

type countWriter int

func (w *countWriter) Write(p []byte) (int, error) { *w += countWriter(len(p)); return len(p), nil }

func TestNotFoundZeroAlloc(t *testing.T) {
	h, stop := inmemProxy(t)
	defer stop()
	serve := inmemRequest(h, "/nothing", "b.example")
	zeroAllocs(t, "404", 1000, func() { serve() })
}

// TestTLSProxyZeroAlloc: a request on a TLS connection, once the
// handshake is done, through the TLS routers' index and the 421 check,
// allocates nothing either.
func TestTLSProxyZeroAlloc(t *testing.T) {
	ln := fasthttputil.NewInmemoryListener()
	defer ln.Close()
	be := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("hello") }}
	go be.Serve(ln)
	ep := &upstream.Endpoint{Key: "http://backend:80", Addr: "backend:80", Scheme: "http", Client: &fasthttp.HostClient{
		Addr: "backend:80", Dial: func(string) (net.Conn, error) { return ln.Dial() },
		DisablePathNormalizing: true, NoDefaultUserAgentHeader: true, Transport: &upstream.Transport{},
	}}
	svc := service.NewLoadBalancer("svc", true, []service.Server{{URL: "http://backend:80", Endpoint: ep}})
	b := route.NewBuilder([]string{"web"})
	r := &route.Route{Name: "r", Priority: 1, EntryPoints: []string{"web"}, Target: svc, Handler: svc,
		TLS: &route.TLS{Option: "default", Domains: []string{"a.example"}}}
	b.Add(r, []route.Entry{{HostKind: route.HostExact, HostKey: "a.example", Cand: route.Cand{Lits: []route.Lit{
		{M: &match.Matcher{Kind: match.Host, A: "a.example"}}}}}})
	var tp atomic.Pointer[route.Table]
	tp.Store(b.Build())
	h := NewHandler(&tp, Config{EntryPoint: "web", ServerName: "sluice"})
	conn := &spillConn{Conn: fakeConn{}, tls: &pipeline.ConnTLS{Option: "default", ServerName: "a.example"}}
	var req fasthttp.Request
	req.SetRequestURI("/x")
	req.Header.SetHost("a.example")
	req.Header.SetMethod("GET") // as parsed: fasthttp's Method allocates a default
	ctx := &fasthttp.RequestCtx{}
	ctx.Init2(conn, nil, false)
	zeroAllocs(t, "proxied TLS request", 1000, func() {
		req.CopyTo(&ctx.Request)
		ctx.Response.Reset()
		h.Serve(ctx)
		if ctx.Response.StatusCode() != 200 || string(ctx.Response.Body()) != "hello" {
			t.Fatalf("unexpected response %d %q", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	})
}

// fakeConn is a client connection for handler tests.
type fakeConn struct{ net.Conn }

func (fakeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555} }
func (fakeConn) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443} }

// TestMiddlewareChainZeroAlloc: a typical chain (stripPrefix, headers with
// custom and security headers, a redirectScheme the request is already
// on, ipAllowList) in front of a proxied request allocates nothing.
func TestMiddlewareChainZeroAlloc(t *testing.T) {
	var mws []pipeline.Middleware
	for _, b := range []interface {
		Middleware() (pipeline.Middleware, error)
	}{
		middleware.StripPrefix{Prefixes: []string{"/api/v1"}},
		middleware.Headers{CustomRequestHeaders: map[string]string{"X-Req": "1", "X-Drop": ""}, CustomResponseHeaders: map[string]string{"X-Resp": "1"},
			FrameDeny: true, ContentTypeNosniff: true, BrowserXSSFilter: true, ReferrerPolicy: "same-origin", STSSeconds: new(int64)},
		middleware.RedirectScheme{Scheme: "http"},
		middleware.IPAllowList{SourceRange: []string{"10.0.0.0/8", "127.0.0.0/8"}},
	} {
		mw, err := b.Middleware()
		if err != nil {
			t.Fatal(err)
		}
		mws = append(mws, mw)
	}
	ln := fasthttputil.NewInmemoryListener()
	h, stop := proxyOver(ln, &upstream.Endpoint{Key: "http://backend:80", Addr: "backend:80", Scheme: "http", Client: &fasthttp.HostClient{
		Addr: "backend:80", Dial: func(string) (net.Conn, error) { return ln.Dial() },
		DisablePathNormalizing: true, NoDefaultUserAgentHeader: true, Transport: &upstream.Transport{},
	}}, mws...)
	defer stop()
	serve := inmemRequest(h, "/api/v1/users?id=1", "a.example")
	zeroAllocs(t, "request through a middleware chain", 1000, func() {
		ctx := serve()
		if ctx.Response.StatusCode() != 200 || string(ctx.Response.Body()) != "hello" || string(ctx.Response.Header.Peek("X-Frame-Options")) != "DENY" {
			t.Fatalf("unexpected response %d %q", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	})
}

// TestStatefulMiddlewareZeroAlloc: a request through inFlightReq (its
// slot taken, and given back when the exchange ends), rateLimit (one
// known source's bucket), retry (the request's headers kept for other
// tries, none needed) and circuitBreaker (the answer counted) allocates
// nothing.
func TestStatefulMiddlewareZeroAlloc(t *testing.T) {
	counts := middleware.NewInFlightCounts()
	fl, err := middleware.InFlightReq{Amount: 5}.Middleware(counts)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := middleware.RateLimit{Average: 1 << 40, Burst: 1 << 20}.Middleware(middleware.NewRateLimitState())
	if err != nil {
		t.Fatal(err)
	}
	retry, err := middleware.Retry{Attempts: 3, Status: [][2]int{{503, 503}}, MaxRequestBodyBytes: 2 << 20}.Middleware()
	if err != nil {
		t.Fatal(err)
	}
	cb, err := middleware.CircuitBreaker{Expression: "NetworkErrorRatio() > 0.5 || ResponseCodeRatio(500, 600, 0, 600) > 0.5"}.Middleware(middleware.NewBreakerState())
	if err != nil {
		t.Fatal(err)
	}
	ln := fasthttputil.NewInmemoryListener()
	h, stop := proxyOver(ln, &upstream.Endpoint{Key: "http://backend:80", Addr: "backend:80", Scheme: "http", Client: &fasthttp.HostClient{
		Addr: "backend:80", Dial: func(string) (net.Conn, error) { return ln.Dial() },
		DisablePathNormalizing: true, NoDefaultUserAgentHeader: true, Transport: &upstream.Transport{},
	}}, fl, rl, retry, cb)
	defer stop()
	serve := inmemRequest(h, "/api/x", "a.example")
	zeroAllocs(t, "request through inFlightReq, rateLimit, retry and circuitBreaker", 1000, func() {
		ctx := serve()
		if ctx.Response.StatusCode() != 200 {
			t.Fatalf("unexpected response %d %q", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	})
	if n := counts.Len(); n != 1 {
		t.Fatalf("%d sources in flight after the requests, want the one (at zero)", n)
	}
}
