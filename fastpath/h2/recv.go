package h2

import (
	"encoding/binary"
	"strconv"
	"time"
)

// maxBlockFrames bounds the frames of one header block, so a flood of
// empty CONTINUATION frames ends the connection (CVE-2024-27316).
const maxBlockFrames = 256

func (c *conn) onHeaders(h frameHeader, p []byte) error {
	if h.stream == 0 {
		return connError{ErrProtocol, "HEADERS on stream 0"}
	}
	p, ok := stripPadding(h, p)
	if !ok {
		return connError{ErrProtocol, "HEADERS padding"}
	}
	var reject ErrCode
	if h.has(flagPriority) {
		if len(p) < 5 {
			return connError{ErrFrameSize, "HEADERS priority"}
		}
		if binary.BigEndian.Uint32(p)&maxWindow == h.stream {
			reject = ErrProtocol // depends on itself
		}
		p = p[5:]
	}
	if h.stream%2 == 0 {
		return connError{ErrProtocol, "a client stream with an even identifier"}
	}
	trailers := false
	if h.stream <= c.lastStream.Load() {
		c.mu.Lock()
		s := c.streams[h.stream]
		open := s != nil && !s.remoteEnded && !s.reset.Load()
		found, _ := c.wasClosedLocked(h.stream)
		c.mu.Unlock()
		switch {
		case open:
			trailers = true
			if !h.has(flagEndStream) {
				reject = ErrProtocol // trailers must end the stream
			}
		case s != nil || found:
			return connError{ErrStreamClosed, "HEADERS on a closed stream"}
		default:
			return connError{ErrProtocol, "a stream identifier below the last"}
		}
	} else {
		c.lastStream.Store(h.stream)
	}
	c.block = headerBlock{stream: h.stream, endStream: h.has(flagEndStream), trailers: trailers,
		reject: reject, buf: c.block.buf[:0], frames: 1}
	if h.has(flagEndHeaders) {
		return c.endBlock(p)
	}
	c.block.buf = append(c.block.buf, p...)
	return nil
}

func (c *conn) onContinuation(h frameHeader, p []byte) error {
	if c.block.stream == 0 || h.stream != c.block.stream {
		return connError{ErrProtocol, "CONTINUATION without its HEADERS"}
	}
	c.block.frames++
	c.block.buf = append(c.block.buf, p...)
	if len(c.block.buf) > c.maxHeader+minMaxFrameSize || c.block.frames > maxBlockFrames {
		return connError{ErrEnhanceYourCalm, "header block too large"}
	}
	if h.has(flagEndHeaders) {
		return c.endBlock(c.block.buf)
	}
	return nil
}

// endBlock decodes a complete header block and opens its stream, or
// applies its trailers.
func (c *conn) endBlock(p []byte) error {
	b := &c.block
	id := b.stream
	b.stream = 0
	if cap(b.buf) > 64<<10 {
		b.buf = nil
	}
	if b.trailers {
		return c.endTrailers(id, p)
	}
	s := getStream()
	s.list.reset(c.maxHeader)
	if err := c.dec.decode(p, &s.list); err != nil {
		putStream(s)
		return connError{ErrCompression, err.Error()}
	}
	code := b.reject
	switch {
	case code != 0:
	case c.goingAway.Load():
		code = ErrRefusedStream
	case s.list.tooLarge:
		putStream(s)
		c.answer431(id, b.endStream)
		return nil
	case s.Request.parse(&s.list) != "":
		code = ErrProtocol
	case !b.endStream && s.Request.ContentLength == 0, b.endStream && s.Request.ContentLength > 0:
		code = ErrProtocol // content-length disagrees with the body (RFC 9113 section 8.1.1)
	}
	if code == 0 && !c.open(s, id, b.endStream) {
		code = ErrRefusedStream
	}
	if code != 0 {
		putStream(s)
		c.streamError(id, code)
		return nil
	}
	if c.requests++; c.maxRequests > 0 && c.requests >= c.maxRequests || c.maxAge > 0 && time.Since(c.born) >= c.maxAge {
		c.goAway(ErrNo) // this stream is served; the client opens its next ones elsewhere
	}
	return nil
}

// open registers s as stream id and starts its handler, unless too many
// handlers run already.
func (c *conn) open(s *Stream, id uint32, endStream bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active >= c.maxStreams {
		return false
	}
	s.init(c, id, endStream, c.peerWindow)
	c.streams[id] = s
	c.active++
	go c.run(s)
	return true
}

// endTrailers decodes a trailer block (kept in step with the decoder's
// table, then dropped: servers get the body without them) and ends the
// stream's body.
func (c *conn) endTrailers(id uint32, p []byte) error {
	c.trailers.reset(c.maxHeader)
	if err := c.dec.decode(p, &c.trailers); err != nil {
		return connError{ErrCompression, err.Error()}
	}
	code := c.block.reject
	for i := range c.trailers.refs {
		if name, _ := c.trailers.field(i); !validName(name) {
			code = ErrProtocol // pseudo-header fields included
		}
	}
	if code == 0 {
		code = c.endBody(id)
	}
	if code != 0 {
		c.streamError(id, code)
	}
	return nil
}

// endBody marks a stream's body complete; a content-length it does not
// match is a PROTOCOL_ERROR.
func (c *conn) endBody(id uint32) ErrCode {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.streams[id]
	if s == nil {
		return 0
	}
	if cl := s.Request.ContentLength; cl >= 0 && s.received != cl {
		return ErrProtocol
	}
	s.remoteEnded = true
	s.cond.Broadcast()
	return 0
}

func (c *conn) onData(h frameHeader, p []byte) error {
	if h.stream == 0 {
		return connError{ErrProtocol, "DATA on stream 0"}
	}
	if h.stream > c.lastStream.Load() {
		return connError{ErrProtocol, "DATA on an idle stream"}
	}
	data, ok := stripPadding(h, p)
	if !ok {
		return connError{ErrProtocol, "DATA padding"}
	}
	c.mu.Lock()
	if int64(h.length) > c.recvWindow {
		c.mu.Unlock()
		return connError{ErrFlowControl, "DATA beyond the connection's window"}
	}
	c.recvWindow -= int64(h.length)
	s := c.streams[h.stream]
	var code ErrCode
	switch {
	case s == nil: // closed: its window is given back at once
		c.connUnacked += int64(h.length)
		if _, byUs := c.wasClosedLocked(h.stream); !byUs {
			code = ErrStreamClosed
		}
	case s.reset.Load():
		c.connUnacked += int64(h.length)
		if s.resetByPeer {
			code = ErrStreamClosed
		}
	case s.remoteEnded:
		c.connUnacked += int64(h.length)
		code = ErrStreamClosed
	case int64(h.length) > s.recvWindow:
		c.connUnacked += int64(h.length)
		code = ErrFlowControl
	default:
		code = s.receive(data, int(h.length)-len(data), h.has(flagEndStream))
	}
	inc := c.connCredit()
	c.mu.Unlock()
	if code != 0 {
		c.streamError(h.stream, code)
	}
	c.writeWindowUpdates(0, 0, inc)
	return nil
}

// answer431 answers a request whose header list is over the limit, as
// Go's server does.
func (c *conn) answer431(id uint32, endStream bool) {
	const body = "431 Request Header Fields Too Large"
	c.lockWrite()
	blk := appendStatus(c.block.buf[:0], 431)
	blk = appendField(blk, []byte("content-type"), []byte("text/plain; charset=utf-8"))
	blk = appendField(blk, []byte("content-length"), strconv.AppendInt(nil, int64(len(body)), 10))
	blk = appendField(blk, []byte("date"), httpDate())
	c.appendHeaderBlock(id, blk, false)
	c.wbuf = append(appendFrameHeader(c.wbuf, len(body), frameData, flagEndStream, id), body...)
	if !endStream {
		c.wbuf = appendUint32(appendFrameHeader(c.wbuf, 4, frameRSTStream, 0, id), uint32(ErrNo))
	}
	c.unlockWrite(true)
	c.block.buf = blk[:0]
	c.mu.Lock()
	c.markClosedLocked(id, !endStream)
	c.mu.Unlock()
}
