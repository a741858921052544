package main

import (
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestBinaryMultiLayerRouting: a parent IngressRoute's router (no
// service) routes, after its middlewares, among the routers of the
// IngressRoutes that name it in parentRefs, by their own rules and
// priorities; a request none of them matches is a 404. Over HTTP/1.1 and
// HTTP/2 alike.
func TestBinaryMultiLayerRouting(t *testing.T) {
	pa := namedBackend(t, "127.0.0.2", "admin")
	pu := namedBackend(t, "127.0.0.3", "users")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("admin", pa, "127.0.0.2")+"---\n"+manifests("users", pu, "127.0.0.3")+`---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: api, namespace: e2e}
spec:
  routes:
  - match: Host(`+"`api.example`"+`) && PathPrefix(`+"`/api`"+`)
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: children, namespace: e2e}
spec:
  parentRefs: [{name: api}]
  routes:
  - match: Header(`+"`X-Role`"+`, `+"`admin`"+`)
    services: [{name: admin, port: 80}]
  - match: PathPrefix(`+"`/api/users`"+`)
    services: [{name: users, port: 80}]
`)
	p := startSluice(t, dir)
	eventually(t, p.addr, "api.example", "/api/users/1", 200, "users /api/users/1")
	for _, c := range []*http.Client{{Timeout: 10 * time.Second}, h2cHTTPClient()} {
		for _, tc := range []struct {
			path, role string
			status     int
			body       string
		}{
			{"/api/users/1", "", 200, "users /api/users/1"},
			{"/api/users/1", "admin", 200, "admin /api/users/1"}, // the longer rule first: the Header rule is 25 bytes, the PathPrefix one 24
			{"/api/other", "admin", 200, "admin /api/other"},
			{"/api/other", "", 404, "404 page not found\n"}, // the parent matched, no child did
			{"/elsewhere", "admin", 404, "404 page not found\n"},
		} {
			req, _ := http.NewRequest("GET", "http://"+p.addr+tc.path, nil)
			req.Host = "api.example"
			if tc.role != "" {
				req.Header.Set("X-Role", tc.role)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b := make([]byte, 100)
			n, _ := resp.Body.Read(b)
			resp.Body.Close()
			if resp.StatusCode != tc.status || string(b[:n]) != tc.body {
				t.Errorf("%s X-Role=%q over %s: %d %q; want %d %q", tc.path, tc.role, resp.Proto, resp.StatusCode, b[:n], tc.status, tc.body)
			}
		}
	}
}

// TestBinaryInternalAndQualified: Traefik's @internal services
// (noop@internal: 418; ping@internal with --ping) and qualified
// references (<namespace>-<name>@kubernetescrd) to a TraefikService and,
// with allowCrossNamespace, a ServersTransport.
func TestBinaryInternalAndQualified(t *testing.T) {
	pa := namedBackend(t, "127.0.0.2", "alpha")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("alpha", pa, "127.0.0.2")+`---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: split, namespace: e2e}
spec: {weighted: {services: [{name: alpha, port: 80}]}}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: st, namespace: e2e}
spec: {forwardingTimeouts: {dialTimeout: 5s}}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
  - match: Host(`+"`noop.example`"+`)
    services: [{name: noop@internal, kind: TraefikService}]
  - match: Host(`+"`ping.example`"+`)
    services: [{name: ping@internal, kind: TraefikService}]
  - match: Host(`+"`q.example`"+`)
    services: [{name: e2e-split@kubernetescrd, kind: TraefikService}]
  - match: Host(`+"`st.example`"+`)
    services: [{name: alpha, port: 80, serversTransport: e2e-st@kubernetescrd}]
`)
	p := startSluice(t, dir, "--ping", "--ping.entryPoint=web", "--providers.kubernetesCRD.allowCrossNamespace=true")
	eventually(t, p.addr, "q.example", "/x", 200, "alpha /x")
	eventually(t, p.addr, "st.example", "/y", 200, "alpha /y")
	eventually(t, p.addr, "ping.example", "/anything", 200, "OK")
	if st, body := get(t, p.addr, "noop.example", "/"); st != 418 || body != "" {
		t.Errorf("noop@internal: %d %q; want 418 and no body", st, body)
	}
}

// TestBinaryStaticServersTransport: Traefik's --serversTransport.* is the
// transport of services without a ServersTransport: insecureSkipVerify
// reaches an https server with a self-signed certificate (502 without
// it), rootCAs trusts one by its CA file, and
// forwardingTimeouts.responseHeaderTimeout answers 504 for a silent one.
func TestBinaryStaticServersTransport(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(2 * time.Second)
		}
		fmt.Fprintf(w, "tls %s", r.URL.Path)
	}))
	ln, err := net.Listen("tcp4", "127.0.0.1:0") // httptest's certificate names 127.0.0.1
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.StartTLS()
	t.Cleanup(srv.Close)
	port := ln.Addr().(*net.TCPAddr).Port
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("secure", port, "127.0.0.1")+"---\n"+
		routeYAML("r", "s.example", "{name: secure, port: 80, scheme: https}"))
	for _, tc := range []struct {
		args   []string
		status int
	}{
		{nil, 502},
		{[]string{"--serversTransport.insecureSkipVerify=true"}, 200},
		{[]string{"--serversTransport.rootCAs=" + caFile}, 200},
	} {
		p := startSluice(t, dir, tc.args...)
		if st, body := get(t, p.addr, "s.example", "/x"); st != tc.status {
			t.Errorf("%v: %d %q; want %d", tc.args, st, body, tc.status)
		}
	}
	p := startSluice(t, dir, "--serversTransport.insecureSkipVerify=true", "--serversTransport.forwardingTimeouts.responseHeaderTimeout=300ms")
	start := time.Now()
	if st, _ := get(t, p.addr, "s.example", "/slow"); st != 504 || time.Since(start) > 1500*time.Millisecond {
		t.Errorf("responseHeaderTimeout: %d after %v; want 504 after about 300ms", st, time.Since(start))
	}
}
