package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestBinaryLoadBalancing: through the real binary, the strategies
// (hrw keeps a client on one server, p2c and leasttime use both and
// leasttime favours the fast one), nativeLB (the cluster IP), nodePortLB
// (the Nodes' InternalIPs at the nodePort), and terminating-but-serving
// endpoints taking requests when nothing else is left.
func TestBinaryLoadBalancing(t *testing.T) {
	port := namedBackend(t, "127.0.0.2", "fast")
	sameBackendFunc(t, fmt.Sprintf("127.0.0.3:%d", port), func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond)
		fmt.Fprintf(w, "slow %s", r.URL.RequestURI())
	})
	dir := t.TempDir()
	leaving := "---\n" + serviceYAML("leaving", "http", 80, port,
		"[{addresses: [127.0.0.3], conditions: {ready: false, serving: true, terminating: true}}]")
	route := func(host, svc, opts string) string {
		return fmt.Sprintf("  - match: Host(`%s`)\n    services: [{name: %s, port: 80%s}]\n", host, svc, opts)
	}
	yaml := manifests("pair", port, "127.0.0.2", "127.0.0.3") + leaving +
		fmt.Sprintf(`---
apiVersion: v1
kind: Service
metadata: {name: native, namespace: e2e}
spec: {clusterIP: 127.0.0.2, ports: [{name: http, port: %[1]d}]}
---
apiVersion: v1
kind: Service
metadata: {name: np, namespace: e2e}
spec: {type: NodePort, ports: [{name: http, port: 80, nodePort: %[1]d}]}
---
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 127.0.0.3}]}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
`, port) + route("hrw.example", "pair", ", strategy: hrw") + route("p2c.example", "pair", ", strategy: p2c") +
		route("lt.example", "pair", ", strategy: leasttime") + route("leaving.example", "leaving", "") +
		fmt.Sprintf("  - match: Host(`native.example`)\n    services: [{name: native, port: %d, nativeLB: true}]\n", port) +
		route("np.example", "np", ", nodePortLB: true")
	write(t, filepath.Join(dir, "all.yaml"), yaml)
	p := startSluice(t, dir)
	count := func(host string, n int) map[string]int {
		seen := map[string]int{}
		for i := 0; i < n; i++ {
			st, body := get(t, p.addr, host, "/")
			if st != 200 {
				t.Fatalf("%s: %d %q", host, st, body)
			}
			seen[body]++
		}
		return seen
	}
	if seen := count("hrw.example", 10); len(seen) != 1 {
		t.Errorf("hrw moved one client between servers: %v", seen)
	}
	if seen := count("p2c.example", 20); len(seen) != 2 {
		t.Errorf("p2c used %v", seen)
	}
	if seen := count("lt.example", 30); seen["fast /"] <= seen["slow /"] {
		t.Errorf("leasttime did not favour the fast server: %v", seen)
	}
	if seen := count("leaving.example", 3); seen["slow /"] != 3 {
		t.Errorf("terminating-but-serving endpoint not used when alone: %v", seen)
	}
	if seen := count("native.example", 3); seen["fast /"] != 3 {
		t.Errorf("nativeLB did not use the cluster IP: %v", seen)
	}
	if seen := count("np.example", 3); seen["slow /"] != 3 {
		t.Errorf("nodePortLB did not use the Node's InternalIP: %v", seen)
	}
}
