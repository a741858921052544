package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// smugglingCase is one hostile request: raw bytes sent on a fresh
// connection, then "GET /smuggled" pipelined behind them. A careful proxy
// answers the first with status (0: any 2xx) and then either closes or
// serves the pipelined request as its own; it never lets the server see a
// request the client did not frame as one (/smuggled inside a body, or a
// path the proxy did not route).
type smugglingCase struct {
	name   string
	raw    string
	status int  // first answer's status; 200 for a served request
	closes bool // the connection closes after the first answer
}

const smuggled = "GET /smuggled HTTP/1.1\r\nHost: h.test\r\n\r\n"

var smugglingCorpus = []smugglingCase{
	{"CL+TE: chunked wins, then close", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200, true},
	{"TE+CL: chunked wins, then close", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200, true},
	{"CL+TE lower case", "POST /a HTTP/1.1\r\nHost: h.test\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200, true},
	{"duplicate equal Content-Length", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400, true},
	{"duplicate differing Content-Length", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc", 400, true},
	{"Content-Length list", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length: 3, 3\r\n\r\nabc", 400, true},
	{"Content-Length with a sign", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length: +3\r\n\r\nabc", 400, true},
	{"negative Content-Length", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length: -1\r\n\r\nabc", 400, true},
	{"space before the colon", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length : 3\r\n\r\nabc", 400, true},
	{"TE chunked, identity", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400, true},
	{"TE identity, chunked", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: identity, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400, true},
	{"TE xchunked", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: xchunked\r\nContent-Length: 3\r\n\r\nabc", 400, true},
	{"two TE headers", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400, true},
	// fasthttp joins the folded line: chunked, and "abc" is no chunk (as below).
	{"TE obs-fold", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 3\r\n\r\nabc", 502, true},
	{"TE on HTTP/1.0", "POST /a HTTP/1.0\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400, true},
	{"TE with a tab", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding:\tchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200, false},
	// A body that breaks its framing is found while it is forwarded: the
	// server's request fails (502, as Go's ReverseProxy answers when the
	// body cannot be read) and the connection closes, its framing lost.
	{"invalid chunk size", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 502, true},
	{"chunk size overflow", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nabc\r\n0\r\n\r\n", 502, true},
	// fasthttp reads a long chunk extension and drops it (one view: the
	// server gets the body re-chunked); the read timeout bounds its length.
	{"long chunk extension", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\n3;" + strings.Repeat("x", 8192) + "\r\nabc\r\n0\r\n\r\n", 200, false},
	{"bare CR in a header", "GET /a HTTP/1.1\r\nHost: h.test\r\nX-A: 1\rX-B: 2\r\n\r\n", 400, true},
	{"NUL in a header value", "GET /a HTTP/1.1\r\nHost: h.test\r\nX-A: a\x00b\r\n\r\n", 400, true},
	{"control byte in a header name", "GET /a HTTP/1.1\r\nHost: h.test\r\nX\x01A: 1\r\n\r\n", 400, true},
	{"space in a header name", "GET /a HTTP/1.1\r\nHost: h.test\r\nX A: 1\r\n\r\n", 400, true},
	{"two Host headers", "GET /a HTTP/1.1\r\nHost: h.test\r\nHost: other.test\r\n\r\n", 400, true},
	{"HTTP/1.1 without Host", "GET /a HTTP/1.1\r\n\r\n", 400, true},
	{"HTTP/0.9", "GET /a\r\n\r\n", 400, true},
	{"unknown version", "GET /a HTTP/3.7\r\nHost: h.test\r\n\r\n", 505, true},
	{"request line over the limit", "GET /" + strings.Repeat("a", 2<<20) + " HTTP/1.1\r\nHost: h.test\r\n\r\n", 431, true},
	{"absolute form routes by its authority", "GET http://h.test/a HTTP/1.1\r\nHost: other.test\r\n\r\n", 200, false},
	{"bare LF line ends", "GET /a HTTP/1.1\nHost: h.test\n\n", 200, false},
	{"Expect 100-continue", "POST /a HTTP/1.1\r\nHost: h.test\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", 200, false},
}

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
	for _, tc := range smugglingCorpus {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			answers := exchangeRaw(t, p.addr, tc.raw+smuggled)
			if len(answers) == 0 {
				t.Fatalf("no answer")
			}
			if got := answers[0]; got != tc.status {
				t.Errorf("first answer %d, want %d", got, tc.status)
			}
			closed := len(answers) == 1
			if closed != tc.closes {
				t.Errorf("connection closed after the first answer: %v, want %v (answers %v)", closed, tc.closes, answers)
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

// exchangeRaw writes raw on a new connection and reads answers until the
// connection closes or stays quiet for a second; it returns their statuses.
func exchangeRaw(t *testing.T, addr, raw string) []int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() { _, _ = io.WriteString(c, raw) }()
	br := bufio.NewReader(c)
	var statuses []int
	for {
		c.SetReadDeadline(time.Now().Add(time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return statuses
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 100 {
			continue
		}
		statuses = append(statuses, resp.StatusCode)
		if resp.Close {
			return statuses
		}
	}
}

// rawBackend answers every request it reads with answer, written as is,
// and reports the request lines it read.
func rawBackend(t *testing.T, answer string) (port int, lines func() []string) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var seen []string
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, r.Body)
					mu.Lock()
					seen = append(seen, r.Method+" "+r.URL.RequestURI())
					mu.Unlock()
					if _, err := io.WriteString(c, answer); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
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
