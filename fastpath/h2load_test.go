package fastpath

import (
	"context"
	"crypto/tls"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// h2loadBinary is nghttp2-client's h2load; make test installs it. Set
// SLUICE_REQUIRE_TOOLS=1 (the Makefile does) to fail rather than skip
// where it is missing.
func h2loadBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("h2load")
	if err != nil {
		if os.Getenv("SLUICE_REQUIRE_TOOLS") == "1" {
			t.Fatal("h2load not found (Debian nghttp2-client)")
		}
		t.Skip("h2load not found (Debian nghttp2-client; make test installs it)")
	}
	return p
}

// TestH2CLoadClientsClosing: h2load's clients end their connections with
// streams still open, many times over. The HTTP/2 server's frame writer
// used to write to the hijacked connection after fasthttp had taken it
// back (a nil pointer in fasthttp's hijackConn.Write: the process died).
// The server must survive every round and still answer afterwards.
func TestH2CLoadClientsClosing(t *testing.T) {
	h2load := h2loadBinary(t)
	be := backend(t)
	addr, _ := proxy(t, map[string][]service.Server{
		"bench.local": {{URL: "http://" + be, Endpoint: upstream.NewRegistry(upstream.Options{}).Get("http", be)}},
	}, nil)
	for round := 0; round < 3; round++ {
		// -D ends the run after a second with 500 streams in flight.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, h2load, "-c", "50", "-m", "10", "-D", "1", "-H", ":authority: bench.local",
			"http://"+addr+"/").CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("round %d: h2load: %v\n%s", round, err, out)
		}
		if !strings.Contains(string(out), "0 failed, 0 errored") {
			t.Fatalf("round %d: h2load saw failures:\n%s", round, out)
		}
	}
	assertServesH2C(t, addr, "bench.local")
}

// TestH2CStreamsAbortedMidway: HTTP/2 clients that close their connection
// while responses are being written (a slow body upstream, then the
// client goes), from many goroutines; the server keeps serving.
func TestH2CStreamsAbortedMidway(t *testing.T) {
	slow := slowBackend(t)
	addr, _ := proxy(t, map[string][]service.Server{
		"slow.example": {{URL: "http://" + slow, Endpoint: upstream.NewRegistry(upstream.Options{}).Get("http", slow)}},
	}, nil)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 15; i++ {
				abortH2C(t, addr, "slow.example")
			}
		}()
	}
	wg.Wait()
	assertServesH2C(t, addr, "slow.example")
}

// slowBackend streams a long body slowly, so clients leave mid-stream.
func slowBackend(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			io.WriteString(w, "ok")
			return
		}
		for i := 0; i < 50; i++ {
			if _, err := w.Write([]byte(strings.Repeat("x", 8192))); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(time.Millisecond)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// abortH2C opens an h2c connection, starts a few streams, reads a little of
// one and closes the connection under them.
func abortH2C(t *testing.T, addr, host string) {
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Error(err)
		return
	}
	client := h2cClientOver(c)
	var wg sync.WaitGroup
	for s := 0; s < 4; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", "http://"+addr+"/stream", nil)
			req.Host = host
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			_, _ = io.CopyN(io.Discard, resp.Body, int64(rand.IntN(20000)))
			c.Close()
			resp.Body.Close()
		}()
	}
	wg.Wait()
	c.Close()
}

// assertServesH2C: a fresh HTTP/2 connection still gets answers.
func assertServesH2C(t *testing.T, addr, host string) {
	t.Helper()
	for i := 0; i < 5; i++ {
		req, _ := http.NewRequest("GET", "http://"+addr+"/ok", nil)
		req.Host = host
		resp, err := h2cClient().Do(req)
		if err != nil {
			t.Fatalf("after the load: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("after the load: status %d", resp.StatusCode)
		}
	}
}

// h2cClientOver is an HTTP/2 client whose every dial returns c.
func h2cClientOver(c net.Conn) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http2.Transport{AllowHTTP: true,
		DialTLSContext: func(context.Context, string, string, *tls.Config) (net.Conn, error) { return c, nil }}}
}
