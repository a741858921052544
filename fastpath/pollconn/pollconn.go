package pollconn

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Conn is a plain TCP connection that saves the read Go's net package
// makes right after a request (or response) is written. A net.Conn Read
// always tries the socket before it parks, so the first read after a
// request finds nothing (the peer has not answered yet) and costs a
// syscall that returns EAGAIN.
//
// The last write (the final flush) is held, as a copy, and sent by Await
// from inside syscall.RawConn.Read, whose callback then reports "not
// ready" without reading: the goroutine parks on the netpoller at once and
// is woken when the answer is there. Only then does the caller take a read
// buffer, so a request waiting on its answer holds none. The answer cannot
// be missed: RawConn.Read clears the connection's readiness before the
// callback runs and the write goes out after that, so the answer's arrival
// is a new edge that wakes the wait.
//
// What the clear can drop is the readiness of something the peer sent
// before the write: the close of an idle upstream connection, or a request
// a client pipelined behind the one being answered. Two guards cover it:
//   - a connection quiet for more than ProbeAfter (where servers' idle
//     timeouts fall) first peeks at the socket and sees the close at once;
//   - otherwise the wait has a watchdog, a read deadline between half of
//     ProbeAfter and ProbeAfter away (or the caller's, if sooner; it is
//     re-armed only when less than half is left, so a connection in steady
//     use moves it every 50 ms, not per request: setting a deadline was 2%
//     of the 1-route profile). When it fires first, the wait ends and
//     the read that follows is net.Conn's, which finds a close that was
//     dropped or else waits on under the caller's deadline. A close inside
//     that window costs at most ProbeAfter, never a hang.
//
// A client connection (WrapServer) stops holding once its watchdog has
// fired: the client was quiet for that long, where holding saves nothing,
// or it pipelined a request that the watchdog had to find, and the next
// one would wait as long.
//
// The caller's read deadline is kept, not applied, while the watchdog's
// is sooner (fasthttp sets one per request, and clears it after the
// header): the watchdog's firing puts it in place.
//
// A Conn is used by one goroutine at a time, like the net.Conn it wraps,
// except that Close may come from another (a server shutting down): the
// held write is claimed atomically, so it goes out once.
type Conn struct {
	*net.TCPConn
	raw     syscall.RawConn
	waitFn  func(fd uintptr) bool // pc.wait, bound once so await does not allocate
	readFn  func(fd uintptr) bool // pc.rawRead, bound once
	writeFn func(fd uintptr) bool // pc.rawWrite, bound once
	peekFn  func(fd uintptr)      // pc.peekReadable, bound once
	rio     rawIO                 // the read in flight (raw.go)
	wio     rawIO                 // the write in flight
	reading atomic.Bool           // rio is in use
	writing atomic.Bool           // wio is in use

	server   bool           // a client connection: the watchdog's firing ends holding
	noHold   bool           // the watchdog fired on a client connection
	hold     bool           // the next Write is held (set by HoldLast)
	held     *[maxHeld]byte // the held write's copy, from heldBufs
	heldN    int            // its length
	heldSet  atomic.Bool    // held is set and not yet claimed by a send
	sendErr  error          // the held write's, for await
	probe    bool           // await peeks before it sends
	lastSend time.Duration  // when the previous held write was sent, or Stale looked (monoNow); 0: never
	checked  bool           // Stale set lastSend for the exchange under way: await takes it as now
	readable bool           // peekReadable's answer
	deadline time.Time      // the read deadline the caller set; zero: none
	watchdog bool           // the socket's read deadline is the watchdog's, not deadline
	watchAt  time.Duration  // the watchdog's deadline (monoNow)
	peekBuf  [1]byte
}

// ProbeAfter is how long a connection may have been quiet and still skip
// the peek before the request is sent, and the watchdog's delay. Servers
// close idle keep-alive connections after seconds; a connection reused
// under load was used a moment ago.
const ProbeAfter = 100 * time.Millisecond

// clockBase is the origin of the readings await takes with monoNow.
var clockBase = time.Now()

// monoNow reads the monotonic clock only (time.Since of a time with a
// monotonic reading); time.Now reads the wall clock as well, and await
// runs twice per proxied request.
func monoNow() time.Duration { return time.Since(clockBase) }

// maxHeld is the largest write held: a request's headers, a small
// response, or a client connection's whole write buffer. Larger writes go
// out at once.
const maxHeld = 4 << 10

// heldBufs holds the copies: a connection takes one only between a held
// write and its send, so a thousand connections do not keep one each.
var heldBufs = sync.Pool{New: func() any { return new([maxHeld]byte) }}

// Wrap wraps an upstream TCP connection; any other connection is returned
// as it is.
func Wrap(c net.Conn) net.Conn { return wrap(c, false) }

// WrapServer wraps a client TCP connection of a server (see Conn); any
// other connection is returned as it is.
func WrapServer(c net.Conn) net.Conn { return wrap(c, true) }

func wrap(c net.Conn, server bool) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	pc := &Conn{TCPConn: tc, raw: raw, server: server}
	pc.waitFn, pc.readFn, pc.writeFn, pc.peekFn = pc.wait, pc.rawRead, pc.rawWrite, pc.peekReadable
	return pc
}

// HoldLast makes the next Write on c, if c is a Conn, be held until Await,
// the next Read or Write (which goes out with it in one writev), ReadFrom,
// or Close; EndHold ends it if no Write came. A Read ends it too.
func HoldLast(c net.Conn) {
	if pc, ok := c.(*Conn); ok && !pc.noHold {
		pc.hold = true
	}
}

// HoldForNext is HoldLast for a write the caller knows another will follow
// (the first buffer of a long response): it goes out with that one in one
// writev. A client connection that stopped holding (its watchdog fired)
// still does this, since no wait comes between the two.
func HoldForNext(c net.Conn) {
	if pc, ok := c.(*Conn); ok {
		pc.hold = true
	}
}

// EndHold: the next Write on c goes out at once.
func EndHold(c net.Conn) {
	if pc, ok := c.(*Conn); ok {
		pc.hold = false
	}
}

// Await sends c's held write and waits until the answer can be read, if c
// is a Conn holding one.
func Await(c net.Conn) error {
	if pc, ok := c.(*Conn); ok {
		return pc.await()
	}
	return nil
}

// Write implements net.Conn. A held write goes out first, with p in the
// same writev.
func (pc *Conn) Write(p []byte) (int, error) {
	if pc.claim() {
		return pc.writeWithHeld(p)
	}
	if pc.hold && len(p) <= maxHeld {
		pc.hold = false
		pc.held = heldBufs.Get().(*[maxHeld]byte)
		pc.heldN = copy(pc.held[:], p)
		pc.heldSet.Store(true)
		return len(p), nil
	}
	return pc.write(p, nil)
}

// claim takes the held write for this call to send, if there is one.
func (pc *Conn) claim() bool {
	return pc.heldSet.Load() && pc.heldSet.CompareAndSwap(true, false)
}

// writeWithHeld sends the claimed held write and p in one writev, and
// returns how much of p was written.
func (pc *Conn) writeWithHeld(p []byte) (int, error) {
	n, err := pc.write(pc.held[:pc.heldN], p)
	heldBufs.Put(pc.held)
	return max(n-pc.heldN, 0), err
}

// sendHeld writes the held bytes, if this call claims them.
func (pc *Conn) sendHeld() error {
	if !pc.claim() {
		return nil
	}
	_, err := pc.write(pc.held[:pc.heldN], nil)
	heldBufs.Put(pc.held)
	return err
}

// ReadFrom implements io.ReaderFrom (splice), after the held write.
func (pc *Conn) ReadFrom(r io.Reader) (int64, error) {
	if err := pc.sendHeld(); err != nil {
		return 0, err
	}
	return pc.TCPConn.ReadFrom(r)
}

// Close sends the held write, then closes.
func (pc *Conn) Close() error {
	_ = pc.sendHeld()
	return pc.TCPConn.Close()
}

// CloseWrite sends the held write, then shuts the sending side.
func (pc *Conn) CloseWrite() error {
	if err := pc.sendHeld(); err != nil {
		return err
	}
	return pc.TCPConn.CloseWrite()
}

// SetReadDeadline implements net.Conn. While the watchdog's deadline is
// sooner than t, or t is zero (none), the watchdog stays on the socket
// and t waits until it fires. (fasthttp clears the deadline after every
// request header: clearing the socket's, and arming the watchdog again
// in the next wait, moved a runtime timer twice per request.)
func (pc *Conn) SetReadDeadline(t time.Time) error {
	pc.deadline = t
	if pc.watchdog && (t.IsZero() || pc.watchAt < t.Sub(clockBase)) {
		return nil
	}
	pc.watchdog = false
	return pc.TCPConn.SetReadDeadline(t)
}

// SetDeadline implements net.Conn.
func (pc *Conn) SetDeadline(t time.Time) error {
	pc.deadline, pc.watchdog = t, false
	return pc.TCPConn.SetDeadline(t)
}

// Read implements net.Conn. A deadline that is only the watchdog's (the
// answer began to arrive but not all of it before the watchdog) is put
// back to the caller's and the read goes on.
func (pc *Conn) Read(p []byte) (int, error) {
	if pc.hold { // only set on a connection used one way at a time: HTTP/2 reads while it writes
		pc.hold = false
	}
	if err := pc.await(); err != nil {
		return 0, err
	}
	n, err := pc.read(p)
	if n == 0 && pc.watchdog && errors.Is(err, os.ErrDeadlineExceeded) && pc.beforeDeadline() {
		pc.unwatch()
		return pc.read(p)
	}
	return n, err
}

// await sends the held write, if any, and waits until the answer can be
// read. It returns the send's error, the caller's deadline or a close;
// when the watchdog ends the wait it returns nil and the read that follows
// decides.
func (pc *Conn) await() error {
	if !pc.heldSet.Load() {
		return nil
	}
	now := pc.lastSend
	if !pc.checked {
		now = monoNow()
	}
	pc.checked = false
	pc.probe = pc.lastSend == 0 || now-pc.lastSend > ProbeAfter
	pc.lastSend = now
	if pc.probe {
		pc.unwatch()
	} else if !pc.watchdog || pc.watchAt-now < ProbeAfter/2 {
		wd := now + ProbeAfter
		if t := clockBase.Add(wd); pc.deadline.IsZero() || t.Before(pc.deadline) {
			_ = pc.TCPConn.SetReadDeadline(t)
			pc.watchdog, pc.watchAt = true, wd
		}
	}
	pc.sendErr = nil
	err := pc.raw.Read(pc.waitFn)
	if pc.claim() { // the wait ended (deadline, close) before the send
		heldBufs.Put(pc.held)
		return err
	}
	if err == nil {
		err, pc.sendErr = pc.sendErr, nil
	}
	if pc.watchdog && errors.Is(err, os.ErrDeadlineExceeded) && pc.beforeDeadline() {
		pc.noHold = pc.server
		pc.unwatch()
		return nil
	}
	return err
}

// Stale reports whether c, a pooled connection about to carry a request,
// is unfit to: it has been quiet for more than ProbeAfter and something
// is there to read, which on an idle HTTP/1.1 connection is the server's
// close (or a last word before it, such as a 408). Go's http.Transport,
// and so Traefik, learns this from the read it keeps posted on each idle
// connection and takes another; a request sent on it would fail with
// nothing seen by the server, and one that cannot be replayed (a POST)
// would fail the client. A connection checked, fit or not, counts as used
// now: the wait that follows does not peek again. Only a Conn is checked;
// its first use is not (nothing has been exchanged to close).
func Stale(c net.Conn) bool {
	pc, ok := c.(*Conn)
	if !ok {
		return false
	}
	now := monoNow()
	quiet := pc.lastSend != 0 && now-pc.lastSend > ProbeAfter
	pc.lastSend, pc.checked = now, true
	if !quiet || pc.raw.Control(pc.peekFn) != nil {
		return false
	}
	return pc.readable
}

// peekReadable is Stale's RawConn.Control callback.
func (pc *Conn) peekReadable(fd uintptr) { pc.readable = pc.peek(fd) }

// unwatch puts the caller's read deadline back in place of the watchdog.
func (pc *Conn) unwatch() {
	if pc.watchdog {
		pc.watchdog = false
		_ = pc.TCPConn.SetReadDeadline(pc.deadline)
	}
}

// beforeDeadline: the caller's read deadline, if any, has not passed.
func (pc *Conn) beforeDeadline() bool {
	return pc.deadline.IsZero() || time.Now().Before(pc.deadline)
}

// wait is the RawConn.Read callback. Its first call sends the held write
// (after a peek where the connection has been quiet) and asks to wait;
// the call after the wake-up reports the answer ready.
func (pc *Conn) wait(fd uintptr) bool {
	if !pc.heldSet.Load() {
		return true
	}
	ready := pc.probe && pc.peek(fd)
	if err := pc.sendHeld(); err != nil {
		pc.sendErr = err
		return true
	}
	return ready
}

// Descriptor is c's file descriptor number (c a TCP connection or a Conn
// around one), or -1. Linux gives a new socket the lowest free number, so
// a high number says the process is near its descriptor limit.
func Descriptor(c net.Conn) int {
	if pc, ok := c.(*Conn); ok {
		c = pc.TCPConn
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	_ = raw.Control(func(d uintptr) { fd = int(d) })
	return fd
}
