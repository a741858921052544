package upstream

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/internal/syscr"
	"github.com/sluiceproxy/sluice/fastpath/pollconn"
	"github.com/valyala/fasthttp"
)

// scriptedBackend serves HTTP/1.1 on loopback and counts the connections it
// accepted. serve is called for each request (its body read) with the
// connection's number (from 1) and the request's number on it (from 1),
// writes the answer itself, and returns false to stop serving that
// connection, which it then closes or leaves open as it likes.
func scriptedBackend(t *testing.T, serve func(conn, n int, c net.Conn, req *http.Request) bool) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range open {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			id := int(conns.Add(1))
			go func() {
				br := bufio.NewReader(c)
				for n := 1; ; n++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					if !serve(id, n, c, req) {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), &conns
}

func answer(c net.Conn, body string) {
	c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body))
}

// registryEndpoint is an endpoint as the proxy makes them (pollconn.Conn
// connections), with a response timeout.
func registryEndpoint(addr string, timeout time.Duration) *Endpoint {
	return NewRegistry(Options{ReadTimeout: timeout}).Get("http", addr)
}

// doWithin runs do on e, failing the test if it has not returned within
// limit (a hang, which is what the guards prevent).
func doWithin(t *testing.T, e *Endpoint, method string, limit time.Duration) (int, string, error) {
	t.Helper()
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		s, b, _, err := doWith(e.Addr, e.Do, method, "/") // the proxy's way
		done <- result{s, b, err}
	}()
	select {
	case r := <-done:
		return r.status, r.body, r.err
	case <-time.After(limit):
		t.Fatalf("%s did not return within %v", method, limit)
		return 0, "", nil
	}
}

func TestPollConnWraps(t *testing.T) {
	addr, _ := scriptedBackend(t, func(_, _ int, c net.Conn, _ *http.Request) bool { answer(c, "ok"); return true })
	e := registryEndpoint(addr, 0)
	c, err := e.Client.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*pollconn.Conn); !ok {
		t.Fatalf("the endpoint dials %T, want *pollconn.Conn", c)
	}
	for i := range 3 {
		if s, body, err := doWithin(t, e, "GET", 5*time.Second); err != nil || s != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q %v", i, s, body, err)
		}
	}
	if n := e.Client.ConnsCount(); n != 1 {
		t.Errorf("%d connections for sequential requests, want 1 (reused)", n)
	}
}

// readSyscalls is the process's read syscall count (Linux).
func readSyscalls(t *testing.T) int {
	n, ok := syscr.Reads()
	if !ok {
		t.Skip("no syscr in /proc/self/io")
	}
	return n
}

// TestPollConnSavesARead: a round trip through a pollconn.Conn makes one
// read syscall fewer than through a plain connection (the EAGAIN read
// before the answer), counted by the kernel for the whole test process;
// for a request with a streamed body too, whose tail is the held write.
func TestPollConnSavesARead(t *testing.T) {
	addr, _ := scriptedBackend(t, func(_, _ int, c net.Conn, _ *http.Request) bool {
		time.Sleep(200 * time.Microsecond) // the answer is never there at once
		answer(c, "ok")
		return true
	})
	const n = 200
	body := strings.Repeat("b", 1<<10)
	for _, streamed := range []bool{false, true} {
		send := func(e *Endpoint) {
			var req fasthttp.Request
			var resp fasthttp.Response
			req.SetRequestURI("http://" + addr + "/")
			if streamed {
				req.Header.SetMethod("POST")
				req.SetBodyStream(strings.NewReader(body), len(body))
			}
			if err := e.Client.DoTimeout(&req, &resp, 5*time.Second); err != nil || resp.StatusCode() != 200 {
				t.Fatal(resp.StatusCode(), err)
			}
		}
		reads := func(e *Endpoint) int {
			send(e) // dial outside the count
			before := readSyscalls(t)
			for range n {
				send(e)
			}
			return readSyscalls(t) - before
		}
		plain := &Endpoint{Addr: addr, Client: &fasthttp.HostClient{Addr: addr, Transport: &Transport{}}}
		viaPlain := reads(plain)
		viaPoll := reads(registryEndpoint(addr, 0))
		t.Logf("streamed body %v: read syscalls per round trip: plain %.2f, pollconn %.2f", streamed, float64(viaPlain)/n, float64(viaPoll)/n)
		if saved := viaPlain - viaPoll; saved < n*8/10 {
			t.Errorf("streamed body %v: pollconn saved %d reads over %d round trips, want about one each", streamed, saved, n)
		}
	}
}

// TestPollConnQuietClose: a server closed a connection that had been idle
// longer than pollconn.ProbeAfter, with a lingering close (FIN, then it reads and
// drops what comes, as Apache does); the request on it is retried on a new
// connection at once: the probe read sees the close.
func TestPollConnQuietClose(t *testing.T) {
	addr, _ := scriptedBackend(t, func(conn, _ int, c net.Conn, _ *http.Request) bool {
		answer(c, "ok")
		if conn == 1 {
			c.(*net.TCPConn).CloseWrite() // no Connection: close, as an idle timeout
		}
		return true
	})
	e := registryEndpoint(addr, 0)
	doWithin(t, e, "GET", 5*time.Second)
	time.Sleep(2 * pollconn.ProbeAfter)
	start := time.Now()
	if s, _, err := doWithin(t, e, "GET", 5*time.Second); err != nil || s != 200 {
		t.Fatalf("after an idle close: %d %v", s, err)
	}
	if d := time.Since(start); d >= pollconn.ProbeAfter {
		t.Errorf("the retry took %v: the close was not seen by the probe", d)
	}
}

// TestPollConnDroppedClose: the server half-closes a connection right
// after answering (FIN, while still reading, then never answering on it),
// and the netpoller has seen that FIN before the next request is sent on
// the connection. Without the watchdog the request would wait forever; with
// it the request is retried on a new connection.
func TestPollConnDroppedClose(t *testing.T) {
	addr, _ := scriptedBackend(t, func(conn, _ int, c net.Conn, _ *http.Request) bool {
		answer(c, "ok")
		if conn == 1 {
			c.(*net.TCPConn).CloseWrite()
		}
		return true // keep reading; requests on a half-closed connection get nothing
	})
	e := registryEndpoint(addr, 0)
	doWithin(t, e, "GET", 5*time.Second)
	time.Sleep(pollconn.ProbeAfter / 5) // the FIN arrives and the scheduler polls
	if s, body, err := doWithin(t, e, "GET", 5*time.Second); err != nil || s != 200 || body != "ok" {
		t.Fatalf("after a half-close: %d %q %v", s, body, err)
	}
}

// TestRetryIdempotentOnce states which requests are sent again after their
// connection failed, and how often: net/http's isReplayable, once.
func TestRetryIdempotentOnce(t *testing.T) {
	for _, tc := range []struct {
		method   string
		header   string // "Name: value", or ""
		body     string
		attempts int
		want     bool
	}{
		{"GET", "", "", 1, true}, {"HEAD", "", "", 1, true}, {"OPTIONS", "", "", 1, true}, {"TRACE", "", "", 1, true},
		{"GET", "", "", 2, false},
		{"POST", "", "", 1, false}, {"PUT", "", "", 1, false}, {"DELETE", "", "", 1, false}, {"PATCH", "", "", 1, false},
		{"POST", "Idempotency-Key: 7", "", 1, true}, {"DELETE", "X-Idempotency-Key: 7", "", 1, true},
		{"PUT", "Idempotency-Key:", "", 1, true}, // present, even empty (net/http: Header.has)
		{"POST", "Idempotency-Key: 7", "", 2, false},
		{"POST", "Idempotency-Key: 7", "a body", 1, false}, // not rewindable in Traefik
		{"GET", "", "a body", 1, false},
	} {
		var req fasthttp.Request
		req.Header.SetMethod(tc.method)
		if k, v, ok := strings.Cut(tc.header, ":"); ok {
			req.Header.Set(k, strings.TrimSpace(v))
		}
		req.SetBodyString(tc.body)
		reset, retry := retryIdempotentOnReusedConn(&req, tc.attempts, io.EOF)
		if retry != tc.want || reset {
			t.Errorf("%s %q body %q after %d attempts: retry %v resetTimeout %v, want retry %v", tc.method, tc.header, tc.body, tc.attempts, retry, reset, tc.want)
		}
	}
}

// TestDoRetriesAsHostClient: Endpoint.Do, which skips HostClient's parse
// of the URI, retries as HostClient.Do does, side by side: a request
// net/http would replay (a GET, a TRACE, a POST with an Idempotency-Key)
// whose kept-alive connection the server closed without answering is sent
// again on a new one; a plain POST is not, and fails alike.
func TestDoRetriesAsHostClient(t *testing.T) {
	for _, tc := range []struct {
		method, key string // key: an Idempotency-Key, or none
		retried     bool
	}{{"GET", "", true}, {"TRACE", "", true}, {"POST", "k1", true}, {"POST", "", false}} {
		type outcome struct {
			status   int
			body     string
			closed   bool // fasthttp.ErrConnectionClosed
			failed   bool
			requests int32
		}
		var got [2]outcome
		for i, via := range []string{"HostClient.Do", "Endpoint.Do"} {
			var seen atomic.Int32
			addr, _ := scriptedBackend(t, func(conn, n int, c net.Conn, _ *http.Request) bool {
				seen.Add(1)
				if conn == 1 && n == 2 {
					c.Close() // without answering
					return false
				}
				answer(c, "ok"+strconv.Itoa(conn))
				return true
			})
			e := registryEndpoint(addr, 0)
			send := e.Do
			if via == "HostClient.Do" {
				send = e.Client.Do
			}
			var o outcome
			for range 2 {
				var req fasthttp.Request
				var resp fasthttp.Response
				req.Header.SetMethod(tc.method)
				req.SetRequestURI("http://" + addr + "/")
				if tc.key != "" {
					req.Header.Set("Idempotency-Key", tc.key)
				}
				err := send(&req, &resp)
				o = outcome{resp.StatusCode(), string(resp.Body()), errors.Is(err, fasthttp.ErrConnectionClosed), err != nil, seen.Load()}
			}
			got[i] = o
		}
		if got[1] != got[0] {
			t.Errorf("%s %q: Endpoint.Do %+v, HostClient.Do %+v", tc.method, tc.key, got[1], got[0])
		}
		if tc.retried == got[1].failed || (tc.retried && got[1].body != "ok2") {
			t.Errorf("%s %q: %+v; want a retry on a new connection: %v", tc.method, tc.key, got[1], tc.retried)
		}
	}
}

// TestPollConnSlowAnswer: an answer later than the watchdog, whole or
// split around it, still arrives on the same connection.
func TestPollConnSlowAnswer(t *testing.T) {
	addr, _ := scriptedBackend(t, func(_, n int, c net.Conn, _ *http.Request) bool {
		switch n {
		case 2:
			time.Sleep(3 * pollconn.ProbeAfter)
		case 4: // (after a quick one, so that the watchdog is armed)
			c.Write([]byte("HTTP/1.1 200 OK\r\n"))
			time.Sleep(3 * pollconn.ProbeAfter)
		}
		body := "ok" + strconv.Itoa(n)
		rest := "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
		if n != 4 {
			rest = "HTTP/1.1 200 OK\r\n" + rest
		}
		c.Write([]byte(rest))
		return true
	})
	e := registryEndpoint(addr, 0)
	doWithin(t, e, "GET", 5*time.Second)
	for _, want := range []string{"ok2", "ok3", "ok4"} {
		if s, body, err := doWithin(t, e, "GET", 5*time.Second); err != nil || s != 200 || body != want {
			t.Fatalf("slow answer: %d %q %v, want %q", s, body, err, want)
		}
	}
	if n := e.Client.ConnsCount(); n != 1 {
		t.Errorf("%d connections, want 1: a slow answer was not read on its connection", n)
	}
}

// TestPollConnResponseTimeout: the caller's deadline still ends the wait,
// before the watchdog and after it, as a timeout.
func TestPollConnResponseTimeout(t *testing.T) {
	for _, timeout := range []time.Duration{pollconn.ProbeAfter / 2, 3 * pollconn.ProbeAfter} {
		addr, _ := scriptedBackend(t, func(_, n int, c net.Conn, _ *http.Request) bool {
			if n == 1 {
				answer(c, "ok")
			}
			return true // the second request is never answered
		})
		e := registryEndpoint(addr, timeout)
		doWithin(t, e, "GET", 5*time.Second)
		start := time.Now()
		_, _, err := doWithin(t, e, "POST", 5*time.Second)
		if !IsTimeout(err) {
			t.Errorf("timeout %v: %v, want a timeout", timeout, err)
		}
		if d := time.Since(start); d < timeout {
			t.Errorf("timeout %v: ended after %v", timeout, d)
		}
	}
}

// TestWaitingRequestsHoldNoReadBuffer: a request waiting on its upstream
// holds no read buffer; it takes one when the answer is there. With 64 KiB
// read buffers, 50 waiting requests would otherwise hold 3.2 MB.
func TestWaitingRequestsHoldNoReadBuffer(t *testing.T) {
	const waiting, bufSize = 50, 64 << 10
	gate := make(chan struct{})
	var arrived atomic.Int32
	addr, _ := scriptedBackend(t, func(_, _ int, c net.Conn, _ *http.Request) bool {
		arrived.Add(1)
		<-gate
		answer(c, "ok")
		return true
	})
	e := NewRegistry(Options{ReadBufferSize: bufSize}).Get("http", addr)
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	var wg sync.WaitGroup
	for range waiting {
		wg.Go(func() {
			if s, _, _, err := do(e.Client, "GET", "/"); err != nil || s != 200 {
				t.Error(s, err)
			}
		})
	}
	for arrived.Load() < waiting {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // every request is past its send
	during := heap()
	close(gate)
	wg.Wait()
	grew := int64(during) - int64(before)
	t.Logf("heap grew %d KiB for %d waiting requests", grew>>10, waiting)
	if grew > waiting*bufSize/4 {
		t.Errorf("heap grew %d KiB for %d waiting requests: read buffers are held while waiting", grew>>10, waiting)
	}
}

// BenchmarkEAGAINRead is the read pollconn.Conn saves: a read on a loopback
// socket with nothing to read, as Go's net package makes before it parks.
func BenchmarkEAGAINRead(b *testing.B) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	raw, _ := c.(*net.TCPConn).SyscallConn()
	buf := make([]byte, 4096)
	var rerr error
	read := func(fd uintptr) bool { _, rerr = syscall.Read(int(fd), buf); return true }
	for b.Loop() {
		raw.Read(read)
		if rerr != syscall.EAGAIN {
			b.Fatal(rerr)
		}
	}
}

// TestPostAfterIdleClose: a backend closes keep-alive connections idle
// for 150 ms (as Node.js does after 5 s), with no Connection: close. A
// POST that comes after that must not be sent on the closed connection,
// where it would fail and could not be sent again: Go's Transport (and so
// Traefik) sees the close while the connection is idle and dials anew.
func TestPostAfterIdleClose(t *testing.T) {
	addr, conns := scriptedBackend(t, func(_, _ int, c net.Conn, _ *http.Request) bool {
		answer(c, "ok")
		time.AfterFunc(150*time.Millisecond, func() { c.Close() })
		return true
	})
	e := registryEndpoint(addr, 0)
	for i := range 3 {
		if s, body, err := doWithin(t, e, "POST", 5*time.Second); err != nil || s != 200 || body != "ok" {
			t.Fatalf("POST %d: %d %q %v", i, s, body, err)
		}
		time.Sleep(150*time.Millisecond + 3*pollconn.ProbeAfter) // the close, and then quiet for ProbeAfter, with room for a slow machine
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections for three POSTs each after an idle close, want 3", n)
	}
}

// TestPostAfterIdleCloseTLS is TestPostAfterIdleClose with an https
// backend (Go's server: close_notify, then FIN, after 150 ms idle): the
// check looks at the TCP connection under the TLS one.
func TestPostAfterIdleCloseTLS(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	srv.Config.IdleTimeout = 150 * time.Millisecond
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e, err := NewRegistry(Options{}).GetWith("https", srv.Listener.Addr().String(), &TransportConfig{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		var req fasthttp.Request
		var resp fasthttp.Response
		req.Header.SetMethod("POST")
		req.SetRequestURI("https://" + e.Addr + "/")
		req.SetBodyString("order")
		if err := e.Do(&req, &resp); err != nil || resp.StatusCode() != 200 || string(resp.Body()) != "ok" {
			t.Fatalf("POST %d: %d %q %v", i, resp.StatusCode(), resp.Body(), err)
		}
		time.Sleep(150*time.Millisecond + 3*pollconn.ProbeAfter) // the close, and then quiet for ProbeAfter, with room for a slow machine
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections for three POSTs each after an idle close, want 3", n)
	}
}
