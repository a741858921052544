package fastpath

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// The whole-handler fuzz targets over the other front ends (issue 25):
// arbitrary bytes as a TLS connection's application data (after a real
// handshake, HTTP/1.1 or, by ALPN, HTTP/2), and as an h2c connection's
// frames after its preface. Whatever comes, the proxy must not panic and
// must serve the next connection.

// FuzzTLSRequest sends in over a TLS connection negotiated for alpn.
func FuzzTLSRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: b.example\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	_, addr := tlsProxy(f, "a.example", Config{EntryPoint: "web", HandshakeTimeout: time.Second})
	f.Fuzz(func(t *testing.T, in string, h2 bool) {
		if len(in) > 64<<10 {
			return
		}
		alpn := []string{"http/1.1"}
		if h2 {
			alpn = []string{"h2"}
		}
		c, err := tls.Dial("tcp4", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "a.example", NextProtos: alpn})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(c, in)
		c.CloseWrite()
		io.Copy(io.Discard, c)
		c.Close()
		aliveTLS(t, addr)
	})
}

// FuzzH2CFrames sends in after an h2c connection's preface and SETTINGS.
func FuzzH2CFrames(f *testing.F) {
	f.Add([]byte("\x00\x00\x04\x08\x00\x00\x00\x00\x00\x00\x00\x00\x01"))                 // WINDOW_UPDATE
	f.Add([]byte("\x00\x00\x08\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")) // PING
	f.Add([]byte("\x00\x00\x0e\x01\x05\x00\x00\x00\x01\x82\x86\x84\x41\x09a.example"))    // HEADERS GET /
	f.Add([]byte("\x00\x00\x03\x01\x04\x00\x00\x00\x01\x82\x86\x84\x00\x00\x00\x09\x04\x00\x00\x00\x01"))
	addr := fuzzProxy(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 64<<10 {
			return
		}
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
		c.Write(in)
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
		if st, _, _ := raw(t, addr, "GET /alive HTTP/1.1\r\nHost: a.example\r\n\r\n"); st != 200 {
			t.Fatalf("after %q the proxy answers a plain request with %d", in, st)
		}
	})
}

// aliveTLS: a new TLS connection gets its request answered by the TLS
// router.
func aliveTLS(t *testing.T, addr string) {
	t.Helper()
	c, err := tls.Dial("tcp4", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "a.example", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatalf("after the input, a handshake: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprint(c, "GET /alive HTTP/1.1\r\nHost: a.example\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the input, a TLS request: %v %v", resp, err)
	}
}
