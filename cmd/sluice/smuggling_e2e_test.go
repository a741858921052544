package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/bench/smuggle"
)

// TestBinarySmugglingCorpus sends each hostile request through the binary
// and checks the answer, whether the connection closes, and that the
// server behind saw only requests the client framed (issue 25).
func TestBinarySmugglingCorpus(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	port := namedBackendFunc(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.RequestURI()+" "+string(b))
		mu.Unlock()
		fmt.Fprintf(w, "%s %s body=%q", r.Method, r.URL.RequestURI(), b)
	})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "r.yaml"), routeYAML("h", "h.test", "{name: h, port: 80}")+"---\n"+manifests("h", port, "127.0.0.1"))
	p := startSluice(t, dir)
	eventually(t, p.addr, "h.test", "/ready", 200, "GET /ready body=\"\"")
	for _, tc := range smuggle.Corpus {
		t.Run(tc.Name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			answers, err := smuggle.Exchange(p.addr, smuggle.Requests(tc, "h.test"))
			if err != nil {
				t.Fatal(err)
			}
			if len(answers) == 0 {
				t.Fatalf("no answer")
			}
			if got := answers[0]; got != tc.Status {
				t.Errorf("first answer %d, want %d", got, tc.Status)
			}
			closed := len(answers) == 1
			if closed != tc.Closes {
				t.Errorf("connection closed after the first answer: %v, want %v (answers %v)", closed, tc.Closes, answers)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, s := range seen {
				if strings.Contains(s, "smuggled") && (closed || !strings.HasPrefix(s, "GET /smuggled ")) {
					t.Errorf("the server saw %q", s)
				}
			}
		})
	}
}

// rawBackend answers every request it reads with answer, written as is
// (smuggle.Server), and reports the requests it read.
func rawBackend(t *testing.T, answer string) (port int, lines func() []string) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	srv := &smuggle.Server{Answer: answer}
	go srv.Serve(ln)
	var seen []string
	return ln.Addr().(*net.TCPAddr).Port, func() []string { seen = append(seen, srv.Take()...); return seen }
}

// TestBinarySmugglingBackend: a server answering with smuggling patterns
// gets its answer refused (502) or read with one framing, and a pooled
// connection never carries bytes of one answer into the next request's.
func TestBinarySmugglingBackend(t *testing.T) {
	cases := []struct {
		name, answer string
		status       int
		body         string
	}{
		{"CL+TE answer", "HTTP/1.1 200 OK\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 200, "ok"},
		{"differing Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\nokHTTP/1", 502, ""},
		{"a second answer after the first", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil", 200, "ok"},
		// Streamed: the status is sent before the bad chunk is read, so
		// the client's connection is cut (status 0), as Traefik's is.
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n", 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			port, lines := rawBackend(t, tc.answer)
			dir := t.TempDir()
			write(t, filepath.Join(dir, "r.yaml"), routeYAML("h", "h.test", "{name: h, port: 80}")+"---\n"+manifests("h", port, "127.0.0.1"))
			p := startSluice(t, dir)
			time.Sleep(300 * time.Millisecond) // the first table
			for i := 0; i < 3; i++ {
				st, body := 0, ""
				req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/%d", p.addr, i), nil)
				req.Host = "h.test"
				if resp, err := http.DefaultClient.Do(req); err == nil {
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil {
						st, body = resp.StatusCode, string(b)
					}
				}
				if st != tc.status || (tc.status == 200 && body != tc.body) {
					t.Errorf("request %d: %d %q, want %d %q (server saw %v)", i, st, body, tc.status, tc.body, lines())
				}
			}
		})
	}
}
