package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestBinaryDescriptorExhaustion is the fault issue 25 found: with
// `ulimit -n 512` and 700 clients holding connections, the entry point
// logged EMFILE, stopped, and never accepted again. Now the clients
// beyond the limit are refused or wait, the ping entry point (the
// liveness probe) keeps answering meanwhile, and once the clients have
// gone every new request is served.
func TestBinaryDescriptorExhaustion(t *testing.T) {
	if l := descriptorLimit(); l > 0 && l < 2048 {
		t.Skipf("the test process may open %d descriptors; 700 clients need more", l)
	}
	port := namedBackend(t, "127.0.0.1", "b")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "r.yaml"), routeYAML("h", "h.test", "{name: b, port: 80}")+"---\n"+manifests("b", port, "127.0.0.1"))
	ping := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := runSluiceUnder(t, fmt.Sprintf("127.0.0.1:%d", freePort(t)), 10*time.Second, nil,
		[]string{"sh", "-c", `ulimit -n 512 && exec "$@"`, "sh"},
		"--providers.manifests.directory="+dir, "--ping", "--ping.entryPoint=probe", "--entryPoints.probe.address="+ping,
		"--metrics.prometheus", "--metrics.prometheus.entryPoint=probe")
	eventually(t, p.addr, "h.test", "/", 200, "b /")

	// 700 keep-alive clients, each with one request answered or refused.
	var mu sync.Mutex
	var held []net.Conn
	var served, refused int
	var wg sync.WaitGroup
	start := time.Now()
	defer func() { t.Logf("took %v", time.Since(start)) }()
	for i := 0; i < 700; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
			if err != nil {
				mu.Lock()
				refused++
				mu.Unlock()
				return
			}
			ok := oneRequest(c, "h.test") == nil
			mu.Lock()
			defer mu.Unlock()
			held = append(held, c) // open, answered or not, until the end
			if ok {
				served++
			} else {
				refused++
			}
		}()
	}
	wg.Wait()
	t0 := time.Now()
	t.Logf("700 clients: %d served, %d refused or unanswered", served, refused)
	// How many get served depends on how the clients' requests and the
	// server dials interleave (199-270 seen): only that the limit was
	// reached, with clients served up to it, is the plan.
	if served < 100 || refused == 0 {
		t.Errorf("served %d, refused %d: the limit was not reached as planned", served, refused)
	}
	// The liveness probe answers while the clients hold their connections.
	if st, body := get(t, ping, "any", "/ping"); st != 200 || body != "OK" {
		t.Errorf("ping while exhausted: %d %q", st, body)
	}
	t.Logf("ping after %v", time.Since(t0))
	for _, c := range held {
		c.Close()
	}
	// Every new request is served once the clients have gone.
	deadline := time.Now().Add(10 * time.Second)
	ok := 0
	for ok < 20 && time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", p.addr, time.Second); err == nil {
			if oneRequest(c, "h.test") == nil {
				ok++
			} else {
				ok = 0
				time.Sleep(100 * time.Millisecond)
			}
			c.Close()
		}
	}
	t.Logf("recovered after %v", time.Since(t0))
	if ok < 20 {
		t.Fatalf("after the clients left, %d requests in a row were answered; logs:\n%s", ok, tail(p.log(), 30))
	}
	if strings.Contains(p.log(), "entry point stopped") {
		t.Errorf("an entry point stopped")
	}
	for _, l := range strings.Split(p.log(), "\n") {
		// Concurrent dials to the server may meet the limit (those
		// requests get a 502); the providers must not.
		if strings.Contains(l, "too many open files") && !strings.Contains(l, "accept failed; retrying") &&
			!strings.Contains(l, `msg="upstream error"`) {
			t.Errorf("out of descriptors outside the entry points and server dials: %s", l)
		}
	}
	_, _, metrics := getHeader(t, ping, "any", "/metrics")
	if !strings.Contains(metrics, "sluice_accept_reserve_closed_total") {
		t.Errorf("no reserve metric")
	}
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, "sluice_accept_") {
			t.Log(l)
		}
	}
}

// oneRequest sends a GET on c and reads a 200 back within five seconds.
func oneRequest(c net.Conn, host string) error {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	n, err := io.ReadAtLeast(c, buf, 12)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
		return errors.New(string(buf[:n]))
	}
	return nil
}

// TestGuardedListenerBacksOff: temporary accept errors are waited out
// with Go's back-off and counted; others end Accept.
func TestGuardedListenerBacksOff(t *testing.T) {
	errs := []error{
		&net.OpError{Op: "accept", Err: syscall.EMFILE}, &net.OpError{Op: "accept", Err: syscall.ENFILE},
		&net.OpError{Op: "accept", Err: syscall.EMFILE}, &net.OpError{Op: "accept", Err: syscall.ECONNABORTED},
	}
	var slept []time.Duration
	l := &guardedListener{Listener: &failingListener{errs: errs}, ep: "web", stats: &acceptStats{},
		log: slog.New(slog.DiscardHandler), sleep: func(d time.Duration) { slept = append(slept, d) }}
	c, err := l.Accept()
	if err != nil || c == nil {
		t.Fatalf("Accept: %v", err)
	}
	want := []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	if fmt.Sprint(slept) != fmt.Sprint(want) || l.stats.errors.Load() != 4 || l.delay != 0 {
		t.Errorf("slept %v (errors %d, delay %v), want %v", slept, l.stats.errors.Load(), l.delay, want)
	}
	l.Listener = &failingListener{errs: []error{net.ErrClosed}}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("a closed listener: %v", err)
	}
	for limit, want := range map[int]int{64: 16, 512: 32, 4096: 256, 1 << 20: 256} {
		if got := reserveFor(limit); got != want {
			t.Errorf("reserveFor(%d) = %d, want %d", limit, got, want)
		}
	}
}

// failingListener returns errs in turn, then a connection.
type failingListener struct {
	net.Listener
	errs []error
}

func (f *failingListener) Accept() (net.Conn, error) {
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	a, _ := net.Pipe()
	return a, nil
}
