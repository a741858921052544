package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the real sluice binary once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, _ := os.MkdirTemp("", "sluice-bin")
		binPath = filepath.Join(dir, "sluice")
		args := []string{"build", "-o", binPath}
		if os.Getenv("SLUICE_RACE") == "1" { // make test-k8s: the binary under test is race-checked
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// namedBackend answers with its name, on a fresh loopback port.
func namedBackend(t *testing.T, ip, name string) int {
	t.Helper()
	return namedBackendFunc(t, ip, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", name, r.URL.RequestURI())
	})
}

// namedBackendFunc serves h on a fresh port of ip.
func namedBackendFunc(t *testing.T, ip string, h http.HandlerFunc) int {
	t.Helper()
	ln, err := net.Listen("tcp4", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// routeYAML is an IngressRoute in namespace e2e with one route, Host(host)
// to services (the YAML inside the list's brackets).
func routeYAML(name, host, services string) string {
	return "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: " + name + ", namespace: e2e}\n" +
		"spec:\n  routes:\n  - match: Host(`" + host + "`)\n    services: [" + services + "]\n"
}

// manifests is a Service (port http/80) and its EndpointSlice: one
// endpoint holding the addresses, at port.
func manifests(svc string, port int, ips ...string) string {
	quoted := make([]string, len(ips))
	for i, ip := range ips {
		quoted[i] = strconv.Quote(ip)
	}
	return serviceYAML(svc, "http", 80, port, "[{addresses: ["+strings.Join(quoted, ", ")+"]}]")
}

// serviceYAML is Service e2e/svc with one port (portName, svcPort) and its
// EndpointSlice at slicePort with endpoints, a YAML flow list.
func serviceYAML(svc, portName string, svcPort, slicePort int, endpoints string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: e2e}
spec: {ports: [{name: %[2]s, port: %[3]d}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: %[1]s, namespace: e2e, labels: {kubernetes.io/service-name: %[1]s}}
ports: [{name: %[2]s, port: %[4]d}]
endpoints: %[5]s
`, svc, portName, svcPort, slicePort, endpoints)
}

type sluiceProc struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
	mu   *sync.Mutex

	stopOnce *sync.Once
}

// stop interrupts the process and waits up to five seconds for it to end
// (then kills it); later calls do nothing.
func (p *sluiceProc) stop() {
	p.stopOnce.Do(func() {
		p.cmd.Process.Signal(os.Interrupt)
		done := make(chan error)
		go func() { done <- p.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
		}
	})
}

func (p *sluiceProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

func startSluice(t *testing.T, dir string, extra ...string) *sluiceProc {
	t.Helper()
	port := freePort(t)
	args := append([]string{"--providers.manifests.directory=" + dir}, extra...)
	return runSluice(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second, args...)
}

// runSluice runs the binary with entry point web on addr and waits until
// it accepts connections there.
func runSluice(t *testing.T, addr string, wait time.Duration, extra ...string) *sluiceProc {
	t.Helper()
	return runSluiceEnv(t, addr, wait, nil, extra...)
}

// runSluiceEnv is runSluice with env added to the process's environment.
func runSluiceEnv(t *testing.T, addr string, wait time.Duration, env []string, extra ...string) *sluiceProc {
	t.Helper()
	return runSluiceUnder(t, addr, wait, env, nil, extra...)
}

// runSluiceUnder is runSluiceEnv with the binary run by a command (nil:
// none), e.g. a shell that lowers a limit first: the command gets the
// binary's path and arguments after its own.
func runSluiceUnder(t *testing.T, addr string, wait time.Duration, env, under []string, extra ...string) *sluiceProc {
	t.Helper()
	args := append(append(slices.Clone(under), binary(t), "--entryPoints.web.address="+addr, "--log.level=debug"), extra...)
	cmd := exec.Command(args[0], args[1:]...)
	for _, e := range os.Environ() { // the tests say which cluster and proxy, never the environment
		if !strings.HasPrefix(e, "KUBECONFIG=") && !strings.HasPrefix(e, "KUBERNETES_SERVICE_") && !isProxyEnv(e) {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	p := &sluiceProc{cmd: cmd, addr: addr, logs: &bytes.Buffer{}, mu: &sync.Mutex{}}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			p.mu.Lock()
			p.logs.WriteString(s.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	p.stopOnce = &sync.Once{}
	t.Cleanup(func() {
		p.stop()
		if strings.Contains(p.log(), "WARNING: DATA RACE") {
			t.Errorf("the race detector reported on the binary:\n%s", p.log())
		}
	})
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp4", p.addr); err == nil {
			c.Close()
			return p
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sluice did not start; logs:\n%s", p.log())
	return nil
}

func get(t *testing.T, addr, host, path string) (int, string) {
	t.Helper()
	st, _, body := getHeader(t, addr, host, path)
	return st, body
}

// getHeader is get with the response's header.
func getHeader(t *testing.T, addr, host, path string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := readBody(t, resp)
	return resp.StatusCode, resp.Header, string(b)
}

// eventually polls until the response matches, for at most one second
// (the hot-reload promise).
func eventually(t *testing.T, addr, host, path string, wantStatus int, wantBody string) {
	t.Helper()
	eventuallyWithin(t, time.Second, addr, host, path, wantStatus, wantBody)
}

func eventuallyWithin(t *testing.T, d time.Duration, addr, host, path string, wantStatus int, wantBody string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		st, body := get(t, addr, host, path)
		if st == wantStatus && strings.Contains(body, wantBody) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s%s: got %d %q; want %d %q within %v", host, path, st, body, wantStatus, wantBody, d)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBinaryServesReloadsAndKeepsLastGood runs the real binary on a
// manifests directory with real backends on distinct loopback addresses.
func TestBinaryServesReloadsAndKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	pa := namedBackend(t, "127.0.0.2", "alpha")
	pb := namedBackend(t, "127.0.0.3", "beta")
	write(t, filepath.Join(dir, "services.yaml"), manifests("alpha", pa, "127.0.0.2")+"---\n"+manifests("beta", pb, "127.0.0.3"))
	write(t, filepath.Join(dir, "routes.yaml"), `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: web, namespace: e2e}
spec:
  routes:
  - match: Host(`+"`a.example`"+`)
    services: [{name: alpha, port: 80}]
  - match: Host(`+"`a.example`"+`) && PathPrefix(`+"`/beta`"+`)
    services: [{name: beta, port: http}]
`)
	p := startSluice(t, dir)
	eventually(t, p.addr, "a.example", "/x", 200, "alpha /x")
	eventually(t, p.addr, "a.example", "/beta/1", 200, "beta /beta/1")
	eventually(t, p.addr, "A.EXAMPLE:80", "/a/../beta/", 200, "beta /beta/")
	eventually(t, p.addr, "b.example", "/", 404, "404 page not found\n")

	// Hot reload: a new route is served within a second.
	write(t, filepath.Join(dir, "more.yml"), routeYAML("more", "b.example", `{name: beta, port: 80}`))
	eventually(t, p.addr, "b.example", "/new", 200, "beta /new")

	// An invalid edit: broken YAML keeps the file's last good objects, and a
	// bad rule disables only its route; both are reported.
	write(t, filepath.Join(dir, "more.yml"), "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: more\n")
	time.Sleep(600 * time.Millisecond)
	eventually(t, p.addr, "b.example", "/still", 200, "beta /still")
	write(t, filepath.Join(dir, "routes.yaml"), `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: web, namespace: e2e}
spec:
  routes:
  - match: Host(`+"`a.example`"+`) && pathPrefix(`+"`/x`"+`)
    services: [{name: alpha, port: 80}]
  - match: Host(`+"`a.example`"+`) && PathPrefix(`+"`/beta`"+`)
    services: [{name: beta, port: http}]
`)
	eventually(t, p.addr, "a.example", "/x", 404, "404")
	eventually(t, p.addr, "a.example", "/beta", 200, "beta /beta")
	// Diagnostics are logged just after the table is published.
	waitLog(t, p, time.Second, "unsupported function: pathPrefix", "spec.routes[0].match", "IngressRoute e2e/web", "file does not parse")
}

func TestCheckAndRouteCommands(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("alpha", 8080, "10.9.0.1")+`---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: web, namespace: e2e}
spec:
  routes:
  - match: Host(`+"`a.example`"+`)
    priority: 50
    services: [{name: alpha, port: 80}]
  - match: Host(`+"`a.example`"+`) && Path(`+"`/never`"+`)
    services: [{name: alpha, port: 80}]
`)
	out, err := exec.Command(binary(t), "check", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "can never match") {
		t.Fatalf("unexpected check output (%v):\n%s", err, out)
	}
	write(t, filepath.Join(dir, "bad.yaml"), "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: bad, namespace: e2e}\nspec:\n  routes:\n  - match: Host(`x`) &&\n    services: [{name: alpha, port: 80}]\n")
	out, err = exec.Command(binary(t), "check", dir).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "IngressRoute e2e/bad#spec.routes[0].match") {
		t.Fatalf("check must fail naming the field (%v):\n%s", err, out)
	}
	out, err = exec.Command(binary(t), "route", "--manifests", dir, "--output", "json", "GET", "http://a.example/x").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"router": "e2e-web-`) || !strings.Contains(string(out), "http://10.9.0.1:8080") {
		t.Fatalf("unexpected route output (%v):\n%s", err, out)
	}
	out, err = exec.Command(binary(t), "route", "--manifests", dir, "GET", "http://z.example/").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "404") {
		t.Fatalf("unexpected route output for a 404 (%v):\n%s", err, out)
	}
}

func TestConfigKeys(t *testing.T) {
	cfg, err := parseConfig([]string{"--ENTRYPOINTS.web.Address=:80", "--entryPoints.web.forwardedHeaders.trustedIPs=10.0.0.0/8,127.0.0.1",
		"--providers.kubernetesCRD.allowCrossNamespace", "--api.dashboard=true", "--providers.manifests.directory", "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.EntryPoints) != 1 || cfg.EntryPoints[0].Address != ":80" || len(cfg.EntryPoints[0].TrustedIPs) != 2 ||
		!cfg.AllowCrossNamespace || cfg.ManifestsDir != "/x" || len(cfg.Warnings) != 0 || cfg.API == nil || !cfg.API.Dashboard {
		t.Fatalf("unexpected config %+v", cfg)
	}
	for _, bad := range []string{"--providers.manifests.directroy=/x", "--providers.kubernetesCRD.allowCrossNamespce=true", "--nonsense=1"} {
		if _, err := parseConfig([]string{bad}); err == nil {
			t.Fatalf("parseConfig(%q): expected an error", bad)
		}
	}
	f := filepath.Join(t.TempDir(), "sluice.yaml")
	write(t, f, "entryPoints:\n  web:\n    address: \":8081\"\n    asDefault: true\n    http:\n      encodeQuerySemicolons: true\n"+
		"providers:\n  kubernetesCRD:\n    allowExternalNameServices: true\n")
	cfg, err = parseConfig([]string{"--configFile=" + f})
	if err != nil || cfg.EntryPoints[0].Address != ":8081" || !cfg.AllowExternalNameServices || !cfg.EntryPoints[0].AsDefault || !cfg.EntryPoints[0].EncodeSemi {
		t.Fatalf("unexpected config from file (%v): %+v", err, cfg)
	}
	if o := compileOptions(cfg, nil); len(o.DefaultEntryPoints) != 1 || o.DefaultEntryPoints[0] != "web" {
		t.Fatalf("asDefault did not reach the compiler: %+v", o)
	}
}

// TestBinaryTakesTraefikSizedHeaders: a request header (here a request
// line) far beyond the per-connection buffer is served whole, as Traefik's
// 1 MiB http.maxHeaderBytes does, on the connection it came on; beyond the
// limit the answer is Go's 431.
func TestBinaryTakesTraefikSizedHeaders(t *testing.T) {
	dir := t.TempDir()
	pa := namedBackend(t, "127.0.0.2", "alpha")
	write(t, filepath.Join(dir, "services.yaml"), manifests("alpha", pa, "127.0.0.2"))
	write(t, filepath.Join(dir, "routes.yaml"), ingressRoute("e2e", "web", "Host(`a.example`)", "alpha"))
	p := startSluice(t, dir)
	eventually(t, p.addr, "a.example", "/x", 200, "alpha /x")
	long := "/" + strings.Repeat("p", 300<<10)
	for range 3 { // keep-alive: the moved connection goes on serving
		if st, body := get(t, p.addr, "a.example", long); st != 200 || body != "alpha "+long {
			t.Fatalf("300 KiB request line: %d, %d bytes of body", st, len(body))
		}
		if st, body := get(t, p.addr, "a.example", "/small"); st != 200 || body != "alpha /small" {
			t.Fatalf("small request: %d %q", st, body)
		}
	}
	if st, body := get(t, p.addr, "a.example", "/"+strings.Repeat("p", 1100<<10)); st != 431 ||
		body != "431 Request Header Fields Too Large" {
		t.Fatalf("over the limit: %d %q", st, body)
	}
	// The limit is Traefik's key, per entry point (plus Go's 4 KiB of slack).
	q := startSluice(t, dir, "--entryPoints.web.http.maxHeaderBytes=8192")
	eventually(t, q.addr, "a.example", "/x", 200, "alpha /x")
	if st, _ := get(t, q.addr, "a.example", "/"+strings.Repeat("p", 10<<10)); st != 200 {
		t.Fatalf("10 KiB under a configured 8 KiB + slack: %d", st)
	}
	if st, _ := get(t, q.addr, "a.example", "/"+strings.Repeat("p", 14<<10)); st != 431 {
		t.Fatalf("14 KiB over a configured 8 KiB + slack: %d", st)
	}
}

func isProxyEnv(e string) bool {
	k, _, _ := strings.Cut(e, "=")
	switch strings.ToUpper(k) {
	case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "REQUEST_METHOD":
		return true
	}
	return false
}

// readBody reads resp's body whole; a body that ends in an error (cut
// short of its length, or longer than declared) fails the test: decoding
// what was read would not show it.
func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		what := ""
		if resp.Request != nil {
			what = resp.Request.Method + " " + resp.Request.URL.String() + ": "
		}
		t.Errorf("%sthe body ends in an error after %d bytes: %v", what, len(b), err)
	}
	return b
}
