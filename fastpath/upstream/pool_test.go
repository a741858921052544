package upstream

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestPoolBoundedPerEndpoint: an endpoint never opens more than MaxConns
// connections; requests beyond wait for one instead of failing.
func TestPoolBoundedPerEndpoint(t *testing.T) {
	var cur, peak atomic.Int32
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(100 * time.Millisecond)
		cur.Add(-1)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	e := NewRegistry(Options{MaxConns: 2}).Get("http", ln.Addr().String())
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if getStatus(e) != 200 {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 || peak.Load() > 2 {
		t.Fatalf("%d failed, peak %d concurrent requests; want 0 and at most 2", failed.Load(), peak.Load())
	}
}

// TestPoolKeepsAtMostMaxIdle: after a burst, no more than
// maxIdleConnsPerHost connections stay open idle; none when negative; all
// (until the idle timeout) when unset.
func TestPoolKeepsAtMostMaxIdle(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	for _, tc := range []struct {
		cfg  *TransportConfig
		want int
	}{{&TransportConfig{MaxIdleConnsPerHost: 1}, 1}, {nil, 4}, {&TransportConfig{MaxIdleConnsPerHost: -1}, 0}} {
		e, err := NewRegistry(Options{}).GetWith("http", ln.Addr().String(), tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if st := getStatus(e); st != 200 {
					t.Errorf("status %d", st)
				}
			}()
		}
		wg.Wait()
		// Closing the surplus connections may finish just after the last
		// Do returns; give it a moment before counting.
		n := e.Client.ConnsCount()
		for deadline := time.Now().Add(2 * time.Second); n != tc.want && time.Now().Before(deadline); n = e.Client.ConnsCount() {
			time.Sleep(10 * time.Millisecond)
		}
		if n != tc.want {
			t.Errorf("maxIdleConnsPerHost %v: %d connections left open, want %d", tc.cfg, n, tc.want)
		}
	}
}

// getStatus sends GET / through the endpoint's pool; 0 on error.
func getStatus(e *Endpoint) int {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + e.Addr + "/")
	if err := e.Client.Do(req, resp); err != nil {
		return 0
	}
	return resp.StatusCode()
}

// TestPoolReusesTheLastConnection: an idle connection is taken last in,
// first out, as Go's http.Transport (and so Traefik) takes them: after a
// burst opened four, requests one at a time all go over the one released
// last, and the others stay idle (until the idle timeout closes them)
// instead of each request taking the coldest.
func TestPoolReusesTheLastConnection(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var peers []string
	arrived := make(chan struct{}, 4)
	burst := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		peers = append(peers, r.RemoteAddr)
		mu.Unlock()
		if r.URL.Path == "/burst" {
			arrived <- struct{}{}
			<-burst // four requests at once: four connections
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	e := NewRegistry(Options{}).Get("http", ln.Addr().String())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st, _, _, err := doWith(e.Addr, e.Do, "GET", "/burst"); st != 200 {
				t.Errorf("burst: status %d, %v", st, err)
			}
		}()
	}
	for range 4 {
		<-arrived
	}
	close(burst)
	wg.Wait()
	if n := e.Client.ConnsCount(); n != 4 {
		t.Fatalf("%d connections after the burst, want 4", n)
	}
	mu.Lock()
	peers = peers[:0]
	mu.Unlock()
	for range 8 {
		if st, _, _, err := doWith(e.Addr, e.Do, "GET", "/one"); st != 200 {
			t.Fatalf("status %d, %v", st, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	used := map[string]bool{}
	for _, p := range peers {
		used[p] = true
	}
	if len(used) != 1 {
		t.Fatalf("8 requests one at a time went over %d connections (%v), want 1", len(used), peers)
	}
}
