package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The soak (issue 25): mixed load through the binary for SLUICE_SOAK (a
// duration: 2m in make test, 30m in make soak) while faults are injected on
// a schedule (soak_faults_test.go). Every request is checked: the answer
// comes from a server of its route (misrouted: 0), bodies come back whole
// (checksums end to end), and each failure must fall in the window of a
// fault that explains it. Goroutines, descriptors and RSS are sampled
// every 10 s and must stay flat. Figures go to the log and SLUICE_SOAK_OUT.

// soakResult is one request's outcome.
type soakResult struct {
	kind string
	at   time.Time
	err  string // "" when it was right
}

// soakLog gathers outcomes and fault windows.
type soakLog struct {
	mu      sync.Mutex
	results []soakResult
	windows []faultWindow
}

// faultWindow: failures of the listed kinds between from and to are the
// fault's doing.
type faultWindow struct {
	fault    string
	kinds    []string // "*": every kind
	from, to time.Time
}

func (l *soakLog) add(kind string, start time.Time, err string) {
	l.mu.Lock()
	l.results = append(l.results, soakResult{kind, start, err})
	l.mu.Unlock()
}

func (l *soakLog) window(fault string, from, to time.Time, kinds ...string) {
	l.mu.Lock()
	l.windows = append(l.windows, faultWindow{fault, kinds, from, to})
	l.mu.Unlock()
}

// explain names the fault a failure falls under, or "".
func (l *soakLog) explain(r soakResult) string {
	for _, w := range l.windows {
		if r.at.Before(w.from) || r.at.After(w.to) {
			continue
		}
		for _, k := range w.kinds {
			if k == "*" || k == r.kind {
				return w.fault
			}
		}
	}
	return ""
}

// soakBackend answers with its name, the body's length and SHA-256;
// /stream sends 4 MiB of a known pattern in 16 KiB writes; stall makes
// it wait 2 s before answering.
type soakBackend struct {
	name  string
	srv   *http.Server
	addr  string
	stall atomic.Bool
}

func startSoakBackend(t *testing.T, ip, name string, port int) *soakBackend {
	t.Helper()
	ln, err := net.Listen("tcp4", fmt.Sprintf("%s:%d", ip, port))
	if err != nil {
		t.Fatal(err)
	}
	return serveSoakBackend(t, ln, name)
}

// serveSoakBackend serves the backend named name on ln (a test host's
// listener, for the soak against a real API server).
func serveSoakBackend(t *testing.T, ln net.Listener, name string) *soakBackend {
	t.Helper()
	b := &soakBackend{name: name}
	b.srv = &http.Server{Handler: http.HandlerFunc(b.serve)}
	b.addr = ln.Addr().String()
	go b.srv.Serve(ln)
	t.Cleanup(func() { b.srv.Close() })
	return b
}

func (b *soakBackend) serve(w http.ResponseWriter, r *http.Request) {
	if b.stall.Load() {
		time.Sleep(2 * time.Second)
	}
	if r.Header.Get("Upgrade") != "" {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprint(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			brw.WriteString(b.name + " " + line)
			brw.Flush()
		}
	}
	if r.URL.Path == "/stream" {
		chunk := streamChunk()
		for i := 0; i < 256; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		return
	}
	h := sha256.New()
	n, _ := io.Copy(h, r.Body)
	fmt.Fprintf(w, "%s n=%d sha=%s", b.name, n, hex.EncodeToString(h.Sum(nil)))
}

// streamChunk is /stream's 16 KiB unit.
func streamChunk() []byte {
	c := make([]byte, 16<<10)
	for i := range c {
		c[i] = byte('a' + i%26)
	}
	return c
}

var streamSum = func() string {
	h := sha256.New()
	c := streamChunk()
	for i := 0; i < 256; i++ {
		h.Write(c)
	}
	return hex.EncodeToString(h.Sum(nil))
}()

// soakDuration is SLUICE_SOAK, or 0 (skip).
func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv("SLUICE_SOAK")
	if v == "" {
		t.Skip("SLUICE_SOAK=<duration> runs the soak (make test: 2m, make soak: 30m)")
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 40*time.Second {
		t.Fatalf("SLUICE_SOAK=%q: a duration of at least 40s", v)
	}
	return d
}

// soakTarget is the address the load goes to: the serving instance's.
type soakTarget struct{ addr atomic.Pointer[string] }

func (s *soakTarget) get() string     { return *s.addr.Load() }
func (s *soakTarget) set(addr string) { s.addr.Store(&addr) }

// clients of the load, one per front end.
func soakClients() map[string]*http.Client {
	tlsCfg := &tls.Config{InsecureSkipVerify: true, ServerName: "tls.soak"}
	return map[string]*http.Client{
		"keepalive": {Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}},
		"newconn":   {Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
		"h2c":       h2cHTTPClient(),
		"tls":       {Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg, ForceAttemptHTTP2: true}},
	}
}

// soakGet sends one request and checks the answer: a status in want, from
// a server in from (prefix of the body); a body's checksum when sum is set.
func soakGet(c *http.Client, method, url, host string, body []byte, from []string, sum string) string {
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, url, rd)
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return "transport: " + err.Error()
	}
	defer resp.Body.Close()
	h := sha256.New()
	var head strings.Builder
	_, err = io.Copy(io.MultiWriter(h, &limitedBuilder{&head, 256}), resp.Body)
	if err != nil {
		return "body cut: " + err.Error()
	}
	if resp.StatusCode != 200 {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	if sum != "" && hex.EncodeToString(h.Sum(nil)) != sum {
		return "stream checksum differs"
	}
	if len(from) > 0 {
		name, rest, _ := strings.Cut(head.String(), " ")
		ok := false
		for _, f := range from {
			ok = ok || name == f
		}
		if !ok {
			return "MISROUTED to " + name
		}
		if body != nil {
			s := sha256.Sum256(body)
			if !strings.Contains(rest, "sha="+hex.EncodeToString(s[:])) {
				return "request body differs at the server"
			}
		}
	}
	return ""
}

// limitedBuilder keeps the first n bytes written.
type limitedBuilder struct {
	b *strings.Builder
	n int
}

func (l *limitedBuilder) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// report sums the outcomes: per kind, sent, failed (by fault) and
// unexplained failures; it fails t on misrouting and unexplained ones.
func (l *soakLog) report(t *testing.T) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	type tally struct {
		sent, failed int
		byFault      map[string]int
	}
	kinds := map[string]*tally{}
	var bad []string
	for _, r := range l.results {
		k := kinds[r.kind]
		if k == nil {
			k = &tally{byFault: map[string]int{}}
			kinds[r.kind] = k
		}
		k.sent++
		if r.err == "" {
			continue
		}
		k.failed++
		f := l.explain(r)
		if strings.HasPrefix(r.err, "MISROUTED") || f == "" {
			bad = append(bad, fmt.Sprintf("%s at %s: %s", r.kind, r.at.Format("15:04:05.000"), r.err))
			f = "UNEXPLAINED"
		}
		k.byFault[f]++
	}
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("| load | sent | failed | failures by the fault that explains them |\n|---|---|---|---|\n")
	for _, n := range names {
		k := kinds[n]
		var fs []string
		for f, c := range k.byFault {
			fs = append(fs, fmt.Sprintf("%s %d", f, c))
		}
		sort.Strings(fs)
		fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", n, k.sent, k.failed, strings.Join(fs, ", "))
	}
	if len(bad) > 0 {
		t.Errorf("%d failures no fault explains (or misrouted), e.g.:\n%s", len(bad), strings.Join(bad[:min(len(bad), 20)], "\n"))
	}
	return b.String()
}

// soakPair listens on two loopback IPs at one port (a Service's two
// endpoints share the port): the backends named a and b.
func soakPair(t *testing.T, ipA, a, ipB, b string) (*soakBackend, *soakBackend) {
	t.Helper()
	for range 20 {
		ba := startSoakBackend(t, ipA, a, 0)
		_, p, _ := net.SplitHostPort(ba.addr)
		var port int
		fmt.Sscan(p, &port)
		ln, err := net.Listen("tcp4", fmt.Sprintf("%s:%d", ipB, port))
		if err != nil {
			ba.srv.Close()
			continue
		}
		ln.Close()
		return ba, startSoakBackend(t, ipB, b, port)
	}
	t.Fatal("no port free on both addresses")
	return nil, nil
}

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	var n int
	fmt.Sscan(p, &n)
	return n
}

func ipOf(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

// soakRoutes is the IngressRoute of the soak; extra.soak is written apart.
const soakRoutes = `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: soak, namespace: e2e}
spec:
  routes:
  - {match: "Host(` + "`stable.soak`" + `)", services: [{name: stable, port: 80}]}
  - {match: "Host(` + "`churn.soak`" + `)", services: [{name: churn, port: 80}]}
  - {match: "Host(` + "`kill.soak`" + `)", services: [{name: kill, port: 80}]}
  - {match: "Host(` + "`stall.soak`" + `)", services: [{name: stall, port: 80}]}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: soak-tls, namespace: e2e}
spec:
  routes:
  - {match: "Host(` + "`tls.soak`" + `)", services: [{name: stable, port: 80}]}
  tls: {secretName: soak-cert}
`

const soakExtra = `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: soak-extra, namespace: e2e}
spec:
  routes:
  - {match: "Host(` + "`extra.soak`" + `)", services: [{name: stable, port: 80}]}
`

// checkSoakAccessLog reads the soak's access log once the last lines are
// flushed: every line whole and JSON (two instances append to the file
// across the takeover), and at least one line per HTTP exchange the
// clients saw succeed (an upgraded connection's line is not counted:
// it is written when the connection ends).
func checkSoakAccessLog(t *testing.T, path string, l *soakLog) string {
	t.Helper()
	l.mu.Lock()
	ok := 0
	for _, r := range l.results {
		if r.err == "" && r.kind != kindWS {
			ok++
		}
	}
	l.mu.Unlock()
	var lines int
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("access log: %v", err)
			return ""
		}
		lines = 0
		for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil || m["DownstreamStatus"] == nil {
				t.Errorf("access log: a line that is not a whole record: %q", line)
				return ""
			}
			lines++
		}
		if lines >= ok || time.Now().After(deadline) {
			break
		}
	}
	if lines < ok {
		t.Errorf("access log: %d lines for %d exchanges answered", lines, ok)
	}
	return fmt.Sprintf("access log: %d lines, %d exchanges answered\n", lines, ok)
}
