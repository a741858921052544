package fastpath

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/pollconn"
)

// Large request headers. fasthttp reads a request header only within the
// connection's read buffer and answers 431 when it does not fit; Traefik
// takes up to 1 MiB. Giving every connection a 1 MiB buffer costs what the
// clients could send, not what they do send, so Sluice runs tiers of
// fasthttp servers with growing buffers (4 KiB, 64 KiB, the limit). A
// connection starts on the first; one whose header overflows its tier's
// buffer moves to the next, which takes it with the bytes already read and
// serves it to its end. The middle tier keeps its buffer per connection;
// the last closes each connection after its response (serveMoved).
//
// The bytes already read are the difficulty: when fasthttp reports the
// overflow it has already returned the buffer to its pool. So spillConn
// watches fasthttp's reads. The first read of a connection is always
// fasthttp filling its empty buffer, which tells spillConn where that buffer
// is (a tier that keeps its reader per connection keeps that buffer); a
// later read that fills the buffer to its last byte while it starts with a
// request line is copied aside (one copy per overflowing header; bodies do
// not start with a method). When fasthttp then reports the overflow, the
// copy is exactly the first bytes of the request, a buffer's worth.
//
// spillConn must sit directly under fasthttp's reader: a TLS entry point
// wraps it around the tls.Conn, not under it.

// spillListener wraps each accepted connection in a spillConn that also
// tells a TLS ClientHello from HTTP by its first byte (tls.go).
type spillListener struct {
	net.Listener
	size  int
	srv   *Server
	proxy *ProxyProtocol // the entry point's proxyProtocol (nil: off)
}

func (l *spillListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &spillConn{Conn: pollconn.WrapServer(c), size: l.size, sniff: l.srv, proxy: l.proxy}, nil
}

// spillConn is a client connection whose reads are watched for a header
// overflowing fasthttp's buffer, and which another server can take over.
type spillConn struct {
	net.Conn
	size  int
	buf   unsafe.Pointer // fasthttp's read buffer, learnt from the first read
	spill []byte         // the full buffer, copied when a request line filled it
	// fresh: spill holds what the last read into fasthttp's buffer left
	// there. An overflow is reported right after the read that filled the
	// buffer, so a stale copy (an earlier request's) is never replayed.
	fresh bool
	moved atomic.Bool // taken over: the first server's writes are dropped
	long  bool        // the response being written has more body than a buffer (coalesce.go)
	// sniff: the connection is new on a plain entry point, and its first
	// read decides between HTTP and TLS (tls.go); nil afterwards.
	sniff *Server
	tls   *pipeline.ConnTLS // the handshake's, for a connection after it
	// proxy: the entry point reads a PROXY protocol header on the first
	// read (proxyproto.go); nil afterwards. remote is a trusted header's
	// source address, pre what followed the header beyond that read.
	proxy  *ProxyProtocol
	remote net.Addr
	pre    []byte

	// The client's address and its text, worked out on the connection's
	// first request rather than on every one (peerText nil: not yet).
	peer     netip.Addr
	peerText []byte
	peerBuf  [48]byte
	port     uint16

	atClose atomic.Pointer[func()] // what AtClose registered, run by Close
}

// AtClose runs f once the connection is closed (pipeline's
// ConnCloseNotifier): the AtEnd functions of an exchange that handed the
// connection over. fasthttp closes it after the hijack function returns,
// or without calling it when the switch could not be written.
func (c *spillConn) AtClose(f func()) {
	for {
		prev := c.atClose.Load()
		next := f
		if prev != nil {
			p := *prev
			next = func() { p(); f() }
		}
		if c.atClose.CompareAndSwap(prev, &next) {
			return
		}
	}
}

// Close closes the connection, then runs what AtClose registered.
func (c *spillConn) Close() error {
	err := c.Conn.Close()
	if f := c.atClose.Swap(nil); f != nil {
		(*f)()
	}
	return err
}

// peerOf returns the client's address (IPv4-mapped unmapped) and its text.
func (c *spillConn) peerOf(ctx *fasthttp.RequestCtx) (netip.Addr, []byte) {
	if c.peerText == nil {
		ap := addrPort(ctx.RemoteAddr())
		c.peer, c.port = ap.Addr(), ap.Port()
		c.peerText = c.peer.AppendTo(c.peerBuf[:0])
	}
	return c.peer, c.peerText
}

// peerAddrPort is the client's address and port, as peerOf worked them
// out (the access log's ClientAddr).
func (c *spillConn) peerAddrPort(ctx *fasthttp.RequestCtx) netip.AddrPort {
	c.peerOf(ctx)
	return netip.AddrPortFrom(c.peer, c.port)
}

func (c *spillConn) Read(p []byte) (int, error) {
	var n int
	var err error
	switch {
	case c.proxy != nil:
		pp := c.proxy
		c.proxy = nil
		n, err = c.readProxyHeader(pp, p)
	case len(c.pre) > 0:
		n = copy(p, c.pre)
		c.pre = c.pre[n:]
	default:
		n, err = c.Conn.Read(p)
	}
	if n == 0 || c.moved.Load() {
		return n, err
	}
	if c.sniff != nil {
		srv := c.sniff
		c.sniff = nil
		if p[0] == recordTypeHandshake {
			c.moved.Store(true) // fasthttp reads nothing more and writes nothing
			pre := append(append([]byte(nil), p[:n]...), c.pre...)
			srv.serveTLS(&prefacedConn{Conn: c.Conn, pre: pre, remote: c.remote})
			return 0, io.EOF
		}
	}
	if c.buf == nil {
		if len(p) != c.size {
			return n, err
		}
		c.buf = unsafe.Pointer(unsafe.SliceData(p))
	}
	if !c.fills(p) {
		return n, err
	}
	c.fresh = false
	if full := unsafe.Slice((*byte)(c.buf), c.size); n == len(p) && startsRequest(full) {
		if c.spill == nil {
			c.spill = make([]byte, c.size)
		}
		copy(c.spill, full)
		c.fresh = true
	}
	return n, err
}

// fills: p is the tail of fasthttp's buffer, so a read that fills p fills
// the buffer.
func (c *spillConn) fills(p []byte) bool {
	start := uintptr(c.buf)
	end := uintptr(unsafe.Pointer(unsafe.SliceData(p))) + uintptr(len(p))
	return end == start+uintptr(c.size) && len(p) <= c.size
}

// startsRequest: b begins with a method token (RFC 9110 token characters)
// and a space, as a request line does and a body rarely does. A false
// match only costs a copy.
func startsRequest(b []byte) bool {
	for i, ch := range b[:min(len(b), 24)] {
		switch {
		case ch == ' ':
			return i > 0
		case ch <= ' ' || ch >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, ch) >= 0:
			return false
		}
	}
	return false
}

// Write drops what the first server writes once the connection has moved:
// its 431 for the header it could not read.
func (c *spillConn) Write(p []byte) (int, error) {
	if c.moved.Load() {
		return len(p), nil
	}
	c.holdIfFull(p)
	return c.Conn.Write(p)
}

// ReadFrom keeps the kernel's splice for bodies relayed to the client.
func (c *spillConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok && !c.moved.Load() {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c}, r)
}

// mover is the ErrorHandler of the tier below next: a header that
// overflowed the buffer moves its connection to tier next, which serves it
// from the copied bytes on; anything else is answered as Go answers it.
func (s *Server) mover(tiers *[]*fasthttp.Server, next int) func(*fasthttp.RequestCtx, error) {
	return func(ctx *fasthttp.RequestCtx, err error) {
		tiers := *tiers
		var small *fasthttp.ErrSmallBuffer
		c, ok := ctx.Conn().(*spillConn)
		if !errors.As(err, &small) || !ok || !c.fresh {
			answerError(ctx, err)
			return
		}
		var moved net.Conn = &prefacedConn{Conn: c.Conn, pre: c.spill, remote: c.remote}
		c.spill, c.fresh = nil, false
		c.moved.Store(true)
		if next < len(tiers)-1 {
			moved = &spillConn{Conn: moved, size: tiers[next].ReadBufferSize, tls: c.tls}
		} else {
			moved = lingerConn{moved}
		}
		_ = tiers[next].ServeConn(moved)
	}
}

// serveMoved wraps an upper tier's handler: while shutting down, each
// connection closes after its response. On the last tier (last) every
// connection closes after its response: fasthttp keeps a connection's
// reader while it streams request bodies, so an idle connection would
// keep the limit-sized buffer (1 MiB by default) for as long as it stays
// open. The client's next request starts again on the first tier; only
// headers over midBuffer pay the reconnection.
func (s *Server) serveMoved(next fasthttp.RequestHandler, last bool) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		next(ctx) // first: forwarding sets the response's Connection itself
		if last || s.draining.Load() {
			ctx.SetConnectionClose()
		}
	}
}

// lingerConn is a last-tier connection, which closes after every response:
// it closes as Go's net/http does then. Closing a socket with input not
// yet read (requests pipelined after the one answered) makes the kernel
// reset the connection, and the client may lose the response still in
// flight. So Close sends FIN first, then reads and drops what the client
// sends until it closes too or lingerTimeout passes.
type lingerConn struct{ net.Conn }

// lingerTimeout is Go's net/http rstAvoidanceDelay.
const lingerTimeout = 500 * time.Millisecond

func (c lingerConn) Close() error {
	if cw, ok := innermost(c.Conn).(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		_ = c.Conn.SetReadDeadline(time.Now().Add(lingerTimeout))
		var buf [512]byte
		for n := 0; n < 1<<20; {
			m, err := c.Conn.Read(buf[:])
			if err != nil {
				break
			}
			n += m
		}
	}
	return c.Conn.Close()
}

// innermost is the connection under Sluice's wrappers.
func innermost(c net.Conn) net.Conn {
	for {
		switch w := c.(type) {
		case *prefacedConn:
			c = w.Conn
		case *spillConn:
			c = w.Conn
		case lingerConn:
			c = w.Conn
		default:
			return c
		}
	}
}

// trackIdle keeps the upper tiers' idle connections, for Shutdown to close.
func (s *Server) trackIdle(c net.Conn, st fasthttp.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st == fasthttp.StateIdle && !s.draining.Load() {
		s.idle[c] = struct{}{}
		return
	}
	if st == fasthttp.StateIdle {
		_ = c.Close()
	}
	delete(s.idle, c)
}

// prefacedConn replays the bytes already read from a connection before
// reading it further.
type prefacedConn struct {
	net.Conn
	pre    []byte
	remote net.Addr // a PROXY header's source address (nil: the socket's)
}

// RemoteAddr is the PROXY header's source address, or the socket's peer.
func (c *prefacedConn) RemoteAddr() net.Addr {
	if c.remote != nil {
		return c.remote
	}
	return c.Conn.RemoteAddr()
}

func (c *prefacedConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
