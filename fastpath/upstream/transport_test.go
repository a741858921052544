package upstream

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// rawBackend answers each request on loopback with the raw bytes script
// returns for its path, and counts the connections it accepted.
func rawBackend(t *testing.T, script func(path string) string) (string, *atomic.Int32) {
	t.Helper()
	return scriptedBackend(t, func(_, _ int, c net.Conn, req *http.Request) bool {
		out := script(req.URL.Path)
		if _, err := io.WriteString(c, out); err != nil || strings.Contains(out, "Connection: close") {
			c.Close()
			return false
		}
		return true
	})
}

func client(addr string) *fasthttp.HostClient {
	// One attempt: a retry on a fresh connection would hide a reused one
	// that was left mid-body.
	return &fasthttp.HostClient{Addr: addr, Transport: &Transport{BufferLimit: 1024}, NoDefaultUserAgentHeader: true, MaxIdemponentCallAttempts: 1}
}

// do sends method path and reads the whole body, streamed or not.
func do(hc *fasthttp.HostClient, method, path string) (int, string, bool, error) {
	return doWith(hc.Addr, hc.Do, method, path)
}

// doWith is do through send: a HostClient's Do or an Endpoint's.
func doWith(addr string, send func(*fasthttp.Request, *fasthttp.Response) error, method, path string) (int, string, bool, error) {
	var req fasthttp.Request
	var resp fasthttp.Response
	req.Header.SetMethod(method)
	req.SetRequestURI("http://" + addr + path)
	if err := send(&req, &resp); err != nil {
		return 0, "", false, err
	}
	streamed := resp.IsBodyStream()
	var body []byte
	var err error
	if streamed {
		body, err = io.ReadAll(resp.BodyStream())
		resp.CloseBodyStream()
	} else {
		body = resp.Body()
	}
	return resp.StatusCode(), string(body), streamed, err
}

func TestTransportFraming(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<12) // 64 KiB, over the 1 KiB limit
	bigHdr := strings.Repeat("h", 300<<10)           // over 4 KiB and 32 KiB: the reader grows twice
	for _, tc := range []struct {
		name, method, resp string
		status             int
		body               string
		streamed, reused   bool
		wantErr            bool
	}{
		{name: "small fixed body is buffered", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
			status: 200, body: "hello", reused: true},
		{name: "large fixed body is streamed", resp: "HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n" + big,
			status: 200, body: big, streamed: true, reused: true},
		{name: "chunked with extension and trailer", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: 1\r\n\r\n",
			status: 200, body: "hello, world!!!", streamed: true, reused: true},
		{name: "until close", resp: "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it",
			status: 200, body: "all of it", streamed: true},
		{name: "HEAD keeps no body", method: "HEAD", resp: "HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n",
			status: 200, reused: true},
		{name: "304 has no body", resp: "HTTP/1.1 304 Not Modified\r\nContent-Length: 70000\r\n\r\n",
			status: 304, reused: true},
		{name: "interim 100 is skipped", resp: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
			status: 201, body: "ok", reused: true},
		{name: "a 101 connection is never pooled", resp: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n",
			status: 101},
		{name: "truncated chunked body fails", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n10\r\nshort",
			status: 200, body: "short", streamed: true, wantErr: true},
		{name: "header over the read buffer is read whole", resp: "HTTP/1.1 200 OK\r\nX-Big: " + bigHdr + "\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", reused: true},
		{name: "interim 100, then a large header and a streamed body", resp: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Big: " +
			bigHdr + "\r\nContent-Length: 65536\r\n\r\n" + big, status: 200, body: big, streamed: true, reused: true},
		{name: "header over 10 MiB fails", resp: "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("h", 10<<20) + "\r\n\r\n",
			wantErr: true},
		{name: "malformed chunk size fails", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
			status: 200, streamed: true, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, conns := rawBackend(t, func(string) string { return tc.resp })
			hc := client(addr)
			method := tc.method
			if method == "" {
				method = "GET"
			}
			for i := 0; i < 2; i++ {
				status, body, streamed, err := do(hc, method, "/")
				if (err != nil) != tc.wantErr || status != tc.status || body != tc.body || streamed != tc.streamed {
					t.Fatalf("request %d: got status %d, %d body bytes, streamed %v, err %v; want %d, %d bytes, streamed %v, err %v",
						i, status, len(body), streamed, err, tc.status, len(tc.body), tc.streamed, tc.wantErr)
				}
			}
			want := int32(2)
			if tc.reused {
				want = 1
			}
			if got := conns.Load(); got != want {
				t.Fatalf("upstream connections for 2 requests; got %d; want %d", got, want)
			}
		})
	}
}

// TestTransportAbandonedStreamClosesConn: a body not read to its end must
// not leave its rest to be read as the next response.
func TestTransportAbandonedStreamClosesConn(t *testing.T) {
	big := strings.Repeat("x", 1<<16)
	addr, conns := rawBackend(t, func(p string) string {
		if p == "/big" {
			return "HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n" + big
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	})
	hc := client(addr)
	var req fasthttp.Request
	var resp fasthttp.Response
	req.SetRequestURI("http://" + addr + "/big")
	if err := hc.Do(&req, &resp); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(resp.BodyStream(), buf); err != nil {
		t.Fatal(err)
	}
	resp.CloseBodyStream()
	if _, body, _, err := do(hc, "GET", "/small"); err != nil || body != "ok" {
		t.Fatalf("request after an abandoned stream: got %q, %v; want \"ok\"", body, err)
	}
	if got := conns.Load(); got != 2 {
		t.Fatalf("upstream connections; got %d; want 2 (the abandoned one closed)", got)
	}
}

func TestParseChunkSize(t *testing.T) {
	for _, tc := range []struct {
		line string
		n    int64
		ok   bool
	}{
		{"0\r\n", 0, true}, {"1a\r\n", 26, true}, {"FF;name=v\r\n", 255, true}, {"10 \r\n", 16, true},
		{"\r\n", 0, false}, {"g\r\n", 0, false}, {"-1\r\n", 0, false}, {"1000000000000000\r\n", 0, false},
		{"fffffffffffffff\r\n", 1<<60 - 1, true}, {"5", 0, false},
	} {
		n, ok := parseChunkSize([]byte(tc.line))
		if n != tc.n || ok != tc.ok {
			t.Errorf("parseChunkSize(%q) = %d, %v; want %d, %v", tc.line, n, ok, tc.n, tc.ok)
		}
	}
}

// TestTransportSlowChunksArriveAsSent: each chunk is readable before the
// next is written, so an event stream is not held back.
func TestTransportSlowChunksArriveAsSent(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	next := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		http.ReadRequest(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nevent1\r\n")
		<-next
		io.WriteString(c, "6\r\nevent2\r\n0\r\n\r\n")
	}()
	hc := client(ln.Addr().String())
	var req fasthttp.Request
	var resp fasthttp.Response
	req.SetRequestURI("http://" + hc.Addr + "/")
	if err := hc.Do(&req, &resp); err != nil {
		t.Fatal(err)
	}
	defer resp.CloseBodyStream()
	buf := make([]byte, 64)
	done := make(chan string, 1)
	go func() { n, _ := resp.BodyStream().Read(buf); done <- string(buf[:n]) }()
	select {
	case got := <-done:
		if got != "event1" {
			t.Fatalf("first read; got %q; want \"event1\"", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first chunk was held back until the body ended")
	}
	close(next)
	rest, err := io.ReadAll(resp.BodyStream())
	if err != nil || !bytes.Equal(rest, []byte("event2")) {
		t.Fatalf("rest; got %q, %v; want \"event2\"", rest, err)
	}
}

// TestTransportLargeResponseHeader: a response header larger than the
// pool's read buffer arrives whole, and the connection is reused after.
func TestTransportLargeResponseHeader(t *testing.T) {
	v := strings.Repeat("c", 100<<10)
	addr, conns := rawBackend(t, func(path string) string {
		if path == "/big" {
			return "HTTP/1.1 200 OK\r\nSet-Cookie: a=" + v + "\r\nContent-Length: 3\r\n\r\nbig"
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmall"
	})
	hc := client(addr)
	for _, path := range []string{"/big", "/small", "/big"} {
		var req fasthttp.Request
		var resp fasthttp.Response
		req.SetRequestURI("http://" + addr + path)
		if err := hc.Do(&req, &resp); err != nil {
			t.Fatal(err)
		}
		if path == "/big" && string(resp.Header.Peek("Set-Cookie")) != "a="+v || string(resp.Body()) != path[1:] {
			t.Fatalf("%s: %d header bytes, body %q", path, len(resp.Header.Peek("Set-Cookie")), resp.Body())
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("connections: %d, want 1", n)
	}
}

// TestTransportTrailers: a chunked answer's trailer fields are kept once
// its body is read to its end (canonical names, values trimmed, several
// values of a name in order), as Go's transport gives them; fields no
// trailer may carry, and lines that are not fields, are dropped.
func TestTransportTrailers(t *testing.T) {
	addr, _ := rawBackend(t, func(string) string {
		return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Grpc-Status\r\n\r\n2\r\nok\r\n0\r\n" +
			"grpc-status:  5 \r\nGrpc-Message: gone\r\nX-Two: a\r\nx-two: b\r\nContent-Length: 9\r\nnot a field\r\n\r\n"
	})
	hc := client(addr)
	var req fasthttp.Request
	var resp fasthttp.Response
	req.SetRequestURI("http://" + addr + "/")
	if err := hc.Do(&req, &resp); err != nil {
		t.Fatal(err)
	}
	s := resp.BodyStream()
	tr, ok := s.(interface{ Trailers() http.Header })
	if !ok {
		t.Fatalf("the stream %T reports no trailers", s)
	}
	if body, err := io.ReadAll(s); err != nil || string(body) != "ok" {
		t.Fatalf("body %q, %v", body, err)
	}
	want := http.Header{"Grpc-Status": {"5"}, "Grpc-Message": {"gone"}, "X-Two": {"a", "b"}}
	if got := tr.Trailers(); !reflect.DeepEqual(got, want) {
		t.Fatalf("trailers %v, want %v", got, want)
	}
	resp.CloseBodyStream()
}
