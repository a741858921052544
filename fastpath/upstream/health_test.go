package upstream

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// probeServer records the last probe and answers with status.
type probeServer struct {
	addr   string
	status atomic.Int32
	mu     sync.Mutex
	last   *http.Request
}

func newProbeServer(t *testing.T) *probeServer {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ps := &probeServer{addr: ln.Addr().String()}
	ps.status.Store(200)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		ps.last = r
		ps.mu.Unlock()
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/broken", http.StatusFound)
			return
		}
		if r.URL.Path == "/broken" {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(int(ps.status.Load()))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ps
}

// waitDown waits until a probe made after the call has run and the state
// is want.
func waitDown(t *testing.T, h *Health, want bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	after := h.probes.Load() + 1
	for h.probes.Load() < after || h.Down() != want {
		if time.Now().After(deadline) {
			t.Fatalf("Down() stayed %t", !want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHealthCheckFields: each healthCheck field shapes the probe or its
// verdict as Traefik's do.
func TestHealthCheckFields(t *testing.T) {
	ps := newProbeServer(t)
	_, port, _ := net.SplitHostPort(ps.addr)
	reg := NewRegistry(Options{})
	e := reg.Get("http", "127.0.0.1:1") // the checks' port field points them at ps
	p, _ := strconv.Atoi(port)
	base := HealthConfig{Port: p, Interval: 20 * time.Millisecond, Timeout: time.Second, FollowRedirects: true}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	cfg := base
	cfg.Path, cfg.Method, cfg.Hostname, cfg.Headers, cfg.Status = "/hz", "HEAD", "probe.internal", map[string]string{"X-Probe": "1"}, 204
	ps.status.Store(204)
	h := reg.Health(e, cfg, log)
	var r *http.Request
	for deadline := time.Now().Add(2 * time.Second); r == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		ps.mu.Lock()
		r = ps.last
		ps.mu.Unlock()
	}
	if r == nil {
		t.Fatal("no probe arrived")
	}
	waitDown(t, h, false)
	if r.Method != "HEAD" || r.URL.Path != "/hz" || r.Host != "probe.internal" || r.Header.Get("X-Probe") != "1" {
		t.Fatalf("probe %s %s host=%s x-probe=%q", r.Method, r.URL.Path, r.Host, r.Header.Get("X-Probe"))
	}
	ps.status.Store(200) // status: 204 expected exactly
	waitDown(t, h, true)

	follow := base
	follow.Path = "/moved" // 302 to a 500
	waitDown(t, reg.Health(e, follow, log), true)
	noFollow := follow
	noFollow.FollowRedirects = false // the 302 itself is judged: 3xx passes
	waitDown(t, reg.Health(e, noFollow, log), false)

	slow := base
	slow.Path, slow.Interval, slow.UnhealthyInterval = "/flaky", time.Hour, 20*time.Millisecond
	ps.status.Store(503)
	hs := reg.Health(e, slow, log)
	waitDown(t, hs, true)
	ps.status.Store(200) // recovers on the unhealthy interval, not the hour
	waitDown(t, hs, false)
	reg.Prune() // marks
	reg.Prune() // nothing used them since: the checks stop
}
