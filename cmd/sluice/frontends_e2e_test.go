package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// seenBackend answers with what it received: its name, method, path and
// query, Host, the forwarded headers and the body. /fail answers 503
// (failover), /status/N answers N.
func seenBackend(t *testing.T, ip, name string, hits *atomic.Int32) int {
	t.Helper()
	return namedBackendFunc(t, ip, func(w http.ResponseWriter, r *http.Request) {
		if hits != nil {
			hits.Add(1)
		}
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/fail" && name == "main" {
			w.WriteHeader(503)
		}
		var code int
		if _, err := fmt.Sscanf(r.URL.Path, "/status/%d", &code); err == nil {
			w.WriteHeader(code)
		}
		fmt.Fprintf(w, "%s %s %s host=%s xff=%s xri=%s xfproto=%s xfhost=%s xfport=%s xfserver=%t body=%q",
			name, r.Method, r.URL.RequestURI(), r.Host, r.Header.Values("X-Forwarded-For"), r.Header.Get("X-Real-Ip"),
			r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Port"),
			r.Header.Get("X-Forwarded-Server") != "", b)
	})
}

// outcome is what a client sees of one request: compared across front ends.
type outcome struct {
	status      int
	body        string
	contentType string
	nosniff     string
	hasDate     bool
	cookieNames string
}

func (o outcome) String() string {
	return fmt.Sprintf("%d %q content-type=%q nosniff=%q date=%t cookies=%s", o.status, o.body, o.contentType, o.nosniff, o.hasDate, o.cookieNames)
}

func do(t *testing.T, c *http.Client, method, addr, host, path, body, cookie string) outcome {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, "http://"+addr+path, rd)
	req.Host = host
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, host, path, err)
	}
	defer resp.Body.Close()
	b := readBody(t, resp)
	var names []string
	for _, ck := range resp.Cookies() {
		names = append(names, ck.Name)
	}
	sort.Strings(names)
	return outcome{status: resp.StatusCode, body: string(b), contentType: resp.Header.Get("Content-Type"),
		nosniff: resp.Header.Get("X-Content-Type-Options"), hasDate: resp.Header.Get("Date") != "", cookieNames: strings.Join(names, ",")}
}

func h2cHTTPClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http2.Transport{AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
}

// TestBinaryFrontEndsAgree: one table of requests, each sent over
// HTTP/1.1 and over HTTP/2 with prior knowledge (h2c) to the real binary,
// must give the same answer: one pipeline serves both. It covers a route
// with one service and with two (the second of weight 0 and the first
// sticky, so that the choice is deterministic), with and without a body, failover (GET and POST),
// mirroring, passHostHeader off, and Sluice's own 404, 502 and 503.
func TestBinaryFrontEndsAgree(t *testing.T) {
	var mirrored atomic.Int32
	pm := seenBackend(t, "127.0.0.2", "main", nil)
	pb := seenBackend(t, "127.0.0.3", "other", nil)
	pf := seenBackend(t, "127.0.0.4", "fallback", nil)
	ps := seenBackend(t, "127.0.0.5", "shadow", &mirrored)
	dead := freePort(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "svc.yaml"), strings.Join([]string{
		manifests("main", pm, "127.0.0.2"), manifests("other", pb, "127.0.0.3"), manifests("fb", pf, "127.0.0.4"),
		manifests("shadow", ps, "127.0.0.5"), manifests("dead", dead, "127.0.0.6"),
		serviceYAML("empty", "http", 80, 80, "[]"),
	}, "---\n"))
	write(t, filepath.Join(dir, "routes.yaml"), `apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: fo, namespace: e2e}
spec:
  failover:
    service: {name: main, port: 80}
    fallback: {name: fb, port: 80}
    errors: {status: ["500-504"]}
---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: mirrored, namespace: e2e}
spec:
  mirroring: {name: main, port: 80, mirrors: [{name: shadow, port: 80, percent: 100}]}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
  - match: Host(`+"`one.example`"+`)
    services: [{name: main, port: 80}]
  - match: Host(`+"`two.example`"+`)
    services:
    - {name: main, port: 80, weight: 1, sticky: {cookie: {name: pin}}}
    - {name: other, port: 80, weight: 0, sticky: {cookie: {name: pin2}}}
  - match: Host(`+"`fo.example`"+`)
    services: [{name: fo, kind: TraefikService}]
  - match: Host(`+"`mirror.example`"+`)
    services: [{name: mirrored, kind: TraefikService}]
  - match: Host(`+"`nopass.example`"+`)
    services: [{name: main, port: 80, passHostHeader: false}]
  - match: Host(`+"`dead.example`"+`)
    services: [{name: dead, port: 80}]
  - match: Host(`+"`empty.example`"+`)
    services: [{name: empty, port: 80}]
`)
	p := startSluice(t, dir, "--providers.kubernetesCRD.allowEmptyServices=true")
	eventually(t, p.addr, "one.example", "/", 200, "main")
	h1, h2 := &http.Client{Timeout: 10 * time.Second}, h2cHTTPClient()
	// The sticky route: take a cookie once, then both front ends carry it.
	first := do(t, h1, "GET", p.addr, "two.example", "/", "", "")
	if first.cookieNames == "" {
		t.Fatalf("two services, sticky: no cookie set: %v", first)
	}
	pinned := "pin=" + cookieValue(t, p.addr, "two.example", "pin")
	for _, tc := range []struct{ method, host, path, body, cookie string }{
		{"GET", "one.example", "/a?x=1", "", ""},
		{"POST", "one.example", "/post", "a body", ""},
		{"HEAD", "one.example", "/head", "", ""},
		{"GET", "two.example", "/pinned", "", pinned},
		{"POST", "two.example", "/pinned", "payload", pinned},
		{"GET", "fo.example", "/fail", "", ""},
		{"HEAD", "fo.example", "/fail", "", ""},
		{"POST", "fo.example", "/fail", "replayed", ""},
		{"GET", "fo.example", "/ok", "", ""},
		{"GET", "mirror.example", "/m", "", ""},
		{"POST", "mirror.example", "/m", "copied", ""},
		{"GET", "nopass.example", "/n", "", ""},
		{"GET", "one.example", "/status/418", "", ""},
		{"GET", "nowhere.example", "/", "", ""},
		{"GET", "dead.example", "/", "", ""},
		{"GET", "empty.example", "/", "", ""},
	} {
		a := do(t, h1, tc.method, p.addr, tc.host, tc.path, tc.body, tc.cookie)
		b := do(t, h2, tc.method, p.addr, tc.host, tc.path, tc.body, tc.cookie)
		a.body = strings.Replace(a.body, "xfport=80", "xfport=PORT", 1) // the client's Host decides it: port-less here
		b.body = strings.Replace(b.body, "xfport=80", "xfport=PORT", 1)
		if a != b {
			t.Errorf("%s %s%s: the front ends differ:\nHTTP/1.1 %v\nHTTP/2   %v", tc.method, tc.host, tc.path, a, b)
		}
		if !a.hasDate {
			t.Errorf("%s %s%s: no Date header: %v", tc.method, tc.host, tc.path, a)
		}
		t.Logf("%s %s%s: %v", tc.method, tc.host, tc.path, a)
	}
	// Mirrors: every request to mirror.example, with a body or not, over
	// either front end, was copied (percent: 100).
	deadline := time.Now().Add(3 * time.Second)
	for mirrored.Load() < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := mirrored.Load(); n != 4 {
		t.Errorf("the mirror got %d of 4 requests (GET and POST, both front ends)", n)
	}
}

// cookieValue takes a sticky cookie from a fresh request to host.
func cookieValue(t *testing.T, addr, host, name string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	req.Host = host
	for i := 0; i < 10; i++ {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == name {
				return c.Value
			}
		}
	}
	t.Fatalf("no %s cookie from %s", name, host)
	return ""
}

// TestBinaryStickyUnderWeightedRoute: a route with several services
// chooses the service by weight, not stickily (as Traefik); when the
// choice lands on a service with sticky.cookie, the request's cookie for
// that service names its server, over HTTP/1.1 and HTTP/2 alike.
func TestBinaryStickyUnderWeightedRoute(t *testing.T) {
	pa := namedBackend(t, "127.0.0.2", "a1")
	sameBackend(t, fmt.Sprintf("127.0.0.3:%d", pa), "a2")
	pb := namedBackend(t, "127.0.0.4", "b")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("a", pa, "127.0.0.2", "127.0.0.3")+"---\n"+manifests("b", pb, "127.0.0.4")+`---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
  - match: Host(`+"`w.example`"+`)
    services:
    - {name: a, port: 80, weight: 1, sticky: {cookie: {name: pin}}}
    - {name: b, port: 80, weight: 1}
`)
	p := startSluice(t, dir)
	eventually(t, p.addr, "w.example", "/", 200, " /")
	for _, c := range []*http.Client{{Timeout: 10 * time.Second}, h2cHTTPClient()} {
		// A cookie naming a2: a's share of the requests all reach a2.
		value := ""
		for i := 0; i < 20 && value == ""; i++ {
			req, _ := http.NewRequest("GET", "http://"+p.addr+"/", nil)
			req.Host = "w.example"
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b := readBody(t, resp)
			resp.Body.Close()
			for _, ck := range resp.Cookies() {
				if ck.Name == "pin" && string(b) == "a2 /" {
					value = ck.Value
				}
			}
		}
		if value == "" {
			t.Fatal("no pin cookie naming a2 in 20 requests")
		}
		seen := map[string]int{}
		for i := 0; i < 20; i++ {
			o := do(t, c, "GET", p.addr, "w.example", "/", "", "pin="+value)
			seen[o.body]++
		}
		if seen["a1 /"] != 0 || seen["a2 /"] == 0 || seen["b /"] == 0 {
			t.Errorf("with a cookie naming a2: %v; want a2 and b, never a1", seen)
		}
	}
}
