//go:build linux

package main

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// acceptedOptions is what an accepted connection of ln carries: keep-alive
// on, idle, interval, count, no-delay.
func acceptedOptions(t *testing.T, ln net.Listener) [5]int {
	t.Helper()
	defer ln.Close()
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			defer c.Close()
			c.Write([]byte("x")) // listenTCP accepts once something came
			c.Read(make([]byte, 1))
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got [5]int
	raw.Control(func(fd uintptr) {
		for i, o := range [][2]int{
			{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE}, {syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE},
			{syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL}, {syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT},
			{syscall.IPPROTO_TCP, syscall.TCP_NODELAY},
		} {
			v, err := syscall.GetsockoptInt(int(fd), o[0], o[1])
			if err != nil {
				t.Fatal(err)
			}
			got[i] = v
		}
	})
	return got
}

// TestListenTCPKeepAliveAsGo: a connection accepted by listenTCP, which
// sets keep-alive once on the listener, carries the same keep-alive and
// no-delay settings as one accepted by net.Listen, which sets them on
// each connection.
func TestListenTCPKeepAliveAsGo(t *testing.T) {
	ref, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ours, err := listenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	want, got := acceptedOptions(t, ref), acceptedOptions(t, ours)
	if want != [5]int{1, keepAliveIdleSeconds, keepAliveIntervalSeconds, keepAliveCount, 1} {
		t.Fatalf("net.Listen's accepted connection: %v; Go's defaults changed", want)
	}
	if got != want {
		t.Errorf("listenTCP's accepted connection: %v, net.Listen's: %v", got, want)
	}
}

// listenAndDial is a listenTCP listener on loopback and a client connected
// to it (not yet accepted), both closed when the test ends.
func listenAndDial(t *testing.T) (*net.TCPListener, net.Conn) {
	t.Helper()
	ln, err := listenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return ln.(*net.TCPListener), c
}

// TestListenTCPAcceptsWithData: a connection is accepted once its client
// has sent something, not before; then its first read has it at once.
func TestListenTCPAcceptsWithData(t *testing.T) {
	tl, c := listenAndDial(t)
	tl.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if s, err := tl.Accept(); !errors.Is(err, os.ErrDeadlineExceeded) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("accepted before the client sent anything: %v", err)
	}
	c.Write([]byte("GET / HTTP/1.1\r\n"))
	tl.SetDeadline(time.Now().Add(2 * time.Second))
	s, err := tl.Accept()
	if err != nil {
		t.Fatalf("not accepted after the client sent: %v", err)
	}
	defer s.Close()
	s.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 64)
	if n, err := s.Read(buf); err != nil || string(buf[:n]) != "GET / HTTP/1.1\r\n" {
		t.Fatalf("first read: %q, %v", buf[:n], err)
	}
}

// TestListenTCPAcceptsASilentClient: a client that connects and sends
// nothing is still accepted, after about deferAcceptSeconds (the kernel
// takes its next ACK once the deferral is over).
func TestListenTCPAcceptsASilentClient(t *testing.T) {
	tl, _ := listenAndDial(t)
	start := time.Now()
	tl.SetDeadline(start.Add(10 * time.Second))
	s, err := tl.Accept()
	if err != nil {
		t.Fatalf("a silent client was not accepted within 10 s: %v", err)
	}
	s.Close()
	if d := time.Since(start); d < deferAcceptSeconds*time.Second/2 {
		t.Errorf("accepted after %v, before the deferral", d)
	} else {
		t.Logf("accepted after %v", d)
	}
}
