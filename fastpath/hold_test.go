package fastpath

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/pollconn"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// TestHeldResponsesKeepOrderAndPace: a whole response waits in the client
// connection until the server waits for the next request (pollconn).
// Through a real proxy and sockets: keep-alive responses arrive whole and
// in order; a request pipelined behind a slow one, whose arrival the wait
// cannot see, is answered within the watchdog, and the next such one at
// once; a streamed response's first bytes are not held back until its end.
func TestHeldResponsesKeepOrderAndPace(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			time.Sleep(30 * time.Millisecond)
		case "/stream":
			w.Write([]byte("first "))
			w.(http.Flusher).Flush()
			time.Sleep(300 * time.Millisecond)
		}
		io.WriteString(w, r.URL.Path)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	be := ln.Addr().String()
	reg := upstream.NewRegistry(upstream.Options{})
	addr, _ := proxyWith(t, map[string][]service.Server{"a.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}}},
		nil, Config{EntryPoint: "web"})

	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	send := func(path string) { io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: a.example\r\n\r\n") }
	recv := func(want string) time.Duration {
		t.Helper()
		start := time.Now()
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading the answer to %s: %v", want, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasSuffix(string(body), want) {
			t.Fatalf("%d %q, want 200 %q", resp.StatusCode, body, want)
		}
		return time.Since(start)
	}
	for _, p := range []string{"/a", "/b", "/c"} {
		send(p)
		recv(p)
	}
	// /next arrives while /slow is with the backend, before its answer.
	send("/slow")
	time.Sleep(10 * time.Millisecond)
	send("/next")
	recv("/slow")
	if d := recv("/next"); d > 3*pollconn.ProbeAfter {
		t.Fatalf("the pipelined request took %v, want about the watchdog (%v) at most", d, pollconn.ProbeAfter)
	}
	send("/slow")
	time.Sleep(10 * time.Millisecond)
	send("/again")
	recv("/slow")
	if d := recv("/again"); d > pollconn.ProbeAfter/2 {
		t.Errorf("the second pipelined request took %v; the connection should have stopped holding", d)
	}
	// A streamed response: its first bytes come long before its end.
	start := time.Now()
	send("/stream")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first " {
		t.Fatalf("%q %v", first, err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("the stream's first bytes came after %v: held with its end", d)
	}
	io.ReadAll(resp.Body)
}
