//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/sluiceproxy/sluice/bench/demo"
)

// backends starts two demo upstreams on loopback and returns their addresses.
func backends(t *testing.T) []string {
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := demo.Server(ln.Addr().String())
		go s.Serve(ln)
		t.Cleanup(func() { s.Shutdown() })
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs
}

// TestRelay sends keep-alive requests through each mode over two client
// connections: every response arrives whole and in order, and the two
// connections are paired with the two upstreams in turn.
func TestRelay(t *testing.T) {
	ups := backends(t)
	for _, mode := range []string{"epoll", "go"} {
		t.Run(mode, func(t *testing.T) {
			addr := start(t, mode, ups)
			for i, up := range ups {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				br := bufio.NewReader(c)
				for _, size := range []int{100, 16384, 100} {
					fmt.Fprintf(c, "GET /?size=%d HTTP/1.1\r\nHost: x\r\n\r\n", size)
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						t.Fatalf("connection %d, size %d: %v", i, size, err)
					}
					body, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil || len(body) != size {
						t.Fatalf("connection %d: %d bytes (%v), want %d", i, len(body), err, size)
					}
					if tag := "backend " + up[len(up)-4:]; !strings.HasPrefix(string(body), tag) {
						t.Errorf("connection %d: body %.20q, want it from %s", i, body, up)
					}
				}
			}
		})
	}
}

// TestRelayClosesPair checks that a client's close reaches its upstream's
// side too: the relay keeps serving new connections afterwards.
func TestRelayClosesPair(t *testing.T) {
	ups := backends(t)
	for _, mode := range []string{"epoll", "go"} {
		t.Run(mode, func(t *testing.T) {
			addr := start(t, mode, ups)
			for i := range 20 {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
				b, err := io.ReadAll(c) // the upstream closes; the relay closes us
				c.Close()
				if err != nil || !strings.HasPrefix(string(b), "HTTP/1.1 200") {
					t.Fatalf("connection %d: %q, %v", i, b, err)
				}
			}
		})
	}
}

// start runs the relay in mode on a free loopback port, for the rest of the
// test binary's life, and returns its address.
func start(t *testing.T, mode string, ups []string) string {
	if mode == "go" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go relayGo(ln, ups)
		return ln.Addr().String()
	}
	l, err := newLoop("127.0.0.1:0", ups)
	if err != nil {
		t.Fatal(err)
	}
	go l.run()
	return l.addr()
}
