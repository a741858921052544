package upstream

import (
	"bufio"
	"github.com/sluiceproxy/sluice/fastpath/pollconn"
	"io"
	"net"
	"sync"

	"github.com/valyala/fasthttp"
)

// writeRequest writes req to the upstream connection c. A streamed request
// body goes through relayConn rather than straight to c: fasthttp copies
// it with bufio.Writer.ReadFrom, which hands the copy to net.TCPConn's
// ReadFrom, and that falls back to io.Copy and a fresh 32 KiB buffer per
// request when the source is not a file or socket. Either way the last
// flush (a small request whole, or a body's tail) is held for
// pollconn.Await to send.
func writeRequest(hc *fasthttp.HostClient, c net.Conn, req *fasthttp.Request) error {
	conn := c
	var rc *relayConn
	if req.IsBodyStream() {
		rc = relayConns.Get().(*relayConn)
		rc.Conn = c
		c = rc
	}
	bw := hc.AcquireWriter(c)
	var err error
	if !req.IsBodyStream() && len(req.Body()) == 0 && !sendsZeroLength(req.Header.Method()) {
		err = writeHeaderOnly(req, bw)
	} else {
		err = req.Write(bw)
	}
	if err == nil {
		pollconn.HoldLast(conn)
		err = bw.Flush()
		pollconn.EndHold(conn)
	}
	hc.ReleaseWriter(bw)
	if rc != nil {
		rc.Conn = nil
		relayConns.Put(rc)
	}
	return err
}

// sendsZeroLength reports whether Go's transport (and so Traefik) sends
// "Content-Length: 0" on a request of this method without a body: only
// POST, PUT and PATCH (net/http transferWriter.shouldSendContentLength).
// fasthttp sends it on every method but GET and HEAD.
func sendsZeroLength(method []byte) bool {
	switch string(method) {
	case "POST", "PUT", "PATCH":
		return true
	}
	return false
}

// writeHeaderOnly writes a request without a body, and without a
// Content-Length. The header's request URI is the one to send: Sluice
// sets it on the header (the URI object, when HostClient parsed it, holds
// the same path and query); the host is the header's, as UseHostHeader
// keeps it.
func writeHeaderOnly(req *fasthttp.Request, bw *bufio.Writer) error {
	if len(req.Header.Host()) == 0 || !req.UseHostHeader {
		return req.Write(bw) // the host comes from the URI: fasthttp's way
	}
	req.Header.Del(fasthttp.HeaderContentLength)
	return req.Header.Write(bw)
}

// relayConn is an upstream connection whose ReadFrom copies through a
// pooled relay buffer.
type relayConn struct{ net.Conn }

var relayConns = sync.Pool{New: func() any { return new(relayConn) }}

// ReadFrom implements io.ReaderFrom.
func (c *relayConn) ReadFrom(r io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	var n int64
	for {
		m, rerr := r.Read(*bp)
		if m > 0 {
			w, werr := c.Conn.Write((*bp)[:m])
			n += int64(w)
			if werr != nil {
				return n, werr
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}
