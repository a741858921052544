package pipeline

import (
	"bytes"
	"io"
)

// MaxHeldBody is the most HoldBody reads into memory when its caller sets
// no smaller limit. Traefik holds a failover's or mirror's request body
// whole whatever its size (maxRequestBodyBytes and maxBodySize default to
// -1, no limit); Sluice stops at 32 MiB so that no client can make it hold
// an unbounded body, and sends a longer body on once, unreplayed.
const MaxHeldBody = 32 << 20

// HoldBody reads Out's body into memory when it is a stream, so that it
// can be sent again (a failover's fallback, mirror copies): afterwards Out
// holds it as its body. limit bounds the body held (negative:
// MaxHeldBody). It reports false when the body is longer: what was read
// is then put back in front of the rest of the stream, which Out still
// sends once, whole. A request without a body holds trivially. The body
// counts as read (MarkBodyRead) unless its declared length was over the
// limit.
func (x *Exchange) HoldBody(limit int64) bool {
	if x.heldDone || !x.Out.IsBodyStream() {
		x.heldDone, x.bodyRead = true, true
		return true
	}
	if limit < 0 || limit > MaxHeldBody {
		limit = MaxHeldBody
	}
	stream := x.body.r
	n := int64(x.Out.Header.ContentLength())
	if n > limit {
		return false // known too long: not even read
	}
	x.bodyRead = true
	held, err := readAtMost(x.held[:0], stream, limit+1)
	x.held = held
	if err != nil && err != io.EOF {
		x.body.failed = true
	}
	if err != nil || int64(len(held)) > limit {
		// Sent once as it came: the bytes read, then the rest.
		x.body.r = io.MultiReader(bytes.NewReader(held), stream)
		x.Out.SetBodyStream(&x.body, int(n))
		return false
	}
	x.body.r = nil
	x.Out.SetBodyRaw(held) // Out's former stream is x.body, which has no Close
	x.Out.Header.SetContentLength(len(held))
	x.heldDone = true
	return true
}

// readAtMost appends to dst what r yields, up to max bytes, until EOF.
func readAtMost(dst []byte, r io.Reader, max int64) ([]byte, error) {
	for int64(len(dst)) < max {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		room := dst[len(dst):min(int64(cap(dst)), max)]
		m, err := r.Read(room)
		dst = dst[:len(dst)+m]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// Clone returns a new Exchange whose Out is a copy of x's, for a request
// that outlives x (a mirror copy): a body held by HoldBody is copied, a
// streamed one is not. The copy has its own Resp, no client connection,
// and x's entry point and client; Release it when done.
func (x *Exchange) Clone() *Exchange {
	m := Acquire()
	x.Out.CopyTo(&m.Out)
	m.Out.UseHostHeader = true
	m.Resp, m.EP = &m.own, x.EP
	m.Req.ClientIP = x.Req.ClientIP
	m.peerBuf = append(m.peerBuf[:0], x.peer...)
	m.peer = m.peerBuf
	m.host = append(m.host[:0], x.host...)
	m.rpath = append(m.rpath[:0], x.rpath...)
	m.Req.Host, m.Req.Path, m.Req.Method = m.host, m.rpath, m.Out.Header.Method()
	m.Req.Headers = &m.Out.Header
	m.heldDone, m.gzip, m.gzipAdded = true, x.gzip, x.gzipAdded
	m.kept = append(m.kept[:0], x.kept...)
	return m
}

// StreamBody makes Out's body a stream of unknown length (an HTTP/1.1
// server gets it chunked, as Go's transport sends a body whose length was
// taken away) read through wrap. A held body becomes a stream of its
// bytes; a request without a body is left alone.
func (x *Exchange) StreamBody(wrap func(io.Reader) io.Reader) {
	switch {
	case x.Out.IsBodyStream():
		x.body.r = wrap(x.body.r)
	case len(x.Out.Body()) > 0:
		// A copy: Out's buffer goes back to its pool below, and a later
		// HoldBody reads into held.
		x.body.r = wrap(bytes.NewReader(append([]byte(nil), x.Out.Body()...)))
	default:
		return
	}
	x.heldDone = false
	x.Out.SetBodyStream(&x.body, -1) // x.body has no Close: nothing is closed here
}

// DrainBody reads and drops what is left of a streamed request body, up
// to max bytes: an HTTP/1.1 client still sending when an early answer was
// made (a 413, a 401) then reads that answer, where closing on unread
// bytes would reset the connection under it. It reports false when more
// than max is left: the connection must then close. Go's server (and so
// Traefik) drops up to 256 KiB the same way.
func (x *Exchange) DrainBody(max int64) bool {
	if x.body.failed {
		return false // the body's framing broke: the connection cannot go on
	}
	if x.body.r == nil {
		return true
	}
	if cap(x.buf) < 4096 {
		x.buf = make([]byte, 4096) // once per pooled Exchange
	}
	buf := x.buf[:cap(x.buf)]
	var n int64
	for n <= max {
		m, err := x.body.r.Read(buf)
		n += int64(m)
		if err != nil {
			x.body.r = nil
			return n <= max // ended within max (EOF), or cannot be read further
		}
	}
	x.body.r = nil
	return false
}
