package fastpath

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// TestMiddlewareSeam: middlewares (pipeline.Middleware, built once per
// table, never per request) serve in declared order before the service,
// and a request one answers reaches no server: no balancer turn, no
// sticky cookie. Over HTTP/1.1 and h2c.
func TestMiddlewareSeam(t *testing.T) {
	reg := upstream.NewRegistry(upstream.Options{})
	var servers []service.Server
	for _, name := range []string{"one", "two"} {
		port := namedServer(t, name)
		servers = append(servers, service.Server{URL: "http://" + port, Endpoint: reg.Get("http", port)})
	}
	lb := service.NewLoadBalancerWith("s", true, &service.Sticky{Name: "pin", Path: "/"}, service.WRR, servers)
	var built atomic.Int32
	var order []string
	// deny answers 401 to requests carrying X-Deny; tag edits Out.
	deny := func(next pipeline.Handler) pipeline.Handler {
		built.Add(1)
		order = append(order, "deny")
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			if len(x.Out.Header.Peek("X-Deny")) > 0 {
				x.Respond(401, []byte("denied\n"))
				return
			}
			next.Serve(x)
		})
	}
	tag := func(next pipeline.Handler) pipeline.Handler {
		built.Add(1)
		order = append(order, "tag")
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			x.Out.Header.Set("X-Tag", "1")
			next.Serve(x)
		})
	}
	b := route.NewBuilder([]string{"web"})
	r := &route.Route{Name: "mw", Priority: 1, EntryPoints: []string{"web"}, Target: lb, Handler: pipeline.Chain(lb, deny, tag)}
	b.Add(r, []route.Entry{{HostKind: route.HostExact, HostKey: "m.example", Cand: route.Cand{Lits: []route.Lit{lit(match.Host, "m.example")}}}})
	var tp atomic.Pointer[route.Table]
	tp.Store(b.Build())
	h := NewHandler(&tp, Config{EntryPoint: "web", ServerName: "t"})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(h)
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown() })
	addr := ln.Addr().String()
	if strings.Join(order, ",") != "tag,deny" || built.Load() != 2 {
		t.Fatalf("built %d times in order %v; want each once, the last first (Chain)", built.Load(), order)
	}
	get := func(deny bool) (int, string, string) {
		req := "GET / HTTP/1.1\r\nHost: m.example\r\n"
		if deny {
			req += "X-Deny: 1\r\n"
		}
		st, body, hdr := raw(t, addr, req+"\r\n")
		return st, body, hdr.Get("Set-Cookie")
	}
	_, first, _ := get(false)
	for i := 0; i < 5; i++ {
		if st, body, sc := get(true); st != 401 || body != "denied\n" || sc != "" {
			t.Fatalf("denied request: %d %q Set-Cookie %q", st, body, sc)
		}
	}
	if _, second, _ := get(false); second == first {
		t.Fatalf("the answered requests took balancer turns: %q twice in a row", first)
	}
	if built.Load() != 2 {
		t.Fatalf("middlewares built again while serving (%d)", built.Load())
	}
	// h2c goes through the same chain.
	req, _ := newH2Request(addr, "m.example", map[string]string{"X-Deny": "1"})
	resp, err := h2cClient().Do(req)
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("h2c denied request: %v %v", resp, err)
	}
	resp.Body.Close()
}
