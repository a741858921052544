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
	"github.com/sluiceproxy/sluice/fastpath/service"
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
func proxy(t testing.TB, routes map[string][]service.Server, passHost map[string]bool) (string, *atomic.Pointer[route.Table]) {
	t.Helper()
	return proxyWith(t, routes, passHost, Config{EntryPoint: "web", ServerName: "sluice-test"})
}

func proxyWith(t testing.TB, routes map[string][]service.Server, passHost map[string]bool, cfg Config) (string, *atomic.Pointer[route.Table]) {
	t.Helper()
	_, addr, tp := startProxy(t, routes, passHost, cfg)
	return addr, tp
}

// startProxy is proxyWith that also returns the server.
func startProxy(t testing.TB, routes map[string][]service.Server, passHost map[string]bool, cfg Config) (*Server, string, *atomic.Pointer[route.Table]) {
	t.Helper()
	b := route.NewBuilder([]string{"web"})
	for host, servers := range routes {
		pass, set := passHost[host]
		lb := service.NewLoadBalancer(host, pass || !set, servers)
		r := &route.Route{Name: host, Priority: 1, EntryPoints: []string{"web"}, Target: lb, Handler: lb}
		b.Add(r, []route.Entry{{HostKind: route.HostExact, HostKey: host, Cand: route.Cand{Lits: []route.Lit{lit(match.Host, host)}}}})
	}
	var tp atomic.Pointer[route.Table]
	tp.Store(b.Build())
	h := NewHandler(&tp, cfg)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(h)
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown() })
	return s, ln.Addr().String(), &tp
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
	addr, _ := proxy(t, map[string][]service.Server{
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
	// Only terminating-but-serving servers left: served rather than 503 (issue 5; Traefik answers 503).
	f("GET / HTTP/1.1\r\nHost: fenced\r\n\r\n", 200, "host=fenced")
	f("GET / HTTP/1.1\r\nHost: dead\r\n\r\n", 502, "Bad Gateway")
	f("GET /a%zz HTTP/1.1\r\nHost: a.example\r\n\r\n", 400, "")
	f("GET / HTTP/1.1\r\n\r\n", 400, "")
	f("GET / HTTP/1.1\r\nHost: a example\r\n\r\n", 400, "")
	// Headers over the limit (1 MiB by default) are refused, not truncated.
	f("GET / HTTP/1.1\r\nHost: a.example\r\nX-Big: "+strings.Repeat("b", 2<<20)+"\r\n\r\n", 431, "")
}

// TestQuerySemicolons: ';' in the query is forwarded as '&' by default and
// as %3B with http.encodeQuerySemicolons (rules.md section 1 step 6).
func TestQuerySemicolons(t *testing.T) {
	reg := upstream.NewRegistry(upstream.Options{})
	be := backend(t)
	routes := map[string][]service.Server{"a.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}}}
	for _, tc := range []struct {
		encode bool
		want   string
	}{{false, "uri=/q?a=1&b=2 "}, {true, "uri=/q?a=1%3Bb=2 "}} {
		addr, _ := proxyWith(t, routes, nil, Config{EntryPoint: "web", EncodeQuerySemicolons: tc.encode})
		if st, body, _ := raw(t, addr, "GET /q?a=1;b=2 HTTP/1.1\r\nHost: a.example\r\n\r\n"); st != 200 || !strings.Contains(body, tc.want) {
			t.Fatalf("encodeQuerySemicolons=%v; got %d %q; want %q", tc.encode, st, body, tc.want)
		}
	}
}

func TestProxyNoInventedHeaders(t *testing.T) {
	reg := upstream.NewRegistry(upstream.Options{})
	be := backend(t)
	addr, _ := proxy(t, map[string][]service.Server{"a.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}}}, nil)
	_, _, h := raw(t, addr, "GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n")
	if h.Get("Server") != "" || len(h.Values("Date")) != 1 {
		t.Fatalf("unexpected headers %v", h)
	}
}

func TestProxyStreamsLargeBodies(t *testing.T) {
	reg := upstream.NewRegistry(upstream.Options{})
	be := backend(t)
	addr, _ := proxy(t, map[string][]service.Server{"a.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}}}, nil)
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

// TestProxyRelaysEventsAsSent: an event stream reaches the client event by
// event; the proxy holds back neither the header nor the first event until
// the upstream body ends.
func TestProxyRelaysEventsAsSent(t *testing.T) {
	next := make(chan struct{})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		<-next
		io.WriteString(w, "data: two\n\n")
	})}
	go srv.Serve(ln)
	defer srv.Close()
	be := ln.Addr().String()
	reg := upstream.NewRegistry(upstream.Options{})
	addr, _ := proxy(t, map[string][]service.Server{"a.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}}}, nil)
	req, _ := http.NewRequest("GET", "http://"+addr+"/events", nil)
	req.Host = "a.example"
	type result struct {
		line string
		br   *bufio.Reader
		err  error
	}
	first := make(chan result, 1)
	go func() { // the header and the first event, or an error
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- result{err: err}
			return
		}
		br := bufio.NewReader(resp.Body)
		line, err := br.ReadString('\n')
		first <- result{line, br, err}
	}()
	var r result
	select {
	case r = <-first:
	case <-time.After(5 * time.Second):
		close(next)
		t.Fatal("the first event was held back until the upstream body ended")
	}
	close(next)
	if r.err != nil || r.line != "data: one\n" {
		t.Fatalf("first event line; got %q, %v; want \"data: one\\n\"", r.line, r.err)
	}
	rest, _ := io.ReadAll(r.br)
	if string(rest) != "\ndata: two\n\n" {
		t.Fatalf("rest of the stream; got %q", rest)
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
