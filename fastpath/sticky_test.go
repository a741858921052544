package fastpath

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// TestStickySessions through real sockets: a request without the cookie
// is balanced and gets one; with it, every request reaches the same
// server and no new cookie is set; a cookie naming a server that is gone
// is rebalanced and replaced.
func TestStickySessions(t *testing.T) {
	reg := upstream.NewRegistry(upstream.Options{})
	var servers []service.Server
	for _, name := range []string{"one", "two", "three"} {
		port := namedServer(t, name)
		servers = append(servers, service.Server{URL: "http://" + port, Endpoint: reg.Get("http", port)})
	}
	addr, tp := proxy(t, map[string][]service.Server{"s.example": servers}, nil)
	svc := tp.Load().Routes[0].Target.(*service.LoadBalancer)
	svc.Sticky = &service.Sticky{Name: "_sticky", Path: "/", HTTPOnly: true, SameSite: "lax"}

	get := func(cookie string) (body, setCookie string) {
		req := "GET / HTTP/1.1\r\nHost: s.example\r\n"
		if cookie != "" {
			req += "Cookie: other=1; _sticky=" + cookie + "\r\n"
		}
		_, body, h := raw(t, addr, req+"\r\n")
		return body, h.Get("Set-Cookie")
	}
	body, sc := get("")
	if !strings.HasPrefix(sc, "_sticky=") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") || !strings.Contains(sc, "path=/") {
		t.Fatalf("first response Set-Cookie %q", sc)
	}
	value := strings.TrimPrefix(strings.SplitN(sc, ";", 2)[0], "_sticky=")
	for i := 0; i < 10; i++ {
		b, sc2 := get(value)
		if b != body || sc2 != "" {
			t.Fatalf("request %d with the cookie: %q Set-Cookie %q; want %q and no cookie", i, b, sc2, body)
		}
	}
	// The server goes away: the cookie is ignored and replaced.
	var rest []service.Server
	for _, s := range svc.Servers().Servers {
		if s.CookieValue() != value {
			rest = append(rest, service.Server{URL: s.URL, Endpoint: s.Endpoint})
		}
	}
	if len(rest) != 2 {
		t.Fatalf("the cookie %q names none of the servers", value)
	}
	svc.SetServers(rest)
	b, sc3 := get(value)
	if b == body || !strings.HasPrefix(sc3, "_sticky=") || strings.Contains(sc3, value) {
		t.Fatalf("after its server left: %q Set-Cookie %q", b, sc3)
	}
}

// namedServer answers with its name.
func namedServer(t testing.TB, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, name) })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}
