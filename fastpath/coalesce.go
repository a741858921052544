package fastpath

import (
	"bytes"
	"net"
	"sync"
)

// Responses larger than a client connection's write buffer reach the
// socket in two writes: fasthttp's bufio.Writer fills its buffer with the
// status line, the headers and the first body bytes and flushes it, then
// writes the rest of the body straight from the response. On loopback a
// write costs about as much as everything else the proxy does for a
// request (PERF.md: a 16 KiB response took 3 writes per request against
// 2 for a small one). So a client connection holds back a flush that is
// a whole buffer starting a response whose Content-Length says more body
// follows, and sends it with its next write in one writev.
//
// The held bytes are copied: the writer reuses its buffer at once. The
// next write always comes: the writer still has the rest of the body to
// write, and it flushes at the end of every response and, for a streamed
// body, before waiting on the upstream. So nothing waits longer than it
// would in fasthttp's own buffer.

// connWriteBuffer is the client connections' write buffer (fasthttp's
// default, set explicitly because holding depends on it).
const connWriteBuffer = 4 << 10

var heldBufs = sync.Pool{New: func() any { return new([connWriteBuffer]byte) }}

// coalescer holds back one flush of a client connection's write buffer.
type coalescer struct {
	held *[connWriteBuffer]byte
	iov  [2][]byte
	bufs net.Buffers
}

// hold takes p if it is a whole buffer starting a response with more body
// to come (never a HEAD or 304 answer: their buffer holds no body bytes).
func (w *coalescer) hold(p []byte) bool {
	if len(p) != connWriteBuffer || !bytes.HasPrefix(p, strHTTP1) {
		return false
	}
	end := bytes.Index(p, strCRLFCRLF)
	if end < 0 {
		return false
	}
	inBuffer := len(p) - end - len(strCRLFCRLF)
	if inBuffer <= 0 {
		return false
	}
	if cl, ok := contentLength(p[:end+2]); !ok || cl <= inBuffer {
		return false
	}
	w.held = heldBufs.Get().(*[connWriteBuffer]byte)
	copy(w.held[:], p)
	return true
}

// writeWith sends the held bytes and p to c in one writev, and returns
// how much of p was written.
func (w *coalescer) writeWith(c net.Conn, p []byte) (int, error) {
	w.iov = [2][]byte{w.held[:], p}
	w.bufs = w.iov[:]
	n, err := w.bufs.WriteTo(c)
	heldBufs.Put(w.held)
	w.held, w.iov, w.bufs = nil, [2][]byte{}, nil
	return int(max(n-connWriteBuffer, 0)), err
}

var (
	strHTTP1         = []byte("HTTP/1.")
	strCRLFCRLF      = []byte("\r\n\r\n")
	strContentLength = []byte("\r\nContent-Length: ")
)

// contentLength reads the Content-Length fasthttp wrote in a response
// header (its canonical spelling, digits only).
func contentLength(hdr []byte) (int, bool) {
	i := bytes.Index(hdr, strContentLength)
	if i < 0 {
		return 0, false
	}
	n, digits := 0, 0
	for _, ch := range hdr[i+len(strContentLength):] {
		if ch < '0' || ch > '9' || digits == 18 {
			break
		}
		n, digits = n*10+int(ch-'0'), digits+1
	}
	return n, digits > 0
}
