package pollconn

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/internal/syscr"
)

// pair is a loopback TCP connection: the server's end wrapped by wrap,
// the client's plain.
func pair(t *testing.T, wrap func(net.Conn) net.Conn) (srv net.Conn, cli *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	srv = wrap(s)
	t.Cleanup(func() { srv.Close(); c.Close() })
	return srv, c.(*net.TCPConn)
}

func plain(c net.Conn) net.Conn { return c }

// readSyscalls is the process's read syscall count (Linux).
func readSyscalls(t *testing.T) int {
	n, ok := syscr.Reads()
	if !ok {
		t.Skip("no syscr in /proc/self/io")
	}
	return n
}

// serveLines answers each line read on srv with "ok <line>", holding each
// answer, until the client closes.
func serveLines(srv net.Conn, pause time.Duration) {
	buf := make([]byte, 512)
	for {
		n, err := srv.Read(buf)
		if err != nil {
			return
		}
		time.Sleep(pause)
		HoldLast(srv)
		if _, err := srv.Write(append([]byte("ok "), buf[:n]...)); err != nil {
			return
		}
	}
}

// TestServerSavesARead: a client connection that holds each answer makes
// one read per exchange, where a plain one makes two (the second returns
// EAGAIN: the client's next line is not there yet), counted by the kernel.
func TestServerSavesARead(t *testing.T) {
	const n = 200
	reads := func(wrap func(net.Conn) net.Conn) int {
		srv, cli := pair(t, wrap)
		go serveLines(srv, 0)
		r := bufio.NewReader(cli)
		exchange := func(i int) {
			if _, err := cli.Write([]byte("line " + strconv.Itoa(i) + "\n")); err != nil {
				t.Fatal(err)
			}
			if s, err := r.ReadString('\n'); err != nil || s != "ok line "+strconv.Itoa(i)+"\n" {
				t.Fatalf("exchange %d: %q %v", i, s, err)
			}
			time.Sleep(100 * time.Microsecond) // the next line is never there at once
		}
		exchange(-1)
		before := readSyscalls(t)
		for i := range n {
			exchange(i)
		}
		return readSyscalls(t) - before
	}
	viaPlain := reads(plain)
	viaHold := reads(WrapServer)
	t.Logf("read syscalls per exchange (both ends): plain %.2f, held %.2f", float64(viaPlain)/n, float64(viaHold)/n)
	if saved := viaPlain - viaHold; saved < n*8/10 {
		t.Errorf("holding saved %d reads over %d exchanges, want about one each", saved, n)
	}
}

// TestServerPipelinedRequestWaitsOnlyOnce: a client that sends its next
// request before the answer to the last (pipelining) has had the socket's
// readiness consumed; the watchdog finds the request within about
// ProbeAfter, and the connection then stops holding, so the next
// pipelined request is answered at once.
func TestServerPipelinedRequestWaitsOnlyOnce(t *testing.T) {
	srv, cli := pair(t, WrapServer)
	go serveLines(srv, 30*time.Millisecond) // the next line arrives during the pause
	r := bufio.NewReader(cli)
	read := func(want string) time.Duration {
		start := time.Now()
		if s, err := r.ReadString('\n'); err != nil || s != want {
			t.Fatalf("read %q %v, want %q", s, err, want)
		}
		return time.Since(start)
	}
	cli.Write([]byte("a\n"))
	read("ok a\n")
	// b is answered after 30 ms; c arrives during that pause and before b's
	// answer is written, so its readiness is consumed by the wait after it.
	cli.Write([]byte("b\n"))
	time.Sleep(10 * time.Millisecond)
	cli.Write([]byte("c\n"))
	read("ok b\n")
	d := read("ok c\n")
	if d > 3*ProbeAfter {
		t.Fatalf("the pipelined request took %v, want at most about ProbeAfter (%v)", d, ProbeAfter)
	}
	if !srv.(*Conn).noHold {
		t.Fatalf("after %v for the pipelined request the connection still holds answers", d)
	}
	cli.Write([]byte("d\n"))
	time.Sleep(10 * time.Millisecond)
	cli.Write([]byte("e\n"))
	read("ok d\n")
	if d := read("ok e\n"); d > ProbeAfter/2 {
		t.Errorf("a pipelined request on a connection that no longer holds took %v", d)
	}
}

// TestHeldWriteGoesOutOnce: a held answer reaches the client whole and
// once, whoever sends it: the next write, a Close from the connection's
// goroutine, or a Close from another goroutine racing the wait (a server
// shutting down).
func TestHeldWriteGoesOutOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		then func(srv net.Conn)
		want string
	}{
		{"next write", func(srv net.Conn) { srv.Write([]byte("2\n")); srv.Close() }, "1\n2\n"},
		{"close", func(srv net.Conn) { srv.Close() }, "1\n"},
		{"close write", func(srv net.Conn) { srv.(*Conn).CloseWrite() }, "1\n"},
		{"close racing the wait", func(srv net.Conn) {
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); srv.Read(make([]byte, 8)) }()
			srv.Close()
			wg.Wait()
		}, "1\n"},
		{"read from (splice)", func(srv net.Conn) { srv.(*Conn).ReadFrom(strings.NewReader("2\n")); srv.Close() }, "1\n2\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, cli := pair(t, WrapServer)
			HoldLast(srv)
			if n, err := srv.Write([]byte("1\n")); n != 2 || err != nil {
				t.Fatal(n, err)
			}
			if !srv.(*Conn).heldSet.Load() {
				t.Fatal("the write was not held")
			}
			tc.then(srv)
			cli.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(cli)
			if string(got) != tc.want || err != nil {
				t.Errorf("client read %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestDeadlineBehindTheWatchdog: a read deadline set while the watchdog's
// is sooner (as fasthttp sets one before each request) is kept, and still
// ends the read at its own time, not the watchdog's and not never.
func TestDeadlineBehindTheWatchdog(t *testing.T) {
	srv, cli := pair(t, Wrap)
	go func() { // three exchanges, then silence with the connection open
		r := bufio.NewReader(cli)
		for i := range 3 {
			cli.Write([]byte("x" + strconv.Itoa(i) + "\n"))
			r.ReadString('\n')
		}
	}()
	guard := time.AfterFunc(5*time.Second, func() { srv.Close() }) // a hang fails, not stalls
	defer guard.Stop()
	want := 3 * ProbeAfter
	buf := make([]byte, 8)
	var start time.Time
	for i := range 4 {
		if i > 0 {
			HoldLast(srv)
			srv.Write([]byte("y\n"))
			start = time.Now()
			srv.SetReadDeadline(start.Add(want))
			if i == 3 && !srv.(*Conn).watchdog {
				t.Fatal("the deadline replaced the watchdog's, which was sooner")
			}
		}
		if _, err := srv.Read(buf); i < 3 && err != nil {
			t.Fatalf("read %d: %v", i, err)
		} else if i == 3 {
			d := time.Since(start)
			if !errors.Is(err, os.ErrDeadlineExceeded) || d < want-10*time.Millisecond || d > want+ProbeAfter {
				t.Errorf("the last read ended after %v with %v; want the deadline's %v", d, err, want)
			}
		}
	}
}

// TestClearedDeadlineKeepsTheWatchdog: clearing the read deadline (as
// fasthttp does after each request header) leaves the watchdog on the
// socket, and a read then waits as with no deadline: the watchdog's
// firing does not end it, the peer's late answer does.
func TestClearedDeadlineKeepsTheWatchdog(t *testing.T) {
	srv, cli := pair(t, Wrap)
	late := 3 * ProbeAfter
	go func() {
		r := bufio.NewReader(cli)
		for _, line := range []string{"x\n", "a\n"} {
			cli.Write([]byte(line))
			r.ReadString('\n')
		}
		cli.Write([]byte("b\n"))
		time.Sleep(late)
		cli.Write([]byte("late\n"))
	}()
	guard := time.AfterFunc(5*time.Second, func() { srv.Close() })
	defer guard.Stop()
	buf := make([]byte, 8)
	if _, err := srv.Read(buf); err != nil {
		t.Fatal(err)
	}
	var start time.Time
	for _, want := range []string{"a\n", "b\n"} { // the first wait peeks; the second arms the watchdog
		HoldLast(srv)
		srv.Write([]byte("y\n"))
		start = time.Now()
		if n, err := srv.Read(buf); err != nil || string(buf[:n]) != want {
			t.Fatalf("read %q, %v; want %q", buf[:n], err, want)
		}
	}
	if !srv.(*Conn).watchdog {
		t.Fatal("no watchdog armed by the wait")
	}
	srv.SetReadDeadline(time.Time{})
	if time.Since(start) < ProbeAfter/2 && !srv.(*Conn).watchdog {
		t.Fatal("clearing the deadline took the watchdog off the socket")
	}
	n, err := srv.Read(buf)
	if err != nil || string(buf[:n]) != "late\n" || time.Since(start) < late-10*time.Millisecond {
		t.Fatalf("read %q, %v after %v; want the late answer after %v", buf[:n], err, time.Since(start), late)
	}
}

// TestHoldForNextAfterTheWatchdog: a client connection that stopped
// holding answers (its watchdog fired) still sends a write known to be
// followed with the next one: the client sees nothing until both are
// written, then both.
func TestHoldForNextAfterTheWatchdog(t *testing.T) {
	srv, cli := pair(t, WrapServer)
	srv.(*Conn).noHold = true
	HoldLast(srv)
	srv.Write([]byte("answer\n"))
	if srv.(*Conn).heldSet.Load() {
		t.Fatal("HoldLast held a write on a connection that stopped holding")
	}
	r := bufio.NewReader(cli)
	if s, err := r.ReadString('\n'); err != nil || s != "answer\n" {
		t.Fatalf("%q %v", s, err)
	}
	HoldForNext(srv)
	srv.Write([]byte("head "))
	cli.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if b, err := r.ReadByte(); err == nil {
		t.Fatalf("read %q before the write that follows", b)
	}
	srv.Write([]byte("tail\n"))
	cli.SetReadDeadline(time.Now().Add(5 * time.Second))
	if s, err := r.ReadString('\n'); err != nil || s != "head tail\n" {
		t.Fatalf("%q %v", s, err)
	}
}

// TestStale: a pooled connection is unfit only when it has been quiet for
// over ProbeAfter and the peer closed it (or said something unasked); its
// first use and a recent one are not checked, a plain conn never is.
func TestStale(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quiet bool // used once, then quiet for over ProbeAfter
		peer  func(*net.TCPConn)
		want  bool
	}{
		{"first use, peer closed", false, func(c *net.TCPConn) { c.Close() }, false},
		{"quiet, peer open", true, func(*net.TCPConn) {}, false},
		{"quiet, peer closed", true, func(c *net.TCPConn) { c.Close() }, true},
		{"quiet, peer wrote", true, func(c *net.TCPConn) { c.Write([]byte("HTTP/1.1 408 Request Timeout\r\n\r\n")) }, true},
	} {
		srv, cli := pair(t, Wrap)
		if tc.quiet {
			if Stale(srv) {
				t.Fatalf("%s: stale on first use", tc.name)
			}
			time.Sleep(ProbeAfter + 20*time.Millisecond)
		}
		tc.peer(cli)
		time.Sleep(20 * time.Millisecond) // the close or the bytes arrive
		if got := Stale(srv); got != tc.want {
			t.Errorf("%s: Stale %v, want %v", tc.name, got, tc.want)
		}
		if Stale(srv) {
			t.Errorf("%s: stale again right after a check", tc.name)
		}
	}
	plainSrv, cli := pair(t, plain)
	cli.Close()
	if Stale(plainSrv) {
		t.Error("a plain connection is never checked")
	}
}
