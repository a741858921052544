package fastpath

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"
)

var strHTTP10 = []byte("HTTP/1.0")

// answerHTTP10 makes the answer to an HTTP/1.0 request what Go's server
// (Traefik's) sends: HTTP/1.0 in kind; a body of unknown length written
// as it comes and ended by closing the connection (an HTTP/1.0 client
// cannot read chunked encoding: RFC 9112 section 6.1), and a connection
// the client did not ask to keep closed without a "Connection: close"
// field. fasthttp would chunk the one and name the close in the other,
// so those answers are written here, on the hijacked connection; an
// answer to a keep-alive request of known length stays fasthttp's, with
// its "Connection: keep-alive", as Go's.
func answerHTTP10(ctx *fasthttp.RequestCtx) {
	resp := &ctx.Response
	resp.Header.SetProtocol(strHTTP10)
	unknown := resp.IsBodyStream() && resp.Header.ContentLength() < 0
	if ctx.Hijacked() || !unknown && !ctx.Request.Header.ConnectionClose() {
		return
	}
	head := ctx.IsHead()
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		_ = c.SetWriteDeadline(time.Now().Add(http10WriteTimeout))
		writeClosing(c, resp, head)
	})
}

// http10WriteTimeout bounds each write of an answer written here, as a
// slow client's must be.
const http10WriteTimeout = 60 * time.Second

// writeClosing writes resp to c for a connection that closes after it.
func writeClosing(c net.Conn, resp *fasthttp.Response, head bool) {
	bw := bufio.NewWriterSize(deadlineWriter{c}, 4096)
	hdr := &resp.Header
	hdr.Del("Connection") // fasthttp's keep-alive or close, set before the hijack
	hdr.ResetConnectionClose()
	hdr.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if !resp.IsBodyStream() || resp.Header.ContentLength() >= 0 {
		resp.SkipBody = head
		_ = resp.Write(bw)
		_ = bw.Flush()
		return
	}
	hdr.SetContentLength(-2) // no Content-Length; then no Transfer-Encoding, and no close named
	hdr.Del("Transfer-Encoding")
	hdr.ResetConnectionClose()
	if err := hdr.Write(bw); err == nil && !head {
		_, _ = io.Copy(bw, resp.BodyStream())
	}
	_ = bw.Flush()
	_ = resp.CloseBodyStream()
}

// deadlineWriter renews the connection's write deadline on each write.
type deadlineWriter struct{ c net.Conn }

func (w deadlineWriter) Write(p []byte) (int, error) {
	_ = w.c.SetWriteDeadline(time.Now().Add(http10WriteTimeout))
	return w.c.Write(p)
}
