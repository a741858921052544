package fastpath

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// TestProxyFlushesWhenUpstreamPauses: a large fixed-length body whose
// upstream pauses mid-way reaches the client up to the pause, not just up
// to the last full buffer (responseForwarding.flushInterval's purpose).
func TestProxyFlushesWhenUpstreamPauses(t *testing.T) {
	const first, total = 65536 + 100, 200000
	release := make(chan struct{})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(total))
		// A full copy buffer, then a small piece that would sit in the
		// client-side write buffer if nothing flushed it.
		w.Write(bytes.Repeat([]byte("a"), 65536))
		http.NewResponseController(w).Flush()
		time.Sleep(50 * time.Millisecond)
		w.Write(bytes.Repeat([]byte("a"), first-65536))
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		w.Write(bytes.Repeat([]byte("b"), total-first))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	be := ln.Addr().String()
	reg := upstream.NewRegistry(upstream.Options{})
	addr, _ := proxy(t, map[string][]service.Server{"f.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}}}, nil)

	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: f.example\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadFull(resp.Body, make([]byte, first))
	close(release)
	if err != nil {
		t.Fatalf("received %d of the %d bytes sent before the pause: %v", got, first, err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(resp.Body)
	if err != nil || got+len(rest) != total {
		t.Fatalf("body %d bytes, %v", got+len(rest), err)
	}
}
