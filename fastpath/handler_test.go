package fastpath

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// backend is a real HTTP server on loopback that echoes what it received.
func backend(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			n, _ := io.Copy(io.Discard, r.Body)
			w.Header().Set("X-Got", fmt.Sprint(n))
			w.Write(bytes.Repeat([]byte("x"), 1<<20))
			return
		}
		fmt.Fprintf(w, "uri=%s host=%s xff=%s xri=%s xfh=%s xfp=%s xfport=%s conn=%s foo=%s te=%s",
			r.RequestURI, r.Host, r.Header.Values("X-Forwarded-For"), r.Header.Get("X-Real-Ip"),
			r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Port"),
			r.Header.Get("Connection"), r.Header.Get("Foo"), r.Header.Get("Te"))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func lit(k match.Kind, a string) route.Lit { return route.Lit{M: &match.Matcher{Kind: k, A: a}} }

// proxy starts a Handler on loopback over a hand-built table.
func proxy(t testing.TB, routes map[string][]route.Server, passHost map[string]bool) (string, *atomic.Pointer[route.Table]) {
	t.Helper()
	b := route.NewBuilder([]string{"web"})
	for host, servers := range routes {
		pass, set := passHost[host]
		svc := route.NewService(host, pass || !set, servers)
		r := &route.Route{Name: host, Priority: 1, EntryPoints: []string{"web"}, Targets: []route.Target{{Weight: 1, Service: svc}}}
		b.Add(r, []route.Entry{{HostKind: route.HostExact, HostKey: host, Cand: route.Cand{Lits: []route.Lit{lit(match.Host, host)}}}})
	}
	var tp atomic.Pointer[route.Table]
	tp.Store(b.Build())
	h := NewHandler(&tp, Config{EntryPoint: "web", ServerName: "sluice-test"})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(h)
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown() })
	return ln.Addr().String(), &tp
}

// raw sends a raw request and returns the status line and body.
func raw(t testing.TB, addr, req string) (int, string, http.Header) {
	t.Helper()
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, req)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading response to %q: %v", req, err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func TestProxySemantics(t *testing.T) {
	reg := upstream.NewRegistry(upstream.Options{})
	be := backend(t)
	dead := "127.0.0.1:1" // nothing listens on port 1
	addr, _ := proxy(t, map[string][]route.Server{
		"a.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}},
		"b.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}},
		"none":      nil,
		"dead":      {{URL: "http://" + dead, Endpoint: reg.Get("http", dead)}},
		"fenced":    {{URL: "http://" + be, Endpoint: reg.Get("http", be), Fenced: true}},
	}, map[string]bool{"b.example": false})
	f := func(req string, wantStatus int, wantBody string) {
		t.Helper()
		st, body, _ := raw(t, addr, req)
		if st != wantStatus || !strings.Contains(body, wantBody) {
			t.Fatalf("unexpected response to %q; got %d %q; want %d containing %q", req, st, body, wantStatus, wantBody)
		}
	}
	f("GET / HTTP/1.1\r\nHost: nowhere\r\n\r\n", 404, "404 page not found\n")
	f("GET /x HTTP/1.1\r\nHost: A.Example:8080\r\n\r\n", 200, "uri=/x host=A.Example:8080 ")
	f("GET /x HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 1.2.3.4\r\nX_Real_Ip: 9.9.9.9\r\n\r\n", 200,
		"xff=[127.0.0.1] xri=127.0.0.1 xfh=a.example xfp=http xfport=80")
	f("GET /x HTTP/1.1\r\nHost: b.example\r\n\r\n", 200, "host="+be)
	f("GET /a/../b//c?x=1;y=2 HTTP/1.1\r\nHost: a.example\r\n\r\n", 200, "uri=/b/c?x=1&y=2 ")
	f("GET /%7Eu/%2fz HTTP/1.1\r\nHost: a.example\r\n\r\n", 200, "uri=/~u/%2Fz ")
	f("GET /x HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive, Foo\r\nFoo: bar\r\nTe: trailers, deflate\r\n\r\n", 200, "foo= te=trailers")
	f("GET http://a.example/abs HTTP/1.1\r\nHost: other\r\n\r\n", 200, "uri=/abs host=a.example xff=[127.0.0.1] xri=127.0.0.1 xfh=a.example")
	f("GET / HTTP/1.1\r\nHost: none\r\n\r\n", 503, "no available server")
	f("GET / HTTP/1.1\r\nHost: fenced\r\n\r\n", 503, "no available server")
	f("GET / HTTP/1.1\r\nHost: dead\r\n\r\n", 502, "Bad Gateway")
	f("GET /a%zz HTTP/1.1\r\nHost: a.example\r\n\r\n", 400, "")
	f("GET / HTTP/1.1\r\n\r\n", 400, "")
	f("GET / HTTP/1.1\r\nHost: a example\r\n\r\n", 400, "")
}

func TestProxyNoInventedHeaders(t *testing.T) {
	reg := upstream.NewRegistry(upstream.Options{})
	be := backend(t)
	addr, _ := proxy(t, map[string][]route.Server{"a.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}}}, nil)
	_, _, h := raw(t, addr, "GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n")
	if h.Get("Server") != "" || len(h.Values("Date")) != 1 {
		t.Fatalf("unexpected headers %v", h)
	}
}

func TestProxyStreamsLargeBodies(t *testing.T) {
	reg := upstream.NewRegistry(upstream.Options{})
	be := backend(t)
	addr, _ := proxy(t, map[string][]route.Server{"a.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}}}, nil)
	body := bytes.Repeat([]byte("y"), 5<<20)
	req, _ := http.NewRequest("POST", "http://"+addr+"/big", bytes.NewReader(body))
	req.Host = "a.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Got") != "5242880" || len(got) != 1<<20 {
		t.Fatalf("unexpected large-body response: %d got=%s len=%d", resp.StatusCode, resp.Header.Get("X-Got"), len(got))
	}
}

// TestPanicRecovered: a panic inside a request is answered with 500.
func TestPanicRecovered(t *testing.T) {
	var tp atomic.Pointer[route.Table]
	b := route.NewBuilder([]string{"web"})
	r := &route.Route{Name: "p", EntryPoints: []string{"web"}}                        // no targets: Pick returns nil
	b.Add(r, []route.Entry{{Cand: route.Cand{Tree: &route.Expr{Op: route.ExprAnd}}}}) // nil operands panic
	tp.Store(b.Build())
	h := NewHandler(&tp, Config{})
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, nil)
	ctx.Request.SetRequestURI("/")
	ctx.Request.Header.SetHost("x")
	h.Serve(&ctx)
	if ctx.Response.StatusCode() != 500 {
		t.Fatalf("unexpected status; got %d; want 500", ctx.Response.StatusCode())
	}
}

var _ = netip.Addr{}
