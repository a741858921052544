//go:build !race

package fastpath

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// inmemProxy is a Handler over one route to a fasthttp backend on an
// in-memory listener.
func inmemProxy(tb testing.TB) (*Handler, func()) {
	ln := fasthttputil.NewInmemoryListener()
	be := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("hello") }}
	go be.Serve(ln)
	ep := &upstream.Endpoint{Key: "http://backend:80", Addr: "backend:80", Scheme: "http", Client: &fasthttp.HostClient{
		Addr: "backend:80", Dial: func(string) (net.Conn, error) { return ln.Dial() },
		DisablePathNormalizing: true, NoDefaultUserAgentHeader: true,
	}}
	svc := route.NewService("svc", true, []route.Server{{URL: "http://backend:80", Endpoint: ep}})
	b := route.NewBuilder([]string{"web"})
	r := &route.Route{Name: "r", Priority: 1, EntryPoints: []string{"web"}, Targets: []route.Target{{Weight: 1, Service: svc}}}
	b.Add(r, []route.Entry{{HostKind: route.HostExact, HostKey: "a.example", PathKind: route.PathPrefix, PathKey: "/api",
		Cand: route.Cand{Lits: []route.Lit{
			{M: &match.Matcher{Kind: match.Host, A: "a.example"}},
			{M: &match.Matcher{Kind: match.PathPrefix, A: "/api"}},
			{M: &match.Matcher{Kind: match.Method, A: "GET"}},
		}}}})
	var tp atomic.Pointer[route.Table]
	tp.Store(b.Build())
	return NewHandler(&tp, Config{EntryPoint: "web", ServerName: "sluice"}), func() { ln.Close() }
}

// TestProxyZeroAlloc: a whole proxied request through the handler (prepare,
// lookup, balance, header rewrite, forward, relay) allocates nothing.
func TestProxyZeroAlloc(t *testing.T) {
	h, stop := inmemProxy(t)
	defer stop()
	var req fasthttp.Request
	req.SetRequestURI("/api/users?id=1")
	req.Header.SetHost("a.example")
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	req.Header.SetMethod("GET")
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555}, nil)
	run := func() {
		req.CopyTo(&ctx.Request)
		ctx.Response.Reset()
		h.Serve(&ctx)
		if ctx.Response.StatusCode() != 200 || string(ctx.Response.Body()) != "hello" {
			t.Fatalf("unexpected response %d %q", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
	for i := 0; i < 100; i++ {
		run()
	}
	if n := testing.AllocsPerRun(1000, run); n != 0 {
		t.Fatalf("unexpected allocations per proxied request; got %v; want 0", n)
	}
}

func TestNotFoundZeroAlloc(t *testing.T) {
	h, stop := inmemProxy(t)
	defer stop()
	var req fasthttp.Request
	req.SetRequestURI("/nothing")
	req.Header.SetHost("b.example")
	req.Header.SetMethod("GET")
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555}, nil)
	run := func() {
		req.CopyTo(&ctx.Request)
		ctx.Response.Reset()
		h.Serve(&ctx)
	}
	run()
	if n := testing.AllocsPerRun(1000, run); n != 0 {
		t.Fatalf("unexpected allocations per 404; got %v; want 0", n)
	}
}
