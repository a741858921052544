package fastpath

import (
	"bufio"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// bigHeaderProxy: a proxy on loopback in front of the echo backend, with
// the given header limit (0: the default, Traefik's 1 MiB).
func bigHeaderProxy(t *testing.T, limit int) string {
	t.Helper()
	reg := upstream.NewRegistry(upstream.Options{})
	be := backend(t)
	addr, _ := proxyWith(t, map[string][]service.Server{"a.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}}},
		nil, Config{EntryPoint: "web", MaxHeaderBytes: limit})
	return addr
}

func fooRequest(size int) (string, string) {
	v := strings.Repeat("f", size)
	return "GET /x HTTP/1.1\r\nHost: a.example\r\nFoo: " + v + "\r\n\r\n", v
}

// TestHeaderLimit: headers are taken up to Traefik's 1 MiB (plus Go's 4 KiB
// of slack) whatever the per-connection buffer, reach the server whole, and
// beyond the limit get Go's 431.
func TestHeaderLimit(t *testing.T) {
	addr := bigHeaderProxy(t, 0)
	small := bigHeaderProxy(t, 8<<10)
	for _, tc := range []struct {
		name   string
		addr   string
		size   int
		status int
	}{
		{"1 KiB", addr, 1 << 10, 200},
		{"just over the connection buffer", addr, connBuffer, 200},
		{"just over the middle buffer", addr, midBuffer, 200},
		{"200 KiB", addr, 200 << 10, 200},
		{"1 MiB", addr, 1 << 20, 200},
		{"over 1 MiB and the slack", addr, 1<<20 + 8<<10, 431},
		{"configured 8 KiB, 11 KiB sent (Go's 4 KiB of slack)", small, 11 << 10, 200},
		{"configured 8 KiB, 13 KiB sent", small, 13 << 10, 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, v := fooRequest(tc.size)
			st, body, _ := raw(t, tc.addr, req)
			if st != tc.status {
				t.Fatalf("status %d, want %d (%.80s)", st, tc.status, body)
			}
			switch {
			case st == 200 && !strings.Contains(body, "foo="+v+" "):
				t.Fatalf("the server did not get the whole header: %d bytes of body", len(body))
			case st == 431 && body != "431 Request Header Fields Too Large":
				t.Fatalf("431 body %q, want Go's", body)
			}
		})
	}
}

// TestBigHeaderKeepAlive: a connection moved by a large header goes on
// serving, small and large requests, one at a time and pipelined. A header
// that needed the last tier's buffer (about midBuffer and over) gets its response
// with Connection: close, so that no idle connection keeps that buffer;
// the pipelined requests after it are sent again on a new connection, as
// a client does.
func TestBigHeaderKeepAlive(t *testing.T) {
	addr := bigHeaderProxy(t, 0)
	c, br := dial(t, addr)
	expect := func(n int, v string) (closed bool) {
		t.Helper()
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "foo="+v+" ") {
			t.Fatalf("status %d, %d bytes for a %d-byte header (close %v): the header did not arrive whole", resp.StatusCode, len(body), n, resp.Close)
		}
		if n < midBuffer-200 && resp.Close || n >= midBuffer && !resp.Close {
			t.Fatalf("a %d-byte header: Connection: close is %v", n, resp.Close)
		}
		return resp.Close
	}
	for _, n := range []int{10, 40 << 10, 10, 300 << 10, 20, 5 << 10} {
		req, v := fooRequest(n)
		io.WriteString(c, req)
		if expect(n, v) {
			c, br = dial(t, addr)
		}
	}
	// Pipelined bursts with sizes around the buffers' edges, so that a
	// header overflows after another request in the same read.
	rng := rand.New(rand.NewPCG(1, 2))
	for burst := range 12 {
		var reqs, vs []string
		var ns []int
		for range 1 + burst%4 {
			edge := []int{connBuffer, midBuffer}[rng.IntN(2)]
			n := edge - 200 + rng.IntN(400) + rng.IntN(3)*rng.IntN(40<<10)
			req, v := fooRequest(n)
			reqs, vs, ns = append(reqs, req), append(vs, v), append(ns, n)
		}
		for len(reqs) > 0 {
			io.WriteString(c, strings.Join(reqs, ""))
			for len(reqs) > 0 {
				closed := expect(ns[0], vs[0])
				reqs, vs, ns = reqs[1:], vs[1:], ns[1:]
				if closed {
					c, br = dial(t, addr)
					break
				}
			}
		}
	}
}

// TestNoIdleConnectionKeepsABigBuffer: connections whose headers needed
// the last tier's buffer do not keep it once answered (they are closed),
// so idle clients cannot pin 1 MiB each.
func TestNoIdleConnectionKeepsABigBuffer(t *testing.T) {
	addr := bigHeaderProxy(t, 0)
	inUse := func() uint64 {
		var ms runtime.MemStats
		runtime.GC() // twice: what the servers' pools hold goes with the second
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	before := inUse()
	const conns = 16
	for range conns {
		c, br := dial(t, addr)
		req, v := fooRequest(100 << 10)
		io.WriteString(c, req)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "foo="+v+" ") || !resp.Close {
			t.Fatalf("status %d, close %v: the header did not arrive whole, or the connection stays", resp.StatusCode, resp.Close)
		}
	}
	time.Sleep(lingerTimeout + 200*time.Millisecond) // the server closes its side
	if grown := int64(inUse()) - int64(before); grown > conns*midBuffer {
		t.Fatalf("heap grew by %d KiB with %d idle connections; their big buffers are kept", grown>>10, conns)
	}
}

// TestBodyLikeARequest: a streamed body whose chunks begin like request
// lines is relayed intact, and the connection stays on its server.
func TestBodyLikeARequest(t *testing.T) {
	addr := bigHeaderProxy(t, 0)
	body := strings.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 40<<10/27+1)
	st, _, hdr := raw(t, addr, "POST /big HTTP/1.1\r\nHost: a.example\r\nContent-Length: "+
		strconv.Itoa(len(body))+"\r\n\r\n"+body)
	if st != 200 || hdr.Get("X-Got") != strconv.Itoa(len(body)) {
		t.Fatalf("status %d, server got %s of %d bytes", st, hdr.Get("X-Got"), len(body))
	}
}

// TestShutdownClosesMovedConnections: an idle connection on the big-header
// server is closed by Shutdown.
func TestShutdownClosesMovedConnections(t *testing.T) {
	reg := upstream.NewRegistry(upstream.Options{})
	be := backend(t)
	srv, addr, _ := startProxy(t, map[string][]service.Server{"a.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}}}, nil, Config{EntryPoint: "web"})
	c, br := dial(t, addr)
	req, _ := fooRequest(100 << 10)
	io.WriteString(c, req)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("big request: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	srv.Shutdown()
	if n, err := br.Read(make([]byte, 1)); err == nil {
		t.Fatalf("read %d bytes after Shutdown; want the connection closed", n)
	}
}

// TestNoStaleSpill: bytes copied aside from an earlier read (a body that
// looked like a request line) are never replayed for a later overflowing
// header that does not start like one.
func TestNoStaleSpill(t *testing.T) {
	addr := bigHeaderProxy(t, 0)
	c, br := dial(t, addr)
	body := strings.Repeat("GET /smuggled HTTP/1.1\r\nHost: a.example\r\n\r\n", 2*connBuffer/44+1)
	io.WriteString(c, "POST /big HTTP/1.1\r\nHost: a.example\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	// A header over the buffer whose first bytes do not look like a
	// request line (a 30-character method), so nothing fresh is copied.
	io.WriteString(c, strings.Repeat("M", 30)+" /x HTTP/1.1\r\nHost: a.example\r\nFoo: "+strings.Repeat("f", 2*connBuffer)+"\r\n\r\n")
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		return // closed without an answer: nothing was replayed either
	}
	got, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(got), "smuggled") || resp.StatusCode == 200 {
		t.Fatalf("an earlier request's bytes were replayed: %d %.60q", resp.StatusCode, got)
	}
}

// dial opens a client connection to addr, closed at the end of the test.
func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

// TestUnreadableRequestAnswersAsGo: a request fasthttp cannot read gets
// Go's (and so Traefik's) 400 body.
func TestUnreadableRequestAnswersAsGo(t *testing.T) {
	addr := bigHeaderProxy(t, 0)
	st, body, _ := raw(t, addr, "GET / HTTP/1.1\r\nHost: a.example\r\nContent-Length: x\r\n\r\n")
	if st != 400 || body != "400 Bad Request" {
		t.Fatalf("got %d %q, want 400 \"400 Bad Request\"", st, body)
	}
}
