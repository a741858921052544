package fastpath

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// upgradeBackend answers an Upgrade with 101, a greeting, then echoes
// lines; /refuse answers 400 instead. closed gets a value when a joined
// connection ends.
func upgradeBackend(t *testing.T) (addr string, closed chan struct{}) {
	t.Helper()
	closed = make(chan struct{}, 4)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/refuse" {
			w.WriteHeader(400)
			io.WriteString(w, "no")
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer func() { c.Close(); closed <- struct{}{} }()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\nX-Seen-Proto: %s\r\nX-Seen-Conn: %s\r\n\r\nhello from server\n",
			r.Header.Get("Upgrade"), r.Header.Get("X-Forwarded-Proto"), r.Header.Get("Connection"))
		brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			brw.WriteString("echo: " + line)
			brw.Flush()
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), closed
}

// TestUpgradeJoinsBothWays: a WebSocket upgrade through a real proxy
// socket gets the server's 101 and then a byte pipe both ways that
// survives a table swap; closing the client closes the server side.
func TestUpgradeJoinsBothWays(t *testing.T) {
	baddr, closed := upgradeBackend(t)
	reg := upstream.NewRegistry(upstream.Options{})
	addr, tp := proxy(t, map[string][]service.Server{"ws.example": {{URL: "http://" + baddr, Endpoint: reg.Get("http", baddr)}}}, nil)

	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /chat HTTP/1.1\r\nHost: ws.example\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Upgrade") != "websocket" || !strings.EqualFold(resp.Header.Get("Connection"), "upgrade") {
		t.Fatalf("got %d %v", resp.StatusCode, resp.Header)
	}
	if resp.Header.Get("X-Seen-Proto") != "ws" || !strings.EqualFold(resp.Header.Get("X-Seen-Conn"), "upgrade") {
		t.Errorf("server saw X-Forwarded-Proto %q, Connection %q; want ws, Upgrade", resp.Header.Get("X-Seen-Proto"), resp.Header.Get("X-Seen-Conn"))
	}
	expectLine(t, br, "hello from server\n")
	io.WriteString(c, "one\n")
	expectLine(t, br, "echo: one\n")
	tp.Store(route.NewBuilder([]string{"web"}).Build()) // the route is gone from the table
	io.WriteString(c, "two\n")
	expectLine(t, br, "echo: two\n")
	c.Close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("server side not closed after the client left")
	}
}

func expectLine(t *testing.T, br *bufio.Reader, want string) {
	t.Helper()
	got, err := br.ReadString('\n')
	if err != nil || got != want {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}

// TestUpgradeRefused: a server that does not switch protocols answers as
// usual, and the client gets that answer.
func TestUpgradeRefused(t *testing.T) {
	baddr, _ := upgradeBackend(t)
	reg := upstream.NewRegistry(upstream.Options{})
	addr, _ := proxy(t, map[string][]service.Server{"ws.example": {{URL: "http://" + baddr, Endpoint: reg.Get("http", baddr)}}}, nil)
	st, body, _ := raw(t, addr, "GET /refuse HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	if st != 400 || body != "no" {
		t.Fatalf("got %d %q", st, body)
	}
	// A dead server is a 502.
	ln, _ := net.Listen("tcp4", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	addr, _ = proxy(t, map[string][]service.Server{"ws.example": {{URL: "http://" + dead, Endpoint: reg.Get("http", dead)}}}, nil)
	if st, _, _ := raw(t, addr, "GET / HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"); st != 502 {
		t.Fatalf("dead server: got %d, want 502", st)
	}
}
