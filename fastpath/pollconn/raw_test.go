package pollconn

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// errShape is what callers test of a net.Conn error.
type errShape struct {
	op      string // the *net.OpError's op; "" when err is not one
	eof     bool
	timeout bool
	closed  bool
	reset   bool // ECONNRESET or EPIPE
}

func shapeOf(err error) errShape {
	var s errShape
	var oe *net.OpError
	if errors.As(err, &oe) {
		s.op = oe.Op
		s.timeout = oe.Timeout()
	}
	s.eof = err == io.EOF
	s.closed = errors.Is(err, net.ErrClosed)
	s.reset = errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
	return s
}

// TestRawErrorsAsNet: a Conn's reads and writes, made with RawSyscall,
// fail as net.Conn's do in the same situation, compared side by side.
func TestRawErrorsAsNet(t *testing.T) {
	cases := []struct {
		name string
		do   func(t *testing.T, srv net.Conn, cli *net.TCPConn) error
		want errShape
	}{
		{"peer closed", func(t *testing.T, srv net.Conn, cli *net.TCPConn) error {
			cli.Close()
			_, err := srv.Read(make([]byte, 16))
			return err
		}, errShape{eof: true}},
		{"read deadline", func(t *testing.T, srv net.Conn, cli *net.TCPConn) error {
			srv.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			_, err := srv.Read(make([]byte, 16))
			return err
		}, errShape{op: "read", timeout: true}},
		{"read after close", func(t *testing.T, srv net.Conn, cli *net.TCPConn) error {
			srv.Close()
			_, err := srv.Read(make([]byte, 16))
			return err
		}, errShape{op: "read", closed: true}},
		{"read after reset", func(t *testing.T, srv net.Conn, cli *net.TCPConn) error {
			cli.SetLinger(0)
			cli.Close()
			time.Sleep(20 * time.Millisecond)
			_, err := srv.Read(make([]byte, 16))
			return err
		}, errShape{op: "read", reset: true}},
		{"write after reset", func(t *testing.T, srv net.Conn, cli *net.TCPConn) error {
			cli.SetLinger(0)
			cli.Close()
			time.Sleep(20 * time.Millisecond)
			var err error
			for i := 0; i < 3 && err == nil; i++ {
				_, err = srv.Write([]byte("after the reset"))
			}
			return err
		}, errShape{op: "write", reset: true}},
		{"write deadline", func(t *testing.T, srv net.Conn, cli *net.TCPConn) error {
			srv.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			_, err := srv.Write(make([]byte, 64<<20)) // the client reads nothing
			return err
		}, errShape{op: "write", timeout: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, cli := pair(t, plain)
			ref := shapeOf(tc.do(t, srv, cli))
			srv, cli = pair(t, Wrap)
			got := shapeOf(tc.do(t, srv, cli))
			if ref != tc.want {
				t.Fatalf("net.Conn: %+v, the test expects %+v", ref, tc.want)
			}
			if got != ref {
				t.Errorf("Conn: %+v, net.Conn: %+v", got, ref)
			}
		})
	}
}

// TestRawWritesWholeThroughAFullSocket: writes larger than the socket
// takes at once, alone and behind a held write (one writev, resumed
// part-way through either buffer), arrive whole and in order.
func TestRawWritesWholeThroughAFullSocket(t *testing.T) {
	srv, cli := pair(t, Wrap)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	var want bytes.Buffer
	done := make(chan error, 1)
	go func() {
		for i := range 3 {
			if i > 0 {
				HoldLast(srv)
				hdr := []byte("held before the big one")
				srv.Write(hdr)
				want.Write(hdr)
			}
			if _, err := srv.Write(big); err != nil {
				done <- err
				return
			}
			want.Write(big)
		}
		done <- srv.Close()
	}()
	got := make([]byte, 0, 3*len(big)+64)
	buf := make([]byte, 7919) // a slow, odd-sized reader
	for {
		n, err := cli.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("got %d bytes, want %d, or not in order", len(got), want.Len())
	}
}

// TestRawConcurrentWriters: net.Conn allows writes from two goroutines at
// once, each write whole; the second one in flight takes net's path, and
// no write is split by the other.
func TestRawConcurrentWriters(t *testing.T) {
	srv, cli := pair(t, Wrap)
	const per, size = 300, 64 << 10
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := bytes.Repeat([]byte{byte('a' + w)}, size)
			for range per {
				if _, err := srv.Write(rec); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); srv.Close() }()
	all, err := io.ReadAll(cli)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2*per*size {
		t.Fatalf("read %d bytes, want %d", len(all), 2*per*size)
	}
	for i := 0; i < len(all); i += size {
		if rec := all[i : i+size]; bytes.Count(rec, rec[:1]) != size {
			t.Fatalf("record at %d is split by the other writer", i)
		}
	}
}
