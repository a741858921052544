package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBinaryStickyAndWebSocket: through the real binary, a sticky cookie
// pins a client to one of two servers (the seed's sticky.cookie fields
// reach Set-Cookie), and a WebSocket connection keeps working across a
// table reload.
func TestBinaryStickyAndWebSocket(t *testing.T) {
	pa := namedBackend(t, "127.0.0.2", "alpha")
	sameBackend(t, fmt.Sprintf("127.0.0.3:%d", pa), "beta") // one slice port for both IPs
	wsPort := echoUpgradeBackend(t, "127.0.0.4")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "svc.yaml"), manifests("ab", pa, "127.0.0.2", "127.0.0.3")+"---\n"+manifests("ws", wsPort, "127.0.0.4"))
	routes := `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
  - match: Host(` + "`s.example`" + `)
    services: [{name: ab, port: 80, sticky: {cookie: {name: pin, httpOnly: true, secure: true, sameSite: strict, maxAge: 120}}}]
  - match: Host(` + "`ws.example`" + `)
    services: [{name: ws, port: 80}]
`
	write(t, filepath.Join(dir, "routes.yaml"), routes)
	p := startSluice(t, dir)
	eventually(t, p.addr, "s.example", "/", 200, " /")

	_, _, sc := request(t, p.addr, "s.example", "")
	for _, want := range []string{"pin=", "max-age=120", "HttpOnly", "secure", "SameSite=Strict", "path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %q", sc, want)
		}
	}
	cookie := strings.SplitN(sc, ";", 2)[0]
	seen := map[string]int{}
	for i := 0; i < 10; i++ {
		_, body := getCookie(t, p.addr, "s.example", "")
		seen[body]++
		_, pinned := getCookie(t, p.addr, "s.example", cookie)
		seen["pinned "+pinned]++
	}
	if seen["alpha /"] == 0 || seen["beta /"] == 0 || len(seen) != 3 {
		t.Errorf("without the cookie both servers should serve, with it one: %v", seen)
	}

	c, err := net.Dial("tcp4", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /chat HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	br := bufio.NewReader(c)
	wsResp, err := http.ReadResponse(br, nil)
	if err != nil || wsResp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", wsResp, err)
	}
	io.WriteString(c, "one\n")
	if line, _ := br.ReadString('\n'); line != "echo: one\n" {
		t.Fatalf("before reload: %q", line)
	}
	// A reload that keeps the route: the connection goes on.
	write(t, filepath.Join(dir, "more.yaml"), routeYAML("more", "more.example", `{name: ab, port: 80}`))
	eventually(t, p.addr, "more.example", "/", 200, " /")
	io.WriteString(c, "two\n")
	if line, _ := br.ReadString('\n'); line != "echo: two\n" {
		t.Fatalf("after reload: %q", line)
	}
}

func getCookie(t *testing.T, addr, host, cookie string) (int, string) {
	t.Helper()
	st, body, _ := request(t, addr, host, cookie)
	return st, body
}

// request sends GET / with an optional Cookie header and returns the
// status, the body and the Set-Cookie header.
func request(t *testing.T, addr, host, cookie string) (int, string, string) {
	t.Helper()
	return send(t, "GET", addr, host, "/", "", cookie)
}

// send sends one request and returns the status, the body and the
// Set-Cookie header.
func send(t *testing.T, method, addr, host, path, body, cookie string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	req.Host = host
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := readBody(t, resp)
	return resp.StatusCode, string(b), resp.Header.Get("Set-Cookie")
}

// sameBackend serves name on an exact address.
func sameBackend(t *testing.T, addr, name string) {
	t.Helper()
	sameBackendFunc(t, addr, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", name, r.URL.RequestURI())
	})
}

// sameBackendFunc serves h on an exact address.
func sameBackendFunc(t *testing.T, addr string, h http.HandlerFunc) {
	t.Helper()
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// echoUpgradeBackend switches to a line echo protocol on any upgrade.
func echoUpgradeBackend(t *testing.T, ip string) int {
	t.Helper()
	return namedBackendFunc(t, ip, func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n", r.Header.Get("Upgrade"))
		brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			brw.WriteString("echo: " + line)
			brw.Flush()
		}
	})
}

// TestBinaryTraefikService: a weighted TraefikService with its own sticky
// cookie, through the real binary: both children serve, the cookie pins,
// and a route to a missing TraefikService is a 404 that leaves the rest.
func TestBinaryTraefikService(t *testing.T) {
	pa := namedBackend(t, "127.0.0.2", "alpha")
	pb := namedBackend(t, "127.0.0.3", "beta")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "svc.yaml"), manifests("alpha", pa, "127.0.0.2")+"---\n"+manifests("beta", pb, "127.0.0.3")+`---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: split, namespace: e2e}
spec:
  weighted:
    services: [{name: alpha, port: 80, weight: 1}, {name: beta, port: 80, weight: 1}]
    sticky: {cookie: {name: tsc}}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
  - match: Host(`+"`ts.example`"+`)
    services: [{name: split, kind: TraefikService}]
  - match: Host(`+"`missing.example`"+`)
    services: [{name: nosuch, kind: TraefikService}]
`)
	p := startSluice(t, dir)
	eventually(t, p.addr, "ts.example", "/", 200, " /")
	eventually(t, p.addr, "missing.example", "/", 404, "404")
	_, first, sc := request(t, p.addr, "ts.example", "")
	cookie := strings.SplitN(sc, ";", 2)[0]
	if !strings.HasPrefix(cookie, "tsc=") {
		t.Fatalf("Set-Cookie %q", sc)
	}
	seen := map[string]bool{}
	for i := 0; i < 6; i++ {
		_, body := getCookie(t, p.addr, "ts.example", "")
		seen[body] = true
		if _, pinned := getCookie(t, p.addr, "ts.example", cookie); pinned != first {
			t.Fatalf("pinned request reached %q, want %q", pinned, first)
		}
	}
	if !seen["alpha /"] || !seen["beta /"] {
		t.Errorf("without the cookie both children should serve: %v", seen)
	}
	waitLog(t, p, time.Second, "traefik service not found: e2e/nosuch")
}

// TestBinaryHealthCheck: an ExternalName service with an active health
// check leaves the rotation when its check fails (503) and comes back
// when it passes; a reload keeps the health state instead of starting the
// server as up again, as Traefik does.
func TestBinaryHealthCheck(t *testing.T) {
	var sick atomic.Bool
	port := namedBackendFunc(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			if sick.Load() {
				time.Sleep(1500 * time.Millisecond) // past the check's timeout
			}
			return
		}
		fmt.Fprint(w, "ext "+r.URL.Path)
	})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "ext.yaml"), fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: ext, namespace: e2e}
spec: {type: ExternalName, externalName: 127.0.0.2, ports: [{port: %d}]}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
  - match: Host(`+"`ext.example`"+`)
    services:
    - name: ext
      port: %d
      healthCheck: {path: /health, interval: 100ms, timeout: 500ms}
`, port, port))
	p := startSluice(t, dir, "--providers.kubernetesCRD.allowExternalNameServices=true")
	eventually(t, p.addr, "ext.example", "/x", 200, "ext /x")
	sick.Store(true)
	eventuallyWithin(t, 3*time.Second, p.addr, "ext.example", "/x", 503, "")
	waitLog(t, p, time.Second, "health check failed; server out of rotation")

	// A reload: a fresh check would count the server up for its first
	// 500 ms probe; the kept state answers 503 at once.
	write(t, filepath.Join(dir, "other.yaml"), routeYAML("other", "other.example", `{name: ext, port: `+fmt.Sprint(port)+`}`))
	eventually(t, p.addr, "other.example", "/y", 200, "ext /y")
	for i := 0; i < 5; i++ {
		if st, body := get(t, p.addr, "ext.example", "/x"); st != 503 {
			t.Fatalf("right after a reload the down server served: %d %q", st, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	sick.Store(false)
	eventuallyWithin(t, 3*time.Second, p.addr, "ext.example", "/x", 200, "ext /x")
	waitLog(t, p, time.Second, "health check passed; server back in rotation")
}

// TestBinaryPassiveHealthCheck: a server that cannot be reached answers
// 502 once, then leaves the rotation for failureWindow, so the next
// requests all reach the live server instead of alternating with 502s.
func TestBinaryPassiveHealthCheck(t *testing.T) {
	port := namedBackend(t, "127.0.0.2", "live") // nothing listens on 127.0.0.3 at that port
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("pair", port, "127.0.0.2", "127.0.0.3")+`---
`+routeYAML("r", "p.example", `{name: pair, port: 80, passiveHealthCheck: {failureWindow: 30s, maxFailedAttempts: 1}}`))
	p := startSluice(t, dir) // listening means the first table is published
	failures := 0
	for i := 0; i < 4; i++ { // the dead server is met within two requests
		if st, _ := get(t, p.addr, "p.example", "/"); st == 502 {
			failures++
		}
	}
	if failures != 1 {
		t.Fatalf("%d 502s in 4 requests; want exactly 1 before the dead server leaves the rotation", failures)
	}
	for i := 0; i < 10; i++ {
		if st, body := get(t, p.addr, "p.example", "/"); st != 200 {
			t.Fatalf("request %d after the failure: %d %q", i, st, body)
		}
	}
	waitLog(t, p, time.Second, "passive health check: server out of rotation")
}

// TestBinaryMirroring: a mirroring TraefikService sends every request to
// the main service and exactly percent of them, body included, to the
// mirror; a slow mirror never slows the answer.
func TestBinaryMirroring(t *testing.T) {
	pa := namedBackend(t, "127.0.0.2", "main")
	var got atomic.Int32
	bodies := make(chan string, 20)
	pm := namedBackendFunc(t, "127.0.0.3", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
		got.Add(1)
		time.Sleep(time.Second) // a slow mirror
	})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("main", pa, "127.0.0.2")+"---\n"+manifests("shadow", pm, "127.0.0.3")+`---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: mirrored, namespace: e2e}
spec:
  mirroring:
    name: main
    port: 80
    mirrors: [{name: shadow, port: 80, percent: 50}]
---
`+routeYAML("r", "m.example", `{name: mirrored, kind: TraefikService}`))
	p := startSluice(t, dir)
	for i := 0; i < 10; i++ {
		start := time.Now()
		st, body, _ := send(t, "POST", p.addr, "m.example", "/in", fmt.Sprintf("payload-%d", i), "")
		if st != 200 || body != "main /in" || time.Since(start) > 500*time.Millisecond {
			t.Fatalf("request %d: %d %q after %v", i, st, body, time.Since(start))
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for got.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if n := got.Load(); n != 5 {
		t.Fatalf("the mirror got %d of 10 requests, want 5 (percent: 50)", n)
	}
	if b := <-bodies; !strings.HasPrefix(b, "payload-") {
		t.Errorf("mirror body %q", b)
	}
}

// TestBinaryFailover: a failover TraefikService replays a request whose
// main answer is in errors.status on the fallback, body included; other
// answers stand; a body over maxRequestBodyBytes is refused (413).
func TestBinaryFailover(t *testing.T) {
	echo := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if name == "main" && r.URL.Path == "/fail" {
				w.WriteHeader(503)
			}
			fmt.Fprintf(w, "%s %s body=%s host=%s", name, r.URL.Path, b, r.Host)
		}
	}
	pm := namedBackendFunc(t, "127.0.0.2", echo("main"))
	pf := namedBackendFunc(t, "127.0.0.3", echo("fallback"))
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("main", pm, "127.0.0.2")+"---\n"+manifests("fb", pf, "127.0.0.3")+`---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: fo, namespace: e2e}
spec:
  failover:
    service: {name: main, port: 80}
    fallback: {name: fb, port: 80, passHostHeader: false}
    errors: {status: ["500-504"], maxRequestBodyBytes: 64}
---
`+routeYAML("r", "fo.example", `{name: fo, kind: TraefikService}`))
	p := startSluice(t, dir)
	post := func(path, body string) (int, string) {
		st, b, _ := send(t, "POST", p.addr, "fo.example", path, body, "")
		return st, b
	}
	if st, body := post("/ok", "x"); st != 200 || body != "main /ok body=x host=fo.example" {
		t.Fatalf("main answer: %d %q", st, body)
	}
	st, body := post("/fail", "payload")
	if st != 200 || !strings.HasPrefix(body, "fallback /fail body=payload host=127.0.0.3:") {
		t.Fatalf("failover: %d %q", st, body)
	}
	if st, _ := post("/ok", strings.Repeat("y", 65)); st != 413 {
		t.Fatalf("a body over maxRequestBodyBytes: %d, want 413", st)
	}
}
