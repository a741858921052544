package upstream

import (
	"errors"
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
// The request's last write (the final flush) is held, as a copy, and sent
// by await from inside syscall.RawConn.Read, whose callback then reports
// "not ready" without reading: the goroutine parks on the netpoller at
// once and is woken when the answer is there. Only then does the caller
// take a read buffer, so a request waiting on its upstream holds none.
// The answer cannot be missed: RawConn.Read clears the connection's
// readiness before the callback runs and the request goes out after that,
// so the answer's arrival is a new edge that wakes the wait.
//
// What the clear can drop is the readiness of something the server sent
// before the request: the close of an idle connection. Two guards cover it:
//   - a connection quiet for more than probeAfter (where servers' idle
//     timeouts fall) first peeks at the socket and sees the close at once;
//   - otherwise the wait has a watchdog, a read deadline between half of
//     probeAfter and probeAfter away (or the caller's, if sooner; it is
//     re-armed only when less than half is left, so a connection in steady
//     use moves it every 50 ms, not per request: setting a deadline was 2%
//     of the 1-route profile). When it fires first, the wait ends and
//     the read that follows is net.Conn's, which finds a close that was
//     dropped or else waits on under the caller's deadline. A close inside
//     that window costs at most probeAfter, never a hang.
//
// It is used by one request at a time (the pool hands a connection to one
// round trip), like the net.Conn it wraps. A write is held only between
// writeRequest's flush and roundTrip's awaitAnswer; the ReadFrom and
// WriteTo promoted from net.TCPConn (splice for upgraded connections) do
// not see a held write, and nothing calls them in between.
type pollConn struct {
	*net.TCPConn
	raw    syscall.RawConn
	waitFn func(fd uintptr) bool // pc.wait, bound once so await does not allocate

	hold     bool      // the next Write is held (set by holdLast)
	held     []byte    // the held write (a copy in heldBuf), not yet sent
	heldBuf  []byte    // grows to the largest request held on this connection
	sendErr  error     // the held write's, for await
	probe    bool      // await peeks before it sends
	lastSend time.Time // when the previous held write was sent
	deadline time.Time // the read deadline the caller set; zero: none
	watchdog bool      // the socket's read deadline is the watchdog's, not deadline
	watchAt  time.Time // the watchdog's deadline
	peekBuf  [1]byte
}

// probeAfter is how long a connection may have been quiet and still skip
// the peek before the request is sent, and the watchdog's delay. Servers
// close idle keep-alive connections after seconds; a connection reused
// under load was used a moment ago.
const probeAfter = 100 * time.Millisecond

// maxHeld is the largest write held: a request's headers. Larger writes
// go out at once and the answer is read as net.Conn reads.
const maxHeld = 4 << 10

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
// await or the next Read; endHold ends it if no Write came.
func holdLast(c net.Conn) {
	if pc, ok := c.(*pollConn); ok {
		pc.hold = true
	}
}

func endHold(c net.Conn) {
	if pc, ok := c.(*pollConn); ok {
		pc.hold = false
	}
}

// awaitAnswer sends c's held write and waits until the answer can be read,
// if c is a pollConn holding one.
func awaitAnswer(c net.Conn) error {
	if pc, ok := c.(*pollConn); ok {
		return pc.await()
	}
	return nil
}

// Write implements net.Conn.
func (pc *pollConn) Write(p []byte) (int, error) {
	if err := pc.sendHeld(); err != nil {
		return 0, err
	}
	if pc.hold && len(p) <= maxHeld {
		pc.hold = false
		pc.held = append(pc.heldBuf[:0], p...)
		pc.heldBuf = pc.held
		return len(p), nil
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

// Read implements net.Conn. A deadline that is only the watchdog's (the
// answer began to arrive but not all of it before the watchdog) is put
// back to the caller's and the read goes on.
func (pc *pollConn) Read(p []byte) (int, error) {
	if err := pc.await(); err != nil {
		return 0, err
	}
	n, err := pc.TCPConn.Read(p)
	if n == 0 && pc.watchdog && errors.Is(err, os.ErrDeadlineExceeded) && pc.beforeDeadline() {
		pc.unwatch()
		return pc.TCPConn.Read(p)
	}
	return n, err
}

// await sends the held write, if any, and waits until the answer can be
// read. It returns the send's error, the caller's deadline or a close;
// when the watchdog ends the wait it returns nil and the read that follows
// decides.
func (pc *pollConn) await() error {
	if pc.held == nil {
		return nil
	}
	now := time.Now()
	pc.probe = pc.lastSend.IsZero() || now.Sub(pc.lastSend) > probeAfter
	pc.lastSend = now
	if pc.probe {
		pc.unwatch()
	} else if !pc.watchdog || pc.watchAt.Sub(now) < probeAfter/2 {
		if wd := now.Add(probeAfter); pc.deadline.IsZero() || wd.Before(pc.deadline) {
			_ = pc.TCPConn.SetReadDeadline(wd)
			pc.watchdog, pc.watchAt = true, wd
		}
	}
	pc.sendErr = nil
	err := pc.raw.Read(pc.waitFn)
	if pc.held != nil { // the wait ended (deadline, close) before the send
		pc.held = nil
		return err
	}
	if err == nil {
		err, pc.sendErr = pc.sendErr, nil
	}
	if pc.watchdog && errors.Is(err, os.ErrDeadlineExceeded) && pc.beforeDeadline() {
		pc.unwatch()
		return nil
	}
	return err
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
// (after a peek where the connection has been quiet) and asks to wait;
// the call after the wake-up reports the answer ready.
func (pc *pollConn) wait(fd uintptr) bool {
	if pc.held == nil {
		return true
	}
	ready := pc.probe && pc.peek(fd)
	if err := pc.sendHeld(); err != nil {
		pc.sendErr = err
		return true
	}
	return ready
}

// peek reports whether a read on fd would not wait: data, a close or an
// error is there. It reads nothing.
func (pc *pollConn) peek(fd uintptr) bool {
	for {
		_, _, err := syscall.Recvfrom(int(fd), pc.peekBuf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if err != syscall.EINTR {
			return err != syscall.EAGAIN
		}
	}
}
