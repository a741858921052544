package h2

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// serve runs srv on a loopback listener with h and returns its address.
func serve(t *testing.T, srv *Server, h Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				srv.ServeConn(c, h)
			}()
		}
	}()
	return ln.Addr().String()
}

func client() *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &http2.Transport{AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
}

// echo answers with what it got: method, path, authority, the fields, and
// the body's length and digest; /big/N answers N octets.
func echo(s *Stream) {
	var resp fasthttp.Response
	resp.Header.SetNoDefaultContentType(true)
	var n int
	if _, err := fmt.Sscanf(string(s.Path), "/big/%d", &n); err == nil {
		resp.SetBody(bytes.Repeat([]byte("x"), n))
		s.WriteResponse(&resp)
		return
	}
	body, err := io.ReadAll(s)
	if err != nil {
		return // reset: nothing to answer
	}
	sum := sha256.Sum256(body)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s len=%d sha=%s", s.Method, s.Path, s.Authority, len(body), hex.EncodeToString(sum[:4]))
	for _, f := range s.Fields {
		fmt.Fprintf(&b, " %s=%s", f.Name, f.Value)
	}
	resp.Header.Set("X-Echo", "1")
	resp.SetBodyString(b.String())
	s.WriteResponse(&resp)
}

func TestServeRequests(t *testing.T) {
	addr := serve(t, &Server{}, echo)
	c := client()
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB: several windows
	sum := sha256.Sum256(big)
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		want               string
	}{
		{"GET", "GET", "/a?b=c", nil, "GET /a?b=c " + addr + " len=0"},
		{"HEAD", "HEAD", "/h", nil, ""},
		{"POST small", "POST", "/p", []byte("hello"), "POST /p " + addr + " len=5"},
		{"POST over windows", "POST", "/up", big, "POST /up " + addr + " len=3145728 sha=" + hex.EncodeToString(sum[:4])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, "http://"+addr+tc.path, bytes.NewReader(tc.body))
			if tc.body == nil {
				req.Body = nil
			}
			req.Header.Set("X-Test", "v")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Date") == "" || resp.Header.Get("X-Echo") != "1" {
				t.Fatalf("status %d header %v", resp.StatusCode, resp.Header)
			}
			if !strings.HasPrefix(string(b), tc.want) {
				t.Fatalf("body %q, want prefix %q", b, tc.want)
			}
			if tc.method == "HEAD" && (len(b) != 0 || resp.ContentLength <= 0) {
				t.Fatalf("HEAD: body %q, content-length %d", b, resp.ContentLength)
			}
			if tc.method != "HEAD" && !strings.Contains(string(b), "x-test=v") {
				t.Fatalf("the field did not arrive: %q", b)
			}
		})
	}
}

// TestLargeResponses: bodies beyond the client's windows arrive whole,
// on many streams at once.
func TestLargeResponses(t *testing.T) {
	addr := serve(t, &Server{}, echo)
	c := client()
	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 100000 * (i + 1)
			resp, err := c.Get(fmt.Sprintf("http://%s/big/%d", addr, n))
			if err != nil {
				bad.Add(1)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if len(b) != n || resp.ContentLength != int64(n) {
				bad.Add(1)
			}
		}()
	}
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d of 20 large responses failed", bad.Load())
	}
}

// TestStreamingAndTrailers: a streamed body is flushed as it comes, and
// its trailers follow it.
func TestStreamingAndTrailers(t *testing.T) {
	release := make(chan struct{})
	addr := serve(t, &Server{}, func(s *Stream) {
		var resp fasthttp.Response
		pr, pw := io.Pipe()
		go func() {
			pw.Write([]byte("first "))
			<-release
			pw.Write([]byte("second"))
			pw.Close()
		}()
		resp.SetBodyStream(&trailerReader{r: pr}, -1)
		s.WriteResponse(&resp)
	})
	resp, err := client().Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first " {
		t.Fatalf("the first chunk did not arrive alone: %q %v", buf, err)
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second" || resp.Trailer.Get("Grpc-Status") != "0" {
		t.Fatalf("rest %q trailers %v", rest, resp.Trailer)
	}
}

type trailerReader struct{ r io.Reader }

func (t *trailerReader) Read(p []byte) (int, error) { return t.r.Read(p) }
func (t *trailerReader) Trailers() http.Header {
	return http.Header{"Grpc-Status": {"0"}}
}

// rawClient speaks HTTP/2 frame by frame (x/net's Framer), for what a
// well-behaved client would not send.
type rawClient struct {
	t   *testing.T
	c   net.Conn
	fr  *http2.Framer
	buf bytes.Buffer
	enc *hpack.Encoder
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := &rawClient{t: t, c: c, fr: http2.NewFramer(c, c)}
	r.enc = hpack.NewEncoder(&r.buf)
	r.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if _, err := io.WriteString(c, clientPreface); err != nil {
		t.Fatal(err)
	}
	_ = r.fr.WriteSettings()
	return r
}

// request sends a HEADERS frame with fields (name, value pairs).
func (r *rawClient) request(id uint32, end bool, kv ...string) {
	r.buf.Reset()
	for i := 0; i < len(kv); i += 2 {
		_ = r.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	if err := r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: r.buf.Bytes(),
		EndStream: end, EndHeaders: true}); err != nil {
		r.t.Fatal(err)
	}
}

// answer reads frames until stream id's response header or reset, and
// returns its :status (or "RST <code>").
func (r *rawClient) answer(id uint32) string {
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			r.t.Fatalf("reading the answer of stream %d: %v", id, err)
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			if f.StreamID == id {
				return f.PseudoValue("status")
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				return "RST " + f.ErrCode.String()
			}
		case *http2.GoAwayFrame:
			return "GOAWAY " + f.ErrCode.String()
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = r.fr.WriteSettingsAck()
			}
		}
	}
}

var get = []string{":method", "GET", ":scheme", "http", ":path", "/"}

// TestHeaderListLimit: a request header list over the limit is answered
// 431, and the connection serves the next request.
func TestHeaderListLimit(t *testing.T) {
	addr := serve(t, &Server{MaxHeaderBytes: 4096}, echo)
	r := dialRaw(t, addr)
	r.request(1, true, append(get, ":authority", "a.example", "x-big", strings.Repeat("a", 5000))...)
	if got := r.answer(1); got != "431" {
		t.Fatalf("an oversized header list: %s, want 431", got)
	}
	r.request(3, true, append(get, ":authority", "a.example")...)
	if got := r.answer(3); got != "200" {
		t.Fatalf("the next request: %s", got)
	}
}

// TestMalformedRequests: each request RFC 9113 calls malformed resets its
// stream with PROTOCOL_ERROR; the connection goes on.
func TestMalformedRequests(t *testing.T) {
	addr := serve(t, &Server{}, echo)
	r := dialRaw(t, addr)
	id := uint32(1)
	for name, kv := range map[string][]string{
		"upper-case name":        append(get, "X-Up", "v"),
		"connection field":       append(get, "connection", "keep-alive"),
		"te not trailers":        append(get, "te", "gzip"),
		"no :path":               {":method", "GET", ":scheme", "http"},
		"CR in a value":          append(get, "x-a", "a\r\nb: c"),
		"pseudo after regular":   {":method", "GET", "x-a", "b", ":scheme", "http", ":path", "/"},
		"unknown pseudo":         append(get, ":foo", "bar"),
		"two :path":              append(get, ":path", "/b"),
		"space at a value's end": append(get, "x-a", "b "),
	} {
		r.request(id, true, kv...)
		if got := r.answer(id); got != "RST PROTOCOL_ERROR" {
			t.Errorf("%s: %s, want RST PROTOCOL_ERROR", name, got)
		}
		id += 2
	}
	r.request(id, true, append(get, ":authority", "a.example")...)
	if got := r.answer(id); got != "200" {
		t.Fatalf("a good request after them: %s", got)
	}
}

// TestAuthority: :authority is the request's authority; without it, the
// host field is (RFC 9113 section 8.3.1).
func TestAuthority(t *testing.T) {
	got := make(chan string, 2)
	addr := serve(t, &Server{}, func(s *Stream) {
		got <- string(s.Authority) + " host=" + string(s.Host)
		echo(s)
	})
	r := dialRaw(t, addr)
	r.request(1, true, append(get, ":authority", "a.example", "host", "b.example")...)
	r.answer(1)
	r.request(3, true, append(get, "host", "b.example")...)
	r.answer(3)
	if a, b := <-got, <-got; a != "a.example host=b.example" || b != "b.example host=b.example" {
		t.Fatalf("got %q and %q", a, b)
	}
}

// TestConcurrencyLimit: streams past MaxConcurrentStreams running
// handlers are refused; the client retries them once handlers end.
func TestConcurrencyLimit(t *testing.T) {
	var mu sync.Mutex
	running := map[*conn]int{} // Go's client opens more connections past the limit
	peak := 0
	addr := serve(t, &Server{MaxConcurrentStreams: 4}, func(s *Stream) {
		mu.Lock()
		running[s.c]++
		peak = max(peak, running[s.c])
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		running[s.c]--
		mu.Unlock()
		echo(s)
	})
	c := client()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get("http://" + addr + "/")
			if err != nil {
				failed.Add(1)
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	if failed.Load() > 0 || peak > 4 {
		t.Fatalf("%d failed; %d handlers ran at once on one connection, limit 4", failed.Load(), peak)
	}
}

// TestIdleTimeoutAndShutdown: an idle connection is closed after the idle
// timeout; Shutdown lets a request in progress finish, then ends.
func TestIdleTimeoutAndShutdown(t *testing.T) {
	srv := &Server{IdleTimeout: 200 * time.Millisecond}
	started := make(chan struct{}, 1)
	addr := serve(t, srv, func(s *Stream) {
		if string(s.Path) == "/slow" {
			started <- struct{}{}
			time.Sleep(300 * time.Millisecond)
		}
		echo(s)
	})
	c := client()
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(3 * time.Second)
	for srv.Open() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if srv.Open() != 0 {
		t.Fatal("an idle connection outlived the idle timeout")
	}
	srv = &Server{}
	addr = serve(t, srv, func(s *Stream) {
		if string(s.Path) == "/slow" {
			started <- struct{}{}
			time.Sleep(300 * time.Millisecond)
		}
		echo(s)
	})
	done := make(chan error, 1)
	go func() {
		resp, err := c.Get("http://" + addr + "/slow")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the request in progress: %v", err)
	}
}

// TestShutdownLingers: a stream the client opens while a graceful GOAWAY
// is on its way is refused (so the client may retry it elsewhere), its
// body is read and discarded, and the connection then ends cleanly
// instead of being reset under the client's writes.
func TestShutdownLingers(t *testing.T) {
	srv := &Server{}
	addr := serve(t, srv, echo)
	r := dialRaw(t, addr)
	r.request(1, true, append(get, ":authority", "a.example")...)
	if got := r.answer(1); got != "200" {
		t.Fatalf("the first request: %s", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	for !r.sawGoAway() {
	}
	// The client has not read the GOAWAY yet: it opens a stream and
	// writes a body the size of the connection window.
	r.request(3, false, append(get, ":method", "POST", ":authority", "a.example")...)
	chunk := make([]byte, 16<<10)
	for i := 0; i < 4; i++ {
		if err := r.fr.WriteData(3, i == 3, chunk[:len(chunk)-boolInt(i == 3)]); err != nil {
			t.Fatalf("writing the body after the GOAWAY: %v", err)
		}
	}
	if got := r.answer(3); got != "RST REFUSED_STREAM" {
		t.Fatalf("a stream opened after the GOAWAY: %s, want RST REFUSED_STREAM", got)
	}
	r.cleanClose()
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// cleanClose reads frames until the server closes the connection, and
// fails unless it closed it cleanly (no reset).
func (r *rawClient) cleanClose() {
	for {
		if _, err := r.fr.ReadFrame(); err != nil {
			if err != io.EOF {
				r.t.Errorf("the connection ended with %v, want a clean close", err)
			}
			return
		}
	}
}

// sawGoAway reads one frame and says whether it was a GOAWAY.
func (r *rawClient) sawGoAway() bool {
	f, err := r.fr.ReadFrame()
	if err != nil {
		r.t.Fatalf("waiting for the GOAWAY: %v", err)
	}
	_, ok := f.(*http2.GoAwayFrame)
	return ok
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestKeepAliveLimits: MaxRequests and MaxAge end a connection with a
// graceful GOAWAY whose last stream is the one that reached the limit:
// that stream is answered, a later one refused, and the connection ends.
func TestKeepAliveLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		srv  *Server
		wait time.Duration // before the second request
		last uint32        // the stream the GOAWAY names
	}{
		{"MaxRequests=2", &Server{MaxRequests: 2}, 0, 3},
		{"MaxAge=300ms", &Server{MaxAge: 300 * time.Millisecond}, 400 * time.Millisecond, 3},
		{"MaxRequests=1", &Server{MaxRequests: 1}, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, serve(t, tc.srv, echo))
			var goAway *http2.GoAwayFrame
			statuses := map[uint32]string{}
			read := func(id uint32) {
				for statuses[id] == "" {
					f, err := r.fr.ReadFrame()
					if err != nil {
						t.Fatalf("waiting for stream %d: %v", id, err)
					}
					switch f := f.(type) {
					case *http2.MetaHeadersFrame:
						statuses[f.StreamID] = f.PseudoValue("status")
					case *http2.RSTStreamFrame:
						statuses[f.StreamID] = "RST " + f.ErrCode.String()
					case *http2.GoAwayFrame:
						goAway = f
					case *http2.SettingsFrame:
						if !f.IsAck() {
							_ = r.fr.WriteSettingsAck()
						}
					}
				}
			}
			for i, id := range []uint32{1, 3, 5} {
				if i == 1 {
					time.Sleep(tc.wait)
				}
				if goAway != nil && id > goAway.LastStreamID {
					break
				}
				r.request(id, true, append(get, ":authority", "a.example")...)
				read(id)
			}
			if goAway == nil || goAway.ErrCode != http2.ErrCodeNo || goAway.LastStreamID != tc.last {
				t.Fatalf("GOAWAY %+v, want NO_ERROR naming stream %d (answers %v)", goAway, tc.last, statuses)
			}
			for id := uint32(1); id <= tc.last; id += 2 {
				if statuses[id] != "200" {
					t.Errorf("stream %d before the limit: %q", id, statuses[id])
				}
			}
			r.request(tc.last+2, true, append(get, ":authority", "a.example")...)
			read(tc.last + 2)
			if got := statuses[tc.last+2]; got != "RST REFUSED_STREAM" {
				t.Errorf("a stream after the GOAWAY: %q", got)
			}
			r.cleanClose()
		})
	}
}
