package main

import (
	"bufio"
	"crypto/tls"
	be "encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// timeoutsSetup serves h.test (a backend echoing the path; /big answers
// 64 MiB) over plain HTTP and TLS (tls: {} on tls.test), WebSocket-like
// upgrades on ws.test, with the entry point's transport options extra.
func timeoutsSetup(t *testing.T, extra ...string) *sluiceProc {
	t.Helper()
	port := namedBackendFunc(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			chunk := make([]byte, 1<<20)
			for i := 0; i < 64; i++ {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			return
		}
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.Path, len(b))
	})
	ws := echoUpgradeBackend(t, "127.0.0.1")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "r.yaml"), manifests("h", port, "127.0.0.1")+"---\n"+manifests("ws", ws, "127.0.0.1")+`---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
  - {match: Host(`+"`h.test`"+`), services: [{name: h, port: 80}]}
  - {match: Host(`+"`ws.test`"+`), services: [{name: ws, port: 80}]}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: t, namespace: e2e}
spec:
  routes: [{match: Host(`+"`tls.test`"+`), services: [{name: h, port: 80}]}]
  tls: {}
`)
	p := startSluice(t, dir, extra...)
	eventually(t, p.addr, "h.test", "/ready", 200, "GET /ready 0")
	return p
}

// closedWithin reads c until it is closed or fails, and returns how long
// that took (or fails the test past limit).
func closedWithin(t *testing.T, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("still open after %v", limit)
	}
	return time.Since(start)
}

// TestBinaryTimeouts: slowloris cut at readTimeout, over plain HTTP and
// TLS; a keep-alive connection closed at idleTimeout; a slow reader cut
// at writeTimeout; keepAliveMaxRequests and keepAliveMaxTime closing with
// Connection: close; an upgraded connection and an HTTP/2 one outliving
// readTimeout; http2.maxConcurrentStreams advertised (issue 25).
func TestBinaryTimeouts(t *testing.T) {
	ep := "--entryPoints.web.transport."
	p := timeoutsSetup(t, ep+"respondingTimeouts.readTimeout=2s", ep+"respondingTimeouts.idleTimeout=1s",
		ep+"respondingTimeouts.writeTimeout=2s", ep+"keepAliveMaxRequests=3", "--entryPoints.web.http2.maxConcurrentStreams=7")

	t.Run("slowloris", func(t *testing.T) {
		for _, useTLS := range []bool{false, true} {
			c := dialMaybeTLS(t, p.addr, useTLS)
			start := time.Now()
			go func() { // a header byte every 100 ms, never finished
				for _, b := range []byte("GET / HTTP/1.1\r\nHost: h.test\r\nX-Slow: " + strings.Repeat("a", 200)) {
					if _, err := c.Write([]byte{b}); err != nil {
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
			closedWithin(t, c, 6*time.Second)
			if d := time.Since(start); d < 1500*time.Millisecond || d > 3500*time.Millisecond {
				t.Errorf("tls=%v: slowloris cut after %v, want about readTimeout (2s)", useTLS, d)
			}
			t.Logf("tls=%v: slowloris cut after %v", useTLS, time.Since(start).Round(time.Millisecond))
		}
	})

	t.Run("idle", func(t *testing.T) {
		c := dialMaybeTLS(t, p.addr, false)
		if err := oneRequest(c, "h.test"); err != nil {
			t.Fatal(err)
		}
		if d := closedWithin(t, c, 4*time.Second); d < 700*time.Millisecond || d > 2500*time.Millisecond {
			t.Errorf("idle keep-alive closed after %v, want about idleTimeout (1s)", d)
		}
	})

	t.Run("slow read", func(t *testing.T) {
		c := dialMaybeTLS(t, p.addr, false)
		start := time.Now()
		fmt.Fprint(c, "GET /big HTTP/1.1\r\nHost: h.test\r\n\r\n")
		time.Sleep(4 * time.Second) // never reading while sluice writes 64 MiB
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := io.Copy(io.Discard, c)
		if n >= 64<<20 || err != nil && !isReset(err) {
			t.Errorf("a client that stopped reading got %d bytes, then %v; want the answer cut", n, err)
		}
		t.Logf("slow reader cut: %d bytes read after %v", n, time.Since(start).Round(time.Millisecond))
	})

	t.Run("keepAliveMaxRequests", func(t *testing.T) {
		c := dialMaybeTLS(t, p.addr, false)
		br := bufio.NewReader(c)
		for i := 1; i <= 3; i++ {
			fmt.Fprintf(c, "GET /%d HTTP/1.1\r\nHost: h.test\r\n\r\n", i)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			io.Copy(io.Discard, resp.Body)
			if resp.Close != (i == 3) {
				t.Errorf("request %d: Connection close %v", i, resp.Close)
			}
		}
	})

	t.Run("upgrade outlives readTimeout", func(t *testing.T) {
		c := dialMaybeTLS(t, p.addr, false)
		br := bufio.NewReader(c)
		fmt.Fprint(c, "GET /chat HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 101 {
			t.Fatalf("upgrade: %v %v", resp, err)
		}
		time.Sleep(3 * time.Second) // past readTimeout (and idleTimeout)
		c.SetDeadline(time.Now().Add(3 * time.Second))
		fmt.Fprint(c, "still here\n")
		if line, err := br.ReadString('\n'); line != "echo: still here\n" {
			t.Errorf("after readTimeout the upgraded connection answered %q, %v", line, err)
		}
	})

	t.Run("maxConcurrentStreams", func(t *testing.T) {
		if got := h2cSetting(t, p.addr, 0x3); got != 7 {
			t.Errorf("SETTINGS_MAX_CONCURRENT_STREAMS %d, want 7", got)
		}
	})
}

// TestBinaryHTTP2OutlivesReadTimeout: an HTTP/2 connection over TLS,
// idle between requests, is not cut at readTimeout (the read deadline of
// the connection's first bytes is not its HTTP/2 server's).
func TestBinaryHTTP2OutlivesReadTimeout(t *testing.T) {
	p := timeoutsSetup(t, "--entryPoints.web.transport.respondingTimeouts.readTimeout=1s")
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "tls.test"}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	for i := 0; i < 2; i++ {
		reused := false
		trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) { reused = ci.Reused }}
		req, _ := http.NewRequest("GET", "https://"+p.addr+"/h2", nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		req.Host = "tls.test"
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 || reused != (i == 1) {
			t.Fatalf("request %d: %s %d, connection reused %v", i, resp.Proto, resp.StatusCode, reused)
		}
		time.Sleep(2 * time.Second) // past readTimeout
	}
}

// TestBinaryKeepAliveMaxTime: the first answer after keepAliveMaxTime
// closes the connection.
func TestBinaryKeepAliveMaxTime(t *testing.T) {
	p := timeoutsSetup(t, "--entryPoints.web.transport.keepAliveMaxTime=1s")
	c := dialMaybeTLS(t, p.addr, false)
	br := bufio.NewReader(c)
	for i, wait := range []time.Duration{0, 300 * time.Millisecond, time.Second} {
		time.Sleep(wait)
		fmt.Fprintf(c, "GET /%d HTTP/1.1\r\nHost: h.test\r\n\r\n", i)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		if resp.Close != (i == 2) {
			t.Errorf("request %d (%v in): Connection close %v", i, wait, resp.Close)
		}
	}
}

func dialMaybeTLS(t *testing.T, addr string, useTLS bool) net.Conn {
	t.Helper()
	var c net.Conn
	var err error
	if useTLS {
		c, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "tls.test", NextProtos: []string{"http/1.1"}})
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "broken pipe"))
}

// h2cSetting opens an h2c connection with prior knowledge and returns the
// value of setting id in the server's first SETTINGS frame (-1: absent).
func h2cSetting(t *testing.T, addr string, id uint16) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return h2cSettingOn(t, c, id)
}

// h2cSettingOn is h2cSetting on an open connection.
func h2cSettingOn(t *testing.T, c net.Conn, id uint16) int {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
	var head [9]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		t.Fatal(err)
	}
	n := int(head[0])<<16 | int(head[1])<<8 | int(head[2])
	if head[3] != 0x4 {
		t.Fatalf("first frame type %d, want SETTINGS", head[3])
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+6 <= len(body); i += 6 {
		if be.BigEndian.Uint16(body[i:]) == id {
			return int(be.BigEndian.Uint32(body[i+2:]))
		}
	}
	return -1
}

// TestBinaryHTTP2ConnectionLimits: over h2c and HTTP/2 over TLS,
// keepAliveMaxRequests and keepAliveMaxTime end a connection as Traefik's
// Go server does for HTTP/2 (a GOAWAY, so the client's next request opens
// a new connection and none fails), and idleTimeout closes a connection
// without an open stream (issue 25).
func TestBinaryHTTP2ConnectionLimits(t *testing.T) {
	ep := "--entryPoints.web.transport."
	clients := func() map[string]*http.Client {
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "tls.test"}, ForceAttemptHTTP2: true}
		return map[string]*http.Client{"h2c": h2cHTTPClient(), "HTTP/2 over TLS": {Transport: tr, Timeout: 5 * time.Second}}
	}
	// send makes requests on one client and says, for each, whether it
	// reused a connection.
	send := func(t *testing.T, name string, cl *http.Client, addr string, waits ...time.Duration) []bool {
		var reused []bool
		scheme, host := "http", "h.test"
		if name != "h2c" {
			scheme, host = "https", "tls.test"
		}
		for i, wait := range waits {
			time.Sleep(wait)
			var r bool
			trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) { r = ci.Reused }}
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s://%s/%d", scheme, addr, i), nil)
			req.Host = host
			resp, err := cl.Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
			if err != nil {
				t.Fatalf("%s request %d: %v", name, i, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
				t.Fatalf("%s request %d: %s %d", name, i, resp.Proto, resp.StatusCode)
			}
			reused = append(reused, r)
		}
		return reused
	}
	t.Run("keepAliveMaxRequests", func(t *testing.T) {
		p := timeoutsSetup(t, ep+"keepAliveMaxRequests=3")
		for name, cl := range clients() {
			got := fmt.Sprint(send(t, name, cl, p.addr, 0, 0, 0, 50*time.Millisecond, 0))
			if want := "[false true true false true]"; got != want {
				t.Errorf("%s: connection reused %s, want %s (a new one after 3 requests)", name, got, want)
			}
		}
	})
	t.Run("keepAliveMaxTime", func(t *testing.T) {
		p := timeoutsSetup(t, ep+"keepAliveMaxTime=1s")
		for name, cl := range clients() {
			got := fmt.Sprint(send(t, name, cl, p.addr, 0, 300*time.Millisecond, time.Second, 50*time.Millisecond))
			if want := "[false true true false]"; got != want {
				t.Errorf("%s: connection reused %s, want %s (a new one after the first request past 1 s)", name, got, want)
			}
		}
	})
	t.Run("idleTimeout", func(t *testing.T) {
		p := timeoutsSetup(t, ep+"respondingTimeouts.idleTimeout=1s")
		c := dialMaybeTLS(t, p.addr, false)
		if got := h2cSettingOn(t, c, 0x3); got != 250 {
			t.Fatalf("SETTINGS_MAX_CONCURRENT_STREAMS %d", got)
		}
		// The client neither sends nor acknowledges anything more: the
		// connection has no stream and must go within about a second
		// (plus the second the GOAWAY lingers for frames in flight).
		if d := closedWithin(t, c, 5*time.Second); d < 700*time.Millisecond || d > 3500*time.Millisecond {
			t.Errorf("an idle h2c connection closed after %v, want about idleTimeout (1s) + 1s", d)
		}
	})
}
