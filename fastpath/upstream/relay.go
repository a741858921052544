package upstream

import (
	"bufio"
	"io"
	"net"
	"sync"

	"github.com/valyala/fasthttp"
)

// writeRequest writes req to the upstream connection c. A streamed request
// body goes through relayConn rather than straight to c: fasthttp copies
// it with bufio.Writer.ReadFrom, which hands the copy to net.TCPConn's
// ReadFrom, and that falls back to io.Copy and a fresh 32 KiB buffer per
// request when the source is not a file or socket.
//
// Where c is a pollConn, the last flush is held for the first read of the
// answer to send (see pollConn), and writeRequest returns the writer whose
// buffer holds it: the caller passes it to doneWriting after that read.
// Otherwise it returns nil.
func writeRequest(hc *fasthttp.HostClient, c net.Conn, req *fasthttp.Request) (*bufio.Writer, error) {
	var rc *relayConn
	if req.IsBodyStream() {
		rc = relayConns.Get().(*relayConn)
		rc.Conn = c
		c = rc
	}
	bw := hc.AcquireWriter(c)
	err := req.Write(bw)
	held := false
	if err == nil {
		held = rc == nil && holdLast(c)
		err = bw.Flush()
	}
	if rc != nil {
		rc.Conn = nil
		relayConns.Put(rc)
	}
	if held && err == nil {
		return bw, nil
	}
	if held {
		dropHeld(c)
	}
	hc.ReleaseWriter(bw)
	return nil, err
}

// doneWriting releases the writer writeRequest returned, once the read
// that sends its held bytes has run.
func doneWriting(hc *fasthttp.HostClient, c net.Conn, bw *bufio.Writer) {
	if bw != nil {
		dropHeld(c)
		hc.ReleaseWriter(bw)
	}
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
