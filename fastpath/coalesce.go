package fastpath

import (
	"github.com/sluiceproxy/sluice/fastpath/pollconn"
	"github.com/valyala/fasthttp"
)

// Responses larger than a client connection's write buffer reach the
// socket in two writes: fasthttp's bufio.Writer fills its buffer with the
// status line, the headers and the first body bytes and flushes it, then
// writes the rest of the body straight from the response. On loopback a
// write costs about as much as everything else the proxy does for a
// request (PERF.md: a 16 KiB response took 3 writes per request against
// 2 for a small one). So when the response about to be written has more
// body than the buffer holds (expectLong, after the handler), the
// connection holds back its next write if it is a whole buffer, and sends
// it with the write after in one writev.
//
// The holding is the connection's (a pollconn.Conn: it copies the held
// bytes, since the writer reuses its buffer at once, and sends them with
// the next write in one writev, or before anything else reaches the
// socket). The write after always comes: at most a buffer of the response
// was in the held one, so some of it is still to be written, and the
// writer flushes at the end of every response and, for a streamed body,
// before waiting on the upstream. So nothing waits longer than it would in
// fasthttp's own buffer. Nothing about the bytes is guessed: only the
// handler's answer says whether more follows.

// connWriteBuffer is the client connections' write buffer (fasthttp's
// default, set explicitly because holding depends on it).
const connWriteBuffer = 4 << 10

// holdIfFull is the spillConn's side of it: the first write of a long
// response is held if it is a whole buffer.
func (c *spillConn) holdIfFull(p []byte) {
	if c.long {
		c.long = false
		if len(p) == connWriteBuffer {
			pollconn.HoldForNext(c.Conn)
		}
	}
}

// expectLong runs after the handler, before fasthttp writes the response:
// it tells a client connection whether the response has more body than a
// write buffer holds. A HEAD or bodiless answer, or a chunked one, does
// not count; a streamed body counts by its Content-Length.
func expectLong(ctx *fasthttp.RequestCtx) {
	c, ok := ctx.Conn().(*spillConn)
	if !ok {
		return
	}
	resp := &ctx.Response
	n := resp.Header.ContentLength()
	if !resp.IsBodyStream() {
		n = len(resp.Body())
	}
	st := resp.StatusCode()
	c.long = n > connWriteBuffer && !ctx.IsHead() && st >= 200 && st != fasthttp.StatusNoContent && st != fasthttp.StatusNotModified
	if !c.long && !resp.IsBodyStream() && st >= 200 && !ctx.Hijacked() {
		// The whole response is one write; it waits in the connection and
		// goes out from inside the wait for the next request (pollconn),
		// which then needs no read to find that nothing has come yet.
		pollconn.HoldLast(c.Conn)
	}
}
