package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBinaryCLI: no arguments print the usage (exit 2), --help every
// option by group, --version the version.
func TestBinaryCLI(t *testing.T) {
	out, err := exec.Command(binary(t)).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "sluice demo") || strings.Contains(string(out), "level=") {
		t.Errorf("no arguments: %v\n%s", err, out)
	}
	out, err = exec.Command(binary(t), "--help").CombinedOutput()
	for _, want := range []string{"Entry points", "--providers.kubernetesCRD.allowCrossNamespace", "--serversTransport.insecureSkipVerify", "--ping"} {
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("--help lacks %q (%v)", want, err)
		}
	}
	out, err = exec.Command(binary(t), "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "sluice ") || !strings.Contains(string(out), "go1.") {
		t.Errorf("--version: %v %q", err, out)
	}
}

// TestBinaryMissingManifests: a manifests directory that does not exist
// is named in the error of check and route; served, it is said once (not
// every poll), and the entry points come up answering 404 from an empty
// table until it appears, then serve it.
func TestBinaryMissingManifests(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	for _, args := range [][]string{{"check", dir}, {"route", "--manifests", dir, "GET", "http://a.example/"}} {
		out, _ := exec.Command(binary(t), args...).CombinedOutput()
		if !strings.Contains(string(out), fmt.Sprintf("manifests directory %q does not exist", dir)) {
			t.Errorf("%s: %s", args[0], out)
		}
	}
	p := startSluice(t, dir)
	if st, body := get(t, p.addr, "a.example", "/"); st != 404 || body != "404 page not found\n" {
		t.Fatalf("without its directory: %d %q; want the empty table's 404", st, body)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := strings.Count(p.log(), "does not exist"); n < 1 || n > 2 {
		t.Errorf("said %d times in 1.5 s; want once (then at a backoff):\n%s", n, p.log())
	}
	pa := namedBackend(t, "127.0.0.2", "alpha")
	mkdir(t, dir)
	write(t, filepath.Join(dir, "all.yaml"), manifests("alpha", pa, "127.0.0.2")+"---\n"+routeYAML("r", "a.example", "{name: alpha, port: 80}"))
	eventuallyWithin(t, 3*time.Second, p.addr, "a.example", "/x", 200, "alpha /x")
}

// TestBinaryRouteExplains: sluice route shows the whole service graph of
// the router it finds (a mirroring TraefikService used to crash it), and
// names a router that would match first but is disabled, with why.
func TestBinaryRouteExplains(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("main", 8080, "10.9.0.1")+"---\n"+manifests("shadow", 8080, "10.9.0.2")+`---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: mirrored, namespace: e2e}
spec:
  mirroring: {name: main, port: 80, mirrors: [{name: shadow, port: 80, percent: 10}]}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
  - match: Host(`+"`m.example`"+`)
    services: [{name: mirrored, kind: TraefikService}]
  - match: Host(`+"`m.example`"+`) && PathPrefix(`+"`/auth`"+`)
    middlewares: [{name: nosuch}]
    services: [{name: main, port: 80}]
`)
	out, err := exec.Command(binary(t), "route", "--manifests", dir, "GET", "http://m.example/x").CombinedOutput()
	for _, want := range []string{"mirroring e2e-mirrored@kubernetescrd", "mirror percent=10", "server http://10.9.0.2:8080", "server http://10.9.0.1:8080"} {
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("route to a mirroring TraefikService lacks %q (%v):\n%s", want, err, out)
		}
	}
	out, _ = exec.Command(binary(t), "route", "--manifests", dir, "GET", "http://m.example/auth/login").CombinedOutput()
	for _, want := range []string{"disabled:", "PathPrefix(`/auth`)", "middleware not found: e2e/nosuch", "router:     e2e-r-"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("route to a disabled router lacks %q:\n%s", want, out)
		}
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestExamplesSayTheirPriorities: a comment in examples/ that gives a
// route's priority ("Priority N") gives the priority the route gets.
func TestExamplesSayTheirPriorities(t *testing.T) {
	data, err := os.ReadFile("../../examples/routes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	checked := 0
	for i, line := range lines {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "# Priority %d", &n); err != nil || i+1 >= len(lines) {
			continue
		}
		rule := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[i+1]), "- match:"))
		if len(rule) != n {
			t.Errorf("examples/routes.yaml:%d says priority %d; the rule %s is %d bytes long", i+1, n, rule, len(rule))
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no priority comment found")
	}
}

// TestBinaryRouteTLS: sluice route --sni (or an https:// target) says
// which certificate and TLS option the handshake gets, whether it fails
// (sniStrict), and a 421 when the Host's router has another option than
// the server name's; sluice check reports an expired certificate.
func TestBinaryRouteTLS(t *testing.T) {
	ca := newTestCA(t, "route CA")
	aCrt, aKey := ca.issue(t, "a.example", "a.example")
	oldCrt, oldKey := ca.issueFor(t, -time.Hour, "old.example", "old.example")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("main", 8080, "10.0.0.1")+"---\n"+tlsSecret("a-cert", aCrt, aKey)+
		tlsSecret("old-cert", oldCrt, oldKey)+`apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata: {name: strict, namespace: e2e}
spec: {sniStrict: true}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: a, namespace: e2e}
spec:
  routes: [{match: Host(`+"`a.example`"+`), services: [{name: main, port: 80}]}]
  tls: {secretName: a-cert}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: s, namespace: e2e}
spec:
  routes: [{match: Host(`+"`s.example`"+`), services: [{name: main, port: 80}]}]
  tls: {options: {name: strict}}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: old, namespace: e2e}
spec:
  routes: [{match: Host(`+"`old.example`"+`), services: [{name: main, port: 80}]}]
  tls: {secretName: old-cert}
`)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"GET", "https://a.example/x"}, []string{"status:     200", `server name "a.example": succeeds`, "certificate Secret e2e/a-cert (a.example)", "option default"}},
		{[]string{"--sni", "a.example", "GET", "http://s.example/"}, []string{"status:     421", "421 Misdirected Request", "e2e-strict@kubernetescrd"}},
		{[]string{"GET", "https://s.example/"}, []string{"refused: no certificate for this name and the option is sniStrict"}},
		{[]string{"GET", "https://other.example/"}, []string{"with the default certificate", "status:     404"}},
		{[]string{"GET", "http://a.example/"}, []string{"status:     404"}},
	} {
		out, _ := exec.Command(binary(t), append([]string{"route", "--manifests", dir}, tc.args...)...).CombinedOutput()
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("route %v: lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
	out, _ := exec.Command(binary(t), "check", dir).CombinedOutput()
	if !strings.Contains(string(out), "the certificate of Secret e2e/old-cert expired") {
		t.Errorf("check does not report the expired certificate:\n%s", out)
	}
}
