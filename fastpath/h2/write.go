package h2

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Writes: every frame is appended to the connection's buffer under wmu,
// and the buffer goes to the socket in one write when its last writer
// leaves: writers that queue behind each other (responses finishing
// together, the reader's acknowledgements) share one syscall.

const (
	flushAt      = 64 << 10 // a buffer this large is written whatever comes next
	writeTimeout = 180 * time.Second
)

func (c *conn) lockWrite() {
	c.writers.Add(1)
	c.wmu.Lock()
}

// unlockWrite leaves the buffer; flush asks for it to reach the socket,
// now or, if another writer waits, when that one leaves.
func (c *conn) unlockWrite(flush bool) {
	if flush {
		c.needFlush = true
	}
	if c.needFlush && c.writers.Load() == 1 || len(c.wbuf) >= flushAt {
		c.flushLocked()
	}
	c.writers.Add(-1)
	c.wmu.Unlock()
}

func (c *conn) flushLocked() {
	c.needFlush = false
	if len(c.wbuf) == 0 {
		return
	}
	if c.werr == nil {
		if now := time.Now(); now.Sub(c.deadlineSet) > time.Second {
			c.deadlineSet = now
			_ = c.nc.SetWriteDeadline(now.Add(writeTimeout))
		}
		if _, err := c.nc.Write(c.wbuf); err != nil {
			c.werr = err
			c.stop() // the reader ends the connection
		}
	}
	if cap(c.wbuf) > 4*flushAt {
		c.wbuf = nil
	} else {
		c.wbuf = c.wbuf[:0]
	}
}

// flush writes whatever is buffered.
func (c *conn) flush() {
	c.lockWrite()
	c.flushLocked()
	c.writers.Add(-1)
	c.wmu.Unlock()
}

func (c *conn) writeServerPreface() {
	c.lockWrite()
	b := appendFrameHeader(c.wbuf, 18, frameSettings, 0, 0)
	b = appendSetting(b, settingMaxConcurrentStreams, c.maxStreams)
	b = appendSetting(b, settingInitialWindowSize, streamWindow)
	b = appendSetting(b, settingMaxHeaderListSize, uint32(min(c.maxHeader, maxWindow)))
	c.wbuf = b
	c.mu.Lock()
	c.recvWindow = connWindow // granted before the client can use it
	c.mu.Unlock()
	c.wbuf = appendUint32(appendFrameHeader(c.wbuf, 4, frameWindowUpdate, 0, 0), connWindow-defaultWindow)
	c.unlockWrite(true)
}

func appendSetting(b []byte, id uint16, v uint32) []byte {
	return appendUint32(append(b, byte(id>>8), byte(id)), v)
}

// writeWindowUpdates gives window back to the client: sinc on stream id,
// cinc on the connection (already counted by streamCredit, connCredit).
func (c *conn) writeWindowUpdates(id uint32, sinc, cinc int64) {
	if sinc == 0 && cinc == 0 {
		return
	}
	c.lockWrite()
	if sinc > 0 {
		c.wbuf = appendUint32(appendFrameHeader(c.wbuf, 4, frameWindowUpdate, 0, id), uint32(sinc))
	}
	if cinc > 0 {
		c.wbuf = appendUint32(appendFrameHeader(c.wbuf, 4, frameWindowUpdate, 0, 0), uint32(cinc))
	}
	c.unlockWrite(true)
}

// appendHeaderBlock appends a header block as HEADERS and, past the
// client's frame size, CONTINUATION frames (under wmu).
func (c *conn) appendHeaderBlock(id uint32, blk []byte, end bool) {
	max := int(c.peerMaxFrame.Load())
	typ, flags := uint8(frameHeaders), uint8(0)
	if end {
		flags = flagEndStream
	}
	for {
		n := min(len(blk), max)
		f := flags
		if n == len(blk) {
			f |= flagEndHeaders
		}
		c.wbuf = append(appendFrameHeader(c.wbuf, n, typ, f, id), blk[:n]...)
		if blk = blk[n:]; len(blk) == 0 {
			return
		}
		typ, flags = frameContinuation, 0
	}
}

// Trailers is what a streamed response body implements when it has
// trailers, complete once it has been read to its end.
type Trailers interface{ Trailers() http.Header }

// WriteResponse writes resp to the stream: its status and header (the
// connection-specific fields dropped, Date and Content-Length added where
// missing), its body (a streamed body flushed as it arrives: gRPC, event
// streams) and the trailers a streamed body reports. A HEAD request's
// response gets no body. Call it once; it gives up when the stream is
// reset.
func (s *Stream) WriteResponse(resp *fasthttp.Response) {
	head := string(s.Method) == "HEAD"
	streamed := resp.IsBodyStream()
	var body []byte
	if !streamed {
		body = resp.Body()
	}
	blk := s.encodeHeader(resp, streamed, len(body))
	status := resp.StatusCode()
	if head || status == 204 || status == 304 {
		body, streamed = nil, false
	}
	end := !streamed && len(body) == 0
	if !s.sendHeaders(blk, end, end || streamed) {
		return
	}
	switch {
	case end:
		s.ended = true
	case streamed:
		s.copyStream(resp.BodyStream())
	default:
		s.ended = s.writeData(body, true, true) == nil
	}
}

// WriteInterim writes an informational answer (1xx: 103 Early Hints,
// 102) to the stream ahead of its response: a HEADERS frame without
// END_STREAM, the connection-specific fields dropped, as Go's server
// writes one. Nothing after the response, or once the stream is reset.
func (s *Stream) WriteInterim(status int, h *fasthttp.ResponseHeader) {
	if s.ended || status < 100 || status > 199 || status == 101 {
		return
	}
	b := appendStatus(s.enc[:0], status)
	for k, v := range h.All() {
		s.name = appendLower(s.name[:0], k)
		switch string(s.name) {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "content-length":
			continue
		}
		b = appendField(b, s.name, v)
	}
	s.enc = b
	s.sendHeaders(b, false, true)
}

// sendHeaders queues a header block for the stream (END_STREAM with end),
// flushing with flush; false: the stream was reset, nothing is sent.
func (s *Stream) sendHeaders(blk []byte, end, flush bool) bool {
	c := s.c
	c.lockWrite()
	if s.reset.Load() {
		c.unlockWrite(false)
		return false
	}
	c.appendHeaderBlock(s.id, blk, end)
	c.unlockWrite(flush)
	return true
}

// encodeHeader encodes resp's status and header fields. A held body goes
// out whole, so its content-length is its own length, whatever the header
// still says (a middleware that encoded or replaced the body leaves the
// server's), as fasthttp's HTTP/1.1 writer does; a HEAD answer keeps the
// header's, and without one gets none when it holds no body (Go's server
// declares only what the handler wrote or set).
func (s *Stream) encodeHeader(resp *fasthttp.Response, streamed bool, bodyLen int) []byte {
	st := resp.StatusCode()
	head := string(s.Method) == "HEAD"
	own := !streamed && !head && st != 204 && st != 304
	b := appendStatus(s.enc[:0], st)
	hasLength, hasDate := false, false
	for k, v := range resp.Header.All() {
		s.name = appendLower(s.name[:0], k)
		switch string(s.name) {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
			continue // connection-specific (RFC 9113 section 8.2.2)
		case "content-length":
			if own {
				continue
			}
			hasLength = true
		case "date":
			hasDate = true
		}
		b = appendField(b, s.name, v)
	}
	if !hasDate {
		b = appendField(b, []byte("date"), httpDate())
	}
	if !streamed && !hasLength && st != 204 && st != 304 && (!head || bodyLen > 0) {
		b = appendField(b, []byte("content-length"), fasthttp.AppendUint(s.name[:0], bodyLen))
	}
	s.enc = b
	return b
}

func appendLower(b, s []byte) []byte {
	for _, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// writeData writes p as DATA frames within the flow-control windows,
// the last with END_STREAM when end is set.
func (s *Stream) writeData(p []byte, end, flush bool) error {
	c := s.c
	for {
		n := 0
		if len(p) > 0 {
			var err error
			if n, err = s.reserve(len(p)); err != nil {
				return err
			}
		}
		last := n == len(p)
		c.lockWrite()
		if s.reset.Load() {
			c.unlockWrite(false)
			return ErrStreamReset
		}
		var f uint8
		if last && end {
			f = flagEndStream
		}
		c.wbuf = append(appendFrameHeader(c.wbuf, n, frameData, f, s.id), p[:n]...)
		c.unlockWrite(last && flush)
		if p = p[n:]; last {
			return nil
		}
	}
}

// reserve waits until the stream and the connection may send, and takes
// up to n octets (and one frame) of their windows.
func (s *Stream) reserve(n int) (int, error) {
	c := s.c
	c.mu.Lock()
	for s.sendWindow <= 0 || c.sendWindow <= 0 {
		if s.reset.Load() || c.closed {
			c.mu.Unlock()
			return 0, ErrStreamReset
		}
		c.mu.Unlock()
		c.flush() // what is buffered may be what the client waits for
		c.mu.Lock()
		if s.sendWindow <= 0 || c.sendWindow <= 0 {
			s.cond.Wait()
		}
	}
	k := int64(min(n, int(c.peerMaxFrame.Load())))
	k = min(k, s.sendWindow, c.sendWindow)
	s.sendWindow -= k
	c.sendWindow -= k
	c.mu.Unlock()
	return int(k), nil
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// copyStream writes a streamed body as it arrives, then its trailers.
func (s *Stream) copyStream(r io.Reader) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		n, err := r.Read(buf)
		if n > 0 && s.writeData(buf[:n], false, true) != nil {
			return
		}
		if err != nil {
			break
		}
	}
	var t http.Header
	if tr, ok := r.(Trailers); ok {
		t = tr.Trailers()
	}
	if len(t) == 0 {
		s.ended = s.writeData(nil, true, true) == nil
		return
	}
	b := s.enc[:0]
	for k, vs := range t {
		s.name = appendLower(s.name[:0], []byte(k))
		for _, v := range vs {
			b = appendField(b, s.name, []byte(v))
		}
	}
	s.enc = b
	c := s.c
	c.lockWrite()
	if !s.reset.Load() {
		c.appendHeaderBlock(s.id, b, true)
		s.ended = true
	}
	c.unlockWrite(true)
}
