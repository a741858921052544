package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/watch/kubetest"
)

// TestK8sEntryPointOptionsAndV2Rules: the options the manifests tests
// cover, with the objects coming from a real API server instead: rules in
// Traefik v2's syntax (routes[n].syntax, which the CRD schema must keep,
// and --core.defaultRuleSyntax), a PROXY protocol header's client
// address reaching the server as X-Forwarded-For, and readTimeout cutting
// a slowloris (issue 25's test axes); and a route's observability block
// (issue 24's).
func TestK8sEntryPointOptionsAndV2Rules(t *testing.T) {
	kc, c := k8s(t)
	ctx := context.Background()
	ns := randName("axes-")
	h, err := kubetest.NewHost(1)
	must(t, err)
	t.Cleanup(h.Close)
	serveOnHost(t, h, 0, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s xff=%s", r.URL.RequestURI(), r.Header.Get("X-Forwarded-For"))
	})
	must(t, c.Apply(ctx, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n", false))
	must(t, c.Apply(ctx, kubeService(ns, "echo", h.Addr(0)), false))
	must(t, c.Apply(ctx, fmt.Sprintf(`apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: rules, namespace: %s}
spec:
  routes:
  - match: Host(`+"`v2.example`"+`) && PathPrefix(`+"`/item/{id:[0-9]+}`"+`)
    services: [{name: echo, port: 80}]
  - match: Host(`+"`v3.example`"+`) && PathRegexp(`+"`^/item/[0-9]+`"+`)
    syntax: v3
    services: [{name: echo, port: 80}]
  - match: HostHeader(`+"`explicit.example`"+`)
    syntax: v2
    services: [{name: echo, port: 80}]
  - match: Host(`+"`quiet.example`"+`)
    syntax: v3
    services: [{name: echo, port: 80}]
    observability: {accessLogs: false}
`, ns), false))
	accessLog := filepath.Join(t.TempDir(), "access.log")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	runSluice(t, addr, 60*time.Second, "--providers.kubernetesCRD", "--kubeconfig="+kc.Kubeconfig,
		"--providers.kubernetesCRD.namespaces="+ns, "--core.defaultRuleSyntax=v2",
		"--entryPoints.web.proxyProtocol.trustedIPs=127.0.0.1/32", "--entryPoints.web.transport.respondingTimeouts.readTimeout=1s",
		"--accesslog.filepath="+accessLog, "--accesslog.format=json")
	eventuallyWithin(t, 30*time.Second, addr, "v2.example", "/item/42", 200, "/item/42 xff=127.0.0.1")
	for _, tc := range []struct {
		host, path string
		status     int
	}{
		{"v2.example", "/item/42/x", 200}, {"v2.example", "/item/x", 404},
		{"v3.example", "/item/7", 200}, {"V3.example", "/item/y", 404},
		{"explicit.example", "/", 200}, {"quiet.example", "/quiet", 200},
	} {
		if st, body := get(t, addr, tc.host, tc.path); st != tc.status {
			t.Errorf("%s%s: %d %q, want %d", tc.host, tc.path, st, body, tc.status)
		}
	}
	// The route's observability block came through the API server's
	// schema: quiet.example is not logged, the others are.
	var logged string
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b, _ := os.ReadFile(accessLog)
		if logged = string(b); strings.Contains(logged, `"RequestHost":"explicit.example"`) {
			break
		}
	}
	if !strings.Contains(logged, `"RequestHost":"explicit.example"`) || strings.Contains(logged, "quiet.example") {
		t.Errorf("access log (quiet.example has accessLogs: false):\n%s", logged)
	}
	// A PROXY protocol v1 header from a trusted peer: the client it names
	// is the one the server sees.
	conn, err := net.Dial("tcp4", addr)
	must(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(conn, "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\nGET /item/1 HTTP/1.1\r\nHost: v2.example\r\nConnection: close\r\n\r\n")
	b, _ := io.ReadAll(conn)
	if !strings.Contains(string(b), "/item/1 xff=203.0.113.7") {
		t.Errorf("through PROXY protocol the server saw:\n%s", b)
	}
	// Slowloris: half a request line, then nothing; cut at readTimeout.
	slow, err := net.Dial("tcp4", addr)
	must(t, err)
	defer slow.Close()
	fmt.Fprint(slow, "GET /item/1 HTTP/1.1\r\nHost: v2")
	if d := closedWithin(t, slow, 5*time.Second); d > 2500*time.Millisecond {
		t.Errorf("a stalled request held its connection %v with readTimeout=1s", d)
	}
}
