package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// statefulBackend serves what the stateful middlewares' tests need: /slow
// answers after ?ms, /stream writes a part, waits ?ms, writes the rest,
// /upgrade switches to an echo of lines.
func statefulBackend(w http.ResponseWriter, r *http.Request) {
	var ms int
	fmt.Sscanf(r.URL.Query().Get("ms"), "%d", &ms)
	switch r.URL.Path {
	case "/slow":
		time.Sleep(time.Duration(ms) * time.Millisecond)
		io.WriteString(w, "slow done")
	case "/stream":
		io.WriteString(w, "part1 ")
		w.(http.Flusher).Flush()
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "part2")
	case "/upgrade":
		c, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			brw.WriteString("echo: " + line)
			brw.Flush()
		}
	default:
		io.WriteString(w, "ok")
	}
}

// TestBinaryInFlightReq: amount 1 per host. A second request while one
// is in flight is 429 "max connections reached: 1", over HTTP/1.1 and
// h2c; the slot is held until the answer has been streamed to its end,
// released when the client goes mid-stream, held for an upgraded
// connection's life and released when it closes, and released after an
// upstream error.
func TestBinaryInFlightReq(t *testing.T) {
	port := namedBackendFunc(t, "127.0.0.2", statefulBackend)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("back", port, "127.0.0.2")+"---\n"+
		mwObject("one", "{inFlightReq: {amount: 1}}")+
		"apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: fl, namespace: e2e}\nspec:\n  routes:\n"+
		"  - match: Host(`fl.example`)\n    middlewares: [{name: one}]\n    services: [{name: back, port: 80}]\n"+
		"  - match: Host(`down.example`)\n    middlewares: [{name: one}]\n    services: [{name: nowhere, port: 80}]\n---\n"+
		manifests("nowhere", freePort(t), "127.0.0.2"))
	p := startSluice(t, dir)
	h1 := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	h2c := &http.Client{Timeout: 10 * time.Second, Transport: &http2.Transport{AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, n, a string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, n, a)
		}}}
	get := func(c *http.Client, host, path string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+p.addr+path, nil)
		req.Host = host
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s%s: %v", host, path, err)
		}
		defer resp.Body.Close()
		b := readBody(t, resp)
		return resp.StatusCode, string(b)
	}
	eventually := func(what string, c *http.Client) {
		t.Helper()
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if code, _ := get(c, "fl.example", "/"); code == 200 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the slot was never released", what)
			}
		}
	}
	for _, c := range []struct {
		name string
		cl   *http.Client
	}{{"HTTP/1.1", h1}, {"h2c", h2c}} {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); get(c.cl, "fl.example", "/slow?ms=400") }()
		time.Sleep(150 * time.Millisecond)
		if code, body := get(c.cl, "fl.example", "/"); code != 429 || body != "max connections reached: 1" {
			t.Fatalf("%s: second request in flight: %d %q", c.name, code, body)
		}
		wg.Wait()
		if code, _ := get(c.cl, "fl.example", "/"); code != 200 {
			t.Fatalf("%s: after the first ended: %d", c.name, code)
		}

		// Streamed: the handler returns with the headers; the slot is
		// held until the body's end (a second away: a loaded CI machine
		// once took the 400 ms it was).
		req, _ := http.NewRequest("GET", "http://"+p.addr+"/stream?ms=1000", nil)
		req.Host = "fl.example"
		resp, err := c.cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if code, _ := get(c.cl, "fl.example", "/"); code != 429 {
			t.Fatalf("%s: during a streamed answer: %d, want 429", c.name, code)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		eventually(c.name+" after a streamed answer", c.cl)
	}

	// A client gone mid-stream.
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /stream?ms=300 HTTP/1.1\r\nHost: fl.example\r\n\r\n")
	br := bufio.NewReader(conn)
	if line, _ := br.ReadString('\n'); !strings.Contains(line, "200") {
		t.Fatalf("stream: %q", line)
	}
	conn.Close()
	eventually("a client gone mid-stream", h1)

	// An upgraded connection holds the slot until it closes.
	up := openTunnel(t, p.addr, "GET /upgrade HTTP/1.1\r\nHost: fl.example\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	if code, _ := get(h1, "fl.example", "/"); code != 429 {
		t.Fatalf("during an upgraded connection: %d, want 429", code)
	}
	up.Close()
	eventually("an upgraded connection closed", h1)

	// An upstream error releases too (another host: its own slot).
	for i := 0; i < 3; i++ {
		if code, _ := get(h1, "down.example", "/"); code != 502 {
			t.Fatalf("down: %d, want 502 each time", code)
		}
	}
}

// TestBinaryRateLimit: average 2 per second, burst 2: two requests pass,
// the third waits or is refused 429 with Retry-After and X-Retry-In, as
// Traefik's limiter decides; sources are told apart by a header; the
// state survives a reload that leaves the Middleware unchanged and is
// reset by one that changes it. HTTP/1.1 and h2c answer alike.
func TestBinaryRateLimit(t *testing.T) {
	port := namedBackendFunc(t, "127.0.0.2", statefulBackend)
	dir := t.TempDir()
	objects := func(average int) string {
		return manifests("back", port, "127.0.0.2") + "---\n" +
			mwObject("rl", fmt.Sprintf("{rateLimit: {average: %d, period: 10s, burst: 2, sourceCriterion: {requestHeaderName: X-Key}}}", average)) +
			"apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: rl, namespace: e2e}\nspec:\n  routes:\n" +
			"  - match: Host(`rl.example`)\n    middlewares: [{name: rl}]\n    services: [{name: back, port: 80}]\n"
	}
	write(t, filepath.Join(dir, "all.yaml"), objects(1))
	p := startSluice(t, dir)
	h2c := &http.Client{Timeout: 10 * time.Second, Transport: &http2.Transport{AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, n, a string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, n, a)
		}}}
	get := func(c *http.Client, key string) *http.Response {
		req, _ := http.NewRequest("GET", "http://"+p.addr+"/", nil)
		req.Host = "rl.example"
		req.Header.Set("X-Key", key)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp
	}
	// One per 10 s: the third request of a key would wait 10 s, over
	// the 500 ms Traefik waits at most.
	for _, c := range []*http.Client{http.DefaultClient, h2c} {
		key := fmt.Sprintf("k-%p", c)
		for i := 0; i < 3; i++ {
			resp := get(c, key)
			if i < 2 && resp.StatusCode != 200 {
				t.Fatalf("request %d of a burst of 2: %d", i, resp.StatusCode)
			}
			if i == 2 && (resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "10" || resp.Header.Get("X-Retry-In") == "") {
				t.Fatalf("third: %d %v", resp.StatusCode, resp.Header)
			}
		}
	}
	if get(http.DefaultClient, "other").StatusCode != 200 {
		t.Fatal("another source was limited")
	}
	// A reload with the Middleware unchanged (another object changes)
	// keeps the buckets; changing the Middleware starts afresh.
	write(t, filepath.Join(dir, "extra.yaml"), mwObject("unrelated", "{addPrefix: {prefix: /x}}"))
	waitPublished(t, p, 2)
	if get(http.DefaultClient, "other").StatusCode != 200 || get(http.DefaultClient, "other").StatusCode != 429 {
		t.Fatal("the buckets did not survive a reload that left the Middleware as it was")
	}
	write(t, filepath.Join(dir, "all.yaml"), objects(100))
	waitPublished(t, p, 3)
	if resp := get(http.DefaultClient, "other"); resp.StatusCode != 200 {
		t.Fatalf("after the Middleware changed: %d, want a fresh bucket", resp.StatusCode)
	}
}

// waitPublished waits until the n-th routing table is published.
func waitPublished(t *testing.T, p *sluiceProc, n int) {
	const s = "routing table published"
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); strings.Count(p.log(), s) < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%q not logged %d times:\n%s", s, n, p.log())
		}
	}
}

// openTunnel sends an upgrade request to addr and checks the 101 and one
// echoed line through the tunnel; the caller closes the connection.
func openTunnel(t *testing.T, addr, request string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, request)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	io.WriteString(c, "one\n")
	if line, _ := br.ReadString('\n'); line != "echo: one\n" {
		t.Fatalf("through the tunnel: %q", line)
	}
	return c
}

// TestBinaryForwardAuth: an HTTPS auth server that requires a client
// certificate, reached with the Middleware's tls block (a CA Secret and a
// client certificate Secret), over each of the four client protocols: a
// 2xx passes the request on with the auth answer's headers, a 403 comes
// back as written; twenty requests reuse a few pooled connections to the
// auth server; an unreachable auth server is a 500 at once, not a hang.
func TestBinaryForwardAuth(t *testing.T) {
	ca := newTestCA(t, "auth CA")
	srvCert, srvKey := ca.issue(t, "auth", "127.0.0.3")
	cliCert, cliKey := ca.issue(t, "sluice", "sluice")
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	ln, err := net.Listen("tcp4", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	auth := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || r.Header.Get("X-Forwarded-Uri") != "/private?x=1" {
			w.WriteHeader(400)
			return
		}
		if r.Header.Get("Authorization") != "Bearer good" {
			w.Header().Set("X-Reason", "bad token")
			w.WriteHeader(403)
			io.WriteString(w, "forbidden by auth")
			return
		}
		w.Header().Set("X-User", "alice")
	}), ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}, TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool}}
	go auth.ServeTLS(ln, "", "")
	t.Cleanup(func() { auth.Close() })
	caSecret := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: auth-ca, namespace: e2e}\ndata: {ca.crt: %s}\n---\n",
		base64.StdEncoding.EncodeToString(ca.pem))
	f := newMWFixture(t, caSecret+tlsSecret("auth-client", cliCert, cliKey)+
		mwObject("fa", fmt.Sprintf("{forwardAuth: {address: 'https://%s/check', trustForwardHeader: true, authResponseHeaders: [X-User], "+
			"tls: {caSecret: auth-ca, certSecret: auth-client}}}", ln.Addr()))+
		mwObject("fadown", fmt.Sprintf("{forwardAuth: {address: 'http://127.0.0.3:%d/check'}}", freePort(t)))+
		mwRoute("fa", "fa.example", "[{name: fa}]")+mwRoute("fadown", "down.example", "[{name: fadown}]"))
	var cases []mwCase
	for i := 0; i < 5; i++ {
		cases = append(cases, mwCase{name: "allowed", host: "fa.example", path: "/private?x=1", header: map[string]string{"Authorization": "Bearer good"},
			status: 200, uri: "/private?x=1", seen: map[string]string{"X-User": "alice"}})
	}
	cases = append(cases,
		mwCase{name: "refused", host: "fa.example", path: "/private?x=1", header: map[string]string{"Authorization": "Bearer bad"},
			status: 403, respHeader: map[string]string{"X-Reason": "bad token"}, respBody: "forbidden by auth"},
		mwCase{name: "auth server down", host: "down.example", path: "/", status: 500})
	start := time.Now()
	f.run(t, cases)
	if n := conns.Load(); n > 4 {
		t.Errorf("%d connections to the auth server for 24 checks: not pooled", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the checks took %v", d)
	}
}

// TestBinaryRetry: one of two servers refusing connections costs a retry,
// never the client's answer (HTTP/1.1, h2c, a POST with a body); a server
// that answers 503 twice then 200 is tried three times, the body sent
// each time, waiting the backoff between tries; a server that reads the
// request and drops the connection is not tried again (the request was
// sent), nor is a 503 to a POST.
func TestBinaryRetry(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	port := namedBackendFunc(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits[r.URL.Path]++
		n := hits[r.URL.Path]
		mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/flaky") && n <= 2:
			w.WriteHeader(503)
		case r.URL.Path == "/drop":
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
		case r.URL.Path == "/always503":
			w.WriteHeader(503)
		default:
			fmt.Fprintf(w, "served %s try %d body %q", r.URL.Path, n, body)
		}
	})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("back", port, "127.0.0.2")+"---\n"+
		serviceYAML("half", "http", 80, port, `[{addresses: ["127.0.0.2"]}, {addresses: ["127.0.0.3"]}]`)+"---\n"+
		mwObject("re", "{retry: {attempts: 3, initialInterval: 50ms, status: ['503']}}")+
		"apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: re, namespace: e2e}\nspec:\n  routes:\n"+
		"  - match: Host(`re.example`)\n    middlewares: [{name: re}]\n    services: [{name: back, port: 80}]\n"+
		"  - match: Host(`half.example`)\n    middlewares: [{name: re}]\n    services: [{name: half, port: 80}]\n")
	p := startSluice(t, dir)
	do := func(c *http.Client, method, host, path, body string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
		req.Host = host
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s%s: %v", method, host, path, err)
		}
		defer resp.Body.Close()
		b := readBody(t, resp)
		return resp.StatusCode, string(b)
	}
	// 127.0.0.3 has nothing on the port: every other pick is refused.
	for _, c := range []*http.Client{http.DefaultClient, h2cHTTPClient()} {
		for i := 0; i < 6; i++ {
			if code, body := do(c, "POST", "half.example", "/h", "payload"); code != 200 || !strings.Contains(body, `body "payload"`) {
				t.Fatalf("half-dead service, request %d: %d %q", i, code, body)
			}
		}
	}
	start := time.Now()
	if code, body := do(http.DefaultClient, "PUT", "re.example", "/flaky", "again"); code != 200 || body != `served /flaky try 3 body "again"` {
		t.Fatalf("flaky server: %d %q", code, body)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("three tries in %v: no backoff between them", d)
	}
	if code, _ := do(http.DefaultClient, "GET", "re.example", "/drop", ""); code != 502 {
		t.Fatalf("dropped connection: %d, want 502", code)
	}
	if code, _ := do(http.DefaultClient, "POST", "re.example", "/always503", "x"); code != 503 {
		t.Fatalf("POST answered 503: %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	// /drop: once, or twice when the first went on a reused connection
	// (the transport replays an idempotent request then, as Go's does),
	// never the three tries of the middleware.
	if hits["/drop"] > 2 || hits["/always503"] != 1 || hits["/flaky"] != 3 {
		t.Fatalf("tries per path: %v (want /drop 1 or 2, /always503 1, /flaky 3)", hits)
	}
}

// TestBinaryErrorPages: a server's 503 becomes the page the error service
// serves for /err/503 under the 503, over the four client protocols; a
// status outside the ranges passes; a rewrite changes the status.
func TestBinaryErrorPages(t *testing.T) {
	f := newMWFixture(t, mwObject("ep", "{errors: {status: ['500-599'], statusRewrites: {'502': 500}, service: {name: echo, port: 80}, query: '/err/{status}?from={originalStatus}'}}")+
		mwRoute("ep", "ep.example", "[{name: ep}]"))
	f.run(t, []mwCase{
		{name: "503 replaced", host: "ep.example", path: "/status/503", status: 503, uri: "/err/503?from=503"},
		{name: "502 rewritten", host: "ep.example", path: "/status/502", status: 500, uri: "/err/500?from=502"},
		{name: "a POST's page is a GET", method: "POST", host: "ep.example", path: "/status/500", body: "b", status: 500, uri: "/err/500?from=500"},
		{name: "404 passes", host: "ep.example", path: "/status/404", status: 404, uri: "/status/404"},
	})
}

// TestBinaryCircuitBreaker: a server's 5xx share over half trips the
// breaker: the next requests get the fallback 503 at once, over HTTP/1.1
// and h2c alike, without reaching the server; after the fallback and
// recovery durations (300 ms each, waited for real once) requests are
// served again.
func TestBinaryCircuitBreaker(t *testing.T) {
	var reached atomic.Int32
	port := namedBackendFunc(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		if r.URL.Path == "/fail" {
			w.WriteHeader(500)
		}
	})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("back", port, "127.0.0.2")+"---\n"+
		mwObject("cb", "{circuitBreaker: {expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.5', checkPeriod: 1ms, fallbackDuration: 300ms, recoveryDuration: 300ms}}")+
		"apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: cb, namespace: e2e}\nspec:\n  routes:\n"+
		"  - match: Host(`cb.example`)\n    middlewares: [{name: cb}]\n    services: [{name: back, port: 80}]\n")
	p := startSluice(t, dir)
	get := func(c *http.Client, path string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+p.addr+path, nil)
		req.Host = "cb.example"
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := readBody(t, resp)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(http.DefaultClient, "/fail"); code != 500 {
		t.Fatalf("first: %d", code)
	}
	before := reached.Load()
	for _, c := range []*http.Client{http.DefaultClient, h2cHTTPClient()} {
		if code, body := get(c, "/ok"); code != 503 || body != "Service Unavailable" {
			t.Fatalf("tripped: %d %q", code, body)
		}
	}
	if reached.Load() != before {
		t.Fatal("a request reached the server while the breaker was open")
	}
	// Past the fallback, the first request starts the recovery (oxy's
	// breaker recovers from then, not from the fallback's end), which
	// lets none through at its start; past the recovery, all.
	time.Sleep(400 * time.Millisecond)
	if code, _ := get(http.DefaultClient, "/ok"); code != 503 {
		t.Fatalf("at the start of the recovery: %d", code)
	}
	time.Sleep(350 * time.Millisecond)
	for i := 0; i < 3; i++ {
		if code, _ := get(http.DefaultClient, "/ok"); code != 200 {
			t.Fatalf("after recovery: %d", code)
		}
	}
}

// TestBinaryRetryStickyPassive: a sticky cookie naming a server that
// cannot be reached: the first try fails, the passive health check takes
// the server out, and the retry reaches the live one, whose cookie the
// answer sets; the client never sees the failure.
func TestBinaryRetryStickyPassive(t *testing.T) {
	port := namedBackend(t, "127.0.0.2", "live") // nothing listens on 127.0.0.3 at that port
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("pair", port, "127.0.0.2", "127.0.0.3")+"---\n"+
		mwObject("re", "{retry: {attempts: 2}}")+
		"apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: sp, namespace: e2e}\nspec:\n  routes:\n"+
		"  - match: Host(`sp.example`)\n    middlewares: [{name: re}]\n"+
		"    services: [{name: pair, port: 80, sticky: {cookie: {name: pin}}, passiveHealthCheck: {failureWindow: 30s, maxFailedAttempts: 1}}]\n")
	p := startSluice(t, dir)
	sum := sha256.Sum256([]byte(fmt.Sprintf("http://127.0.0.3:%d", port)))
	dead := hex.EncodeToString(sum[:])[:16]
	sum = sha256.Sum256([]byte(fmt.Sprintf("http://127.0.0.2:%d", port)))
	live := hex.EncodeToString(sum[:])[:16]
	req, _ := http.NewRequest("GET", "http://"+p.addr+"/", nil)
	req.Host = "sp.example"
	req.Header.Set("Cookie", "pin="+dead)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Set-Cookie"), "pin="+live) {
		t.Fatalf("pinned to a dead server: %d, Set-Cookie %q (want pin=%s)", resp.StatusCode, resp.Header.Get("Set-Cookie"), live)
	}
}
