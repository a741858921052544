package fastpath

import (
	"net"
	"sync"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/pollconn"
)

// h2Conn is the hijacked connection the HTTP/2 server serves, with a
// lifetime of its own. fasthttp's hijacked connection is valid only until
// the hijack handler returns: fasthttp then closes the socket and puts the
// wrapper back in a pool, where another connection may take it. Stream
// handlers write their frames from goroutines of their own, which can
// still run when ServeConn returns (a handler waiting for its server); a
// write then reached a wrapper whose socket was gone (with
// golang.org/x/net/http2's frame writer, a nil pointer: any client
// closing mid-stream could crash the process), or, once the wrapper was
// reused, another client's connection.
//
// So every use of the connection goes through h2Conn, under a read lock,
// and the hijack handler ends with finish: it marks the connection
// closed, unblocks any read or write in progress with a past deadline, and
// takes the write lock, which waits for them to return. After finish
// every method returns net.ErrClosed without touching the hijacked
// connection, so nothing outlives the handler. h2Conn itself is never
// pooled: late goroutines only ever see it.
type h2Conn struct {
	mu sync.RWMutex
	c  net.Conn // fasthttp's hijacked connection; never touched after finish
	// sock is the socket under c's wrappers, whose deadline unblocks c's
	// reads and writes; the wrappers' own SetDeadline is not safe beside a
	// read in progress, the socket's is.
	sock   deadliner
	pre    []byte // bytes fasthttp consumed before the hijack (the preface), read first
	closed bool
}

// enter takes the read lock if the connection is still open.
func (c *h2Conn) enter() bool {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return false
	}
	return true
}

func (c *h2Conn) Read(p []byte) (int, error) {
	if !c.enter() {
		return 0, net.ErrClosed
	}
	defer c.mu.RUnlock()
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:] // only the server's reader goroutine reads
		return n, nil
	}
	return c.c.Read(p)
}

func (c *h2Conn) Write(p []byte) (int, error) {
	if !c.enter() {
		return 0, net.ErrClosed
	}
	defer c.mu.RUnlock()
	return c.c.Write(p)
}

// Close unblocks the connection's reads and writes; the socket itself is
// closed by fasthttp when the hijack handler returns, after finish.
func (c *h2Conn) Close() error {
	if !c.enter() {
		return nil
	}
	defer c.mu.RUnlock()
	return c.sock.SetDeadline(pastDeadline)
}

var pastDeadline = time.Unix(1, 0)

// finish ends every use of the hijacked connection: later calls fail, and
// calls in progress are unblocked and waited for.
func (c *h2Conn) finish() {
	_ = c.sock.SetDeadline(pastDeadline) // before the lock: a blocked write holds a read lock
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

func (c *h2Conn) LocalAddr() net.Addr  { return c.c.LocalAddr() }
func (c *h2Conn) RemoteAddr() net.Addr { return c.c.RemoteAddr() }

// Deadlines are set on the socket: the HTTP/2 server sets them from
// other goroutines than the one reading.
func (c *h2Conn) SetDeadline(t time.Time) error {
	if !c.enter() {
		return net.ErrClosed
	}
	defer c.mu.RUnlock()
	return c.sock.SetDeadline(t)
}

func (c *h2Conn) SetReadDeadline(t time.Time) error {
	if !c.enter() {
		return net.ErrClosed
	}
	defer c.mu.RUnlock()
	return c.sock.SetReadDeadline(t)
}

func (c *h2Conn) SetWriteDeadline(t time.Time) error {
	if !c.enter() {
		return net.ErrClosed
	}
	defer c.mu.RUnlock()
	return c.sock.SetWriteDeadline(t)
}

// deadliner is what h2Conn needs of the socket.
type deadliner interface {
	SetDeadline(time.Time) error
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// socketOf is the socket under Sluice's and pollconn's wrappers of c.
func socketOf(c net.Conn) deadliner {
	c = innermost(c)
	if pc, ok := c.(*pollconn.Conn); ok {
		return pc.TCPConn
	}
	return c
}
