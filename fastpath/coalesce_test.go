package fastpath

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// sizedBackend answers /N with N pattern bytes (with a Content-Length),
// /chunked/N with N bytes and no length (chunked), and /notmodified/N with
// a 304 that states Content-Length N.
func sizedBackend(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/")
		kind, num, found := strings.Cut(path, "/")
		if !found {
			kind, num = "", path
		}
		n, _ := strconv.Atoi(num)
		switch kind {
		case "notmodified":
			w.Header().Set("Content-Length", num)
			w.WriteHeader(http.StatusNotModified)
		case "chunked":
			w.Write(pattern(n)[:n/2])
			w.(http.Flusher).Flush()
			w.Write(pattern(n)[n/2:])
		default:
			w.Header().Set("Content-Length", num)
			w.Write(pattern(n))
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[i%36]
	}
	return b
}

// TestCoalescedResponsesArriveWhole: responses of every size around the
// 4 KiB write buffer (held and sent with the rest of the body in one
// writev, or not), streamed and chunked ones, HEAD and 304 answers that
// state a length they do not send, one at a time and pipelined on one
// connection, all arrive byte for byte and in order.
func TestCoalescedResponsesArriveWhole(t *testing.T) {
	be := sizedBackend(t)
	reg := upstream.NewRegistry(upstream.Options{})
	addr, _ := proxyWith(t, map[string][]service.Server{"a.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}}},
		nil, Config{EntryPoint: "web"})
	type exchange struct {
		method, path string
		status, size int
	}
	var all []exchange
	for _, n := range []int{0, 100, 3800, 3900, 4000, 4096, 4097, 4200, 8191, 8192, 8193, 16 << 10, 64<<10 - 1, 64 << 10, 64<<10 + 1, 200 << 10, 1 << 20} {
		all = append(all, exchange{"GET", fmt.Sprint("/", n), 200, n}, exchange{"HEAD", fmt.Sprint("/", n), 200, 0},
			exchange{"GET", fmt.Sprint("/chunked/", n), 200, n})
	}
	all = append(all, exchange{"GET", "/notmodified/10000", 304, 0}, exchange{"GET", "/5000", 200, 5000})
	c, br := dial(t, addr)
	check := func(e exchange) {
		t.Helper()
		resp, err := http.ReadResponse(br, &http.Request{Method: e.method})
		if err != nil {
			t.Fatalf("%s %s: %v", e.method, e.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != e.status || !bytes.Equal(body, pattern(e.size)) {
			t.Fatalf("%s %s: status %d, %d bytes (%v); want %d, %d bytes of the pattern", e.method, e.path, resp.StatusCode, len(body), err, e.status, e.size)
		}
	}
	req := func(e exchange) string { return e.method + " " + e.path + " HTTP/1.1\r\nHost: a.example\r\n\r\n" }
	for _, e := range all { // one at a time
		io.WriteString(c, req(e))
		check(e)
	}
	for i := 0; i < len(all); i += 3 { // pipelined in threes
		var burst strings.Builder
		group := all[i:min(i+3, len(all))]
		for _, e := range group {
			burst.WriteString(req(e))
		}
		io.WriteString(c, burst.String())
		for _, e := range group {
			check(e)
		}
	}
}

// TestExpectLong: a connection is told to hold its next write only for a
// response with more body than a write buffer: not for HEAD, 1xx, 204 or
// 304 answers, a short body, or a chunked stream; a streamed body counts
// by its Content-Length.
func TestExpectLong(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	sc := &spillConn{Conn: a, size: connBuffer}
	for _, tc := range []struct {
		name   string
		method string
		status int
		body   int // bytes; -1: a chunked stream; -2: a stream of 9000 bytes
		want   bool
	}{
		{"long", "GET", 200, 5000, true},
		{"a buffer exactly", "GET", 200, connWriteBuffer, false},
		{"short", "GET", 200, 100, false},
		{"HEAD", "HEAD", 200, 9000, false},
		{"304", "GET", 304, 9000, false},
		{"204", "GET", 204, 9000, false},
		{"chunked stream", "GET", 200, -1, false},
		{"stream with a length", "GET", 200, -2, true},
		{"long error page", "GET", 502, 5000, true},
	} {
		var ctx fasthttp.RequestCtx
		ctx.Init2(sc, nil, false)
		ctx.Request.Header.SetMethod(tc.method)
		ctx.Response.SetStatusCode(tc.status)
		switch tc.body {
		case -1:
			ctx.Response.SetBodyStream(bytes.NewReader(pattern(9000)), -1)
		case -2:
			ctx.Response.SetBodyStream(bytes.NewReader(pattern(9000)), 9000)
		default:
			ctx.Response.SetBody(pattern(tc.body))
		}
		sc.long = !tc.want
		expectLong(&ctx)
		if sc.long != tc.want {
			t.Errorf("%s: long = %v; want %v", tc.name, sc.long, tc.want)
		}
	}
}

// TestHeldUntilTheRest: over a real socket, a held buffer is not sent
// until the rest of the body is written, and then arrives with it; a
// buffer that is not held goes out at once.
func TestHeldUntilTheRest(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := (&spillListener{Listener: ln, size: connBuffer}).Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	sent := func(want int) []byte {
		t.Helper()
		buf := make([]byte, 64<<10)
		client.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, _ := io.ReadAtLeast(client, buf, max(want, 1))
		if n != want {
			t.Fatalf("client got %d bytes; want %d", n, want)
		}
		return buf[:n]
	}
	for _, tc := range []struct {
		name, header string
		held         bool
	}{
		{"a long response", "HTTP/1.1 200 OK\r\nContent-Length: 9000\r\n\r\n", true},
		{"not known to be long", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false},
	} {
		server.(*spillConn).long = tc.held
		resp := append([]byte(tc.header), pattern(9000)...)
		if n, err := server.Write(resp[:connWriteBuffer]); n != connWriteBuffer || err != nil {
			t.Fatalf("%s: first write %d, %v", tc.name, n, err)
		}
		first := connWriteBuffer
		if tc.held {
			first = 0
		}
		got := sent(first)
		if n, err := server.Write(resp[connWriteBuffer:]); n != len(resp)-connWriteBuffer || err != nil {
			t.Fatalf("%s: second write %d, %v", tc.name, n, err)
		}
		got = append(got, sent(len(resp)-len(got))...)
		if !bytes.Equal(got, resp) {
			t.Fatalf("%s: the client did not get the response as written", tc.name)
		}
	}
}
