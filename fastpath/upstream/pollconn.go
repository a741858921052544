package upstream

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// pollConn is a plain TCP upstream connection that saves the read Go's net
// package makes right after a request is written. A net.Conn Read always
// tries the socket before it parks, so the first read after a request
// finds nothing (the server has not answered yet) and costs a syscall that
// returns EAGAIN: one of the six syscalls per proxied request that Sluice
// made, where nginx and HAProxy make four and a cheap fifth.
//
// The request's last write (the final flush) is held by Write and sent by
// the next Read from inside syscall.RawConn.Read, whose callback then
// reports "not ready" without reading: the goroutine parks on the
// netpoller at once and reads only when the answer is there. The answer
// cannot be missed: RawConn.Read clears the connection's readiness before
// the callback runs and the request goes out after that, so the answer's
// arrival is a new edge that wakes the read.
//
// What the clear can drop is the readiness of something the server sent
// before the request: the close of an idle connection. Two guards cover it:
//   - a connection quiet for more than probeAfter (where servers' idle
//     timeouts fall) reads first, as net.Conn would, and sees the close at
//     once;
//   - otherwise the wait has a watchdog, a read deadline probeAfter away
//     (or the caller's, if sooner). When it fires before the answer, the
//     read falls back to net.Conn's, which finds a close that was dropped
//     or else waits on as before. A close inside that window costs at most
//     probeAfter, never a hang.
//
// It is used by one request at a time (the pool hands a connection to one
// round trip), like the net.Conn it wraps.
type pollConn struct {
	*net.TCPConn
	raw    syscall.RawConn
	waitFn func(fd uintptr) bool // pc.wait, bound once so Read does not allocate

	hold     bool      // the next Write is held (set by holdLast)
	held     []byte    // the held write; it is the caller's buffer until sent
	lastSend time.Time // when the previous held write was sent
	deadline time.Time // the read deadline the caller set; zero: none
	watchdog bool      // the socket's read deadline is the watchdog's, not deadline

	// The Read in progress, for wait.
	buf   []byte
	n     int
	err   error
	probe bool
}

// probeAfter is how long a connection may have been quiet and still skip
// the read before the request is sent, and the watchdog's delay. Servers
// close idle keep-alive connections after seconds; a connection reused
// under load was used a moment ago.
const probeAfter = 100 * time.Millisecond

// newPollConn wraps a TCP connection; any other connection is returned as
// it is.
func newPollConn(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	pc := &pollConn{TCPConn: tc, raw: raw}
	pc.waitFn = pc.wait
	return pc
}

// holdLast makes the next Write on c, if c is a pollConn, be held until
// the next Read; the caller must keep that write's buffer unchanged until
// then. It reports whether it did.
func holdLast(c net.Conn) bool {
	pc, ok := c.(*pollConn)
	if ok {
		pc.hold = true
	}
	return ok
}

// dropHeld clears a hold that no Write took and drops a held write that no
// Read sent (the round trip failed before it could).
func dropHeld(c net.Conn) {
	pc := c.(*pollConn)
	pc.hold, pc.held = false, nil
}

// Write implements net.Conn.
func (pc *pollConn) Write(p []byte) (int, error) {
	if pc.hold {
		pc.hold = false
		pc.held = p
		return len(p), nil
	}
	if err := pc.sendHeld(); err != nil {
		return 0, err
	}
	return pc.TCPConn.Write(p)
}

func (pc *pollConn) sendHeld() error {
	if pc.held == nil {
		return nil
	}
	held := pc.held
	pc.held = nil
	_, err := pc.TCPConn.Write(held)
	return err
}

// SetReadDeadline implements net.Conn.
func (pc *pollConn) SetReadDeadline(t time.Time) error {
	pc.deadline, pc.watchdog = t, false
	return pc.TCPConn.SetReadDeadline(t)
}

// SetDeadline implements net.Conn.
func (pc *pollConn) SetDeadline(t time.Time) error {
	pc.deadline, pc.watchdog = t, false
	return pc.TCPConn.SetDeadline(t)
}

// Read implements net.Conn.
func (pc *pollConn) Read(p []byte) (int, error) {
	if pc.held == nil || len(p) == 0 {
		if err := pc.sendHeld(); err != nil {
			return 0, err
		}
		pc.unwatch()
		return pc.TCPConn.Read(p)
	}
	now := time.Now()
	pc.probe = pc.lastSend.IsZero() || now.Sub(pc.lastSend) > probeAfter
	pc.lastSend = now
	if pc.probe {
		pc.unwatch()
	} else if wd := now.Add(probeAfter); pc.deadline.IsZero() || wd.Before(pc.deadline) {
		_ = pc.TCPConn.SetReadDeadline(wd)
		pc.watchdog = true
	}
	pc.buf, pc.n, pc.err = p, 0, nil
	err := pc.raw.Read(pc.waitFn)
	n := pc.n
	if err == nil {
		err = pc.err
	}
	pc.buf, pc.err = nil, nil
	if pc.held != nil { // the wait ended (deadline, close) before the send
		pc.held = nil
		return 0, err
	}
	if pc.watchdog && errors.Is(err, os.ErrDeadlineExceeded) && pc.beforeDeadline() {
		// The watchdog fired with nothing read: read as net.Conn does,
		// which sees a close whose readiness was dropped, or waits on.
		pc.unwatch()
		return pc.TCPConn.Read(p)
	}
	return n, err
}

// unwatch puts the caller's read deadline back in place of the watchdog.
func (pc *pollConn) unwatch() {
	if pc.watchdog {
		pc.watchdog = false
		_ = pc.TCPConn.SetReadDeadline(pc.deadline)
	}
}

// beforeDeadline: the caller's read deadline, if any, has not passed.
func (pc *pollConn) beforeDeadline() bool {
	return pc.deadline.IsZero() || time.Now().Before(pc.deadline)
}

// wait is the RawConn.Read callback. Its first call sends the held write
// (after a probe read where the connection has been quiet) and asks to
// wait; later calls read.
func (pc *pollConn) wait(fd uintptr) bool {
	if pc.held == nil {
		return pc.read(fd)
	}
	if pc.probe {
		pc.probe = false
		if pc.read(fd) {
			// Something (an answer to nothing, or the close of an idle
			// connection) was there before the request: send the request
			// anyway and report what was read, as net.Conn would have.
			if err := pc.sendHeld(); err != nil && pc.err == nil && pc.n == 0 {
				pc.err = err
			}
			return true
		}
	}
	if err := pc.sendHeld(); err != nil {
		pc.err = err
		return true
	}
	return false
}

// read reads once into pc.buf; false means nothing was there yet.
func (pc *pollConn) read(fd uintptr) bool {
	for {
		n, err := syscall.Read(int(fd), pc.buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false
		case err != nil:
			pc.err = &net.OpError{Op: "read", Net: "tcp", Source: pc.LocalAddr(), Addr: pc.RemoteAddr(), Err: os.NewSyscallError("read", err)}
		case n == 0:
			pc.err = io.EOF
		default:
			pc.n = n
		}
		return true
	}
}
