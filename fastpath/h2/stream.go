package h2

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStreamReset is what a stream's reads and writes return once the
// stream was reset (by the client or for a protocol error) or the
// connection ended.
var ErrStreamReset = errors.New("http2: stream reset")

// Stream is one request and its response. Request and the methods are
// for the stream's handler only; everything is valid until it returns.
type Stream struct {
	Request
	c    *conn
	id   uint32
	cond sync.Cond // on c.mu: body data, window, reset

	// Receiving, under c.mu.
	body        []byte // received and not yet read: body[off:]
	off         int
	recvWindow  int64 // what the client may still send on the stream
	unacked     int64 // read and not yet given back to the client
	received    int64 // body octets received
	remoteEnded bool  // the client ended its side (END_STREAM)
	resetByPeer bool

	// Sending: sendWindow under c.mu; the rest the handler's.
	sendWindow int64
	reset      atomic.Bool
	ended      bool   // the response's last frame was written
	enc        []byte // the response's header block
	name       []byte // a field name in lower case

	list headerList
}

var streams = sync.Pool{New: func() any { return new(Stream) }}

func getStream() *Stream { return streams.Get().(*Stream) }

func putStream(s *Stream) {
	if cap(s.body) > 64<<10 {
		s.body = nil
	}
	if cap(s.list.arena) > 64<<10 {
		s.list.arena = nil
	}
	s.c, s.body, s.off, s.Request.Fields = nil, s.body[:0], 0, s.Request.Fields[:0]
	streams.Put(s)
}

func (s *Stream) init(c *conn, id uint32, endStream bool, peerWindow int64) {
	s.c, s.id, s.cond.L = c, id, &c.mu
	s.recvWindow, s.unacked, s.received = streamWindow, 0, 0
	s.remoteEnded, s.resetByPeer, s.ended = endStream, false, false
	s.sendWindow = peerWindow
	s.reset.Store(false)
	s.HasBody = !endStream
}

// ID is the stream's identifier.
func (s *Stream) ID() uint32 { return s.id }

// RemoteAddr is the client's address.
func (s *Stream) RemoteAddr() net.Addr { return s.c.nc.RemoteAddr() }

// receive takes a DATA frame's data (pad: its padding octets), under c.mu.
func (s *Stream) receive(data []byte, pad int, end bool) ErrCode {
	c := s.c
	s.recvWindow -= int64(len(data) + pad)
	c.connUnacked += int64(pad)
	s.unacked += int64(pad)
	s.received += int64(len(data))
	if cl := s.Request.ContentLength; cl >= 0 && (s.received > cl || end && s.received != cl) {
		c.connUnacked += int64(len(data))
		return ErrProtocol
	}
	s.body = append(s.body, data...)
	if end {
		s.remoteEnded = true
	}
	s.cond.Broadcast()
	return 0
}

// Read reads the request body; it returns io.EOF at its end and
// ErrStreamReset when the stream or connection ended first.
func (s *Stream) Read(p []byte) (int, error) {
	c := s.c
	c.mu.Lock()
	for s.off == len(s.body) && !s.remoteEnded && !s.reset.Load() && !c.closed {
		s.cond.Wait()
	}
	if s.off < len(s.body) {
		n := copy(p, s.body[s.off:])
		if s.off += n; s.off == len(s.body) {
			s.body, s.off = s.body[:0], 0
		}
		s.unacked += int64(n)
		c.connUnacked += int64(n)
		sinc := s.streamCredit()
		cinc := c.connCredit()
		c.mu.Unlock()
		c.writeWindowUpdates(s.id, sinc, cinc)
		return n, nil
	}
	err := io.EOF
	if !s.remoteEnded {
		err = ErrStreamReset
	}
	c.mu.Unlock()
	return 0, err
}

// streamCredit returns the stream window to give back now (under c.mu):
// once half of it is read, while the client still sends.
func (s *Stream) streamCredit() int64 {
	if s.remoteEnded || s.reset.Load() || s.unacked < streamWindow/2 {
		return 0
	}
	inc := s.unacked
	s.recvWindow += inc
	s.unacked = 0
	return inc
}

// connCredit returns the connection window to give back now (under
// c.mu), counted as granted before the WINDOW_UPDATE leaves.
func (c *conn) connCredit() int64 {
	if c.connUnacked < connWindow/2 {
		return 0
	}
	inc := c.connUnacked
	c.connUnacked = 0
	c.recvWindow += inc
	return inc
}

// run serves one stream on its own goroutine.
func (c *conn) run(s *Stream) {
	defer c.endStream(s)
	defer func() {
		if recover() != nil {
			s.ended = false // reset below
		}
	}()
	c.handler(s)
}

// endStream closes a stream whose handler returned: a response cut short
// is reset, a request body not read to its end is refused with
// RST_STREAM(NO_ERROR) (RFC 9113 section 8.1), and the window its unread
// data held is given back.
func (c *conn) endStream(s *Stream) {
	var code ErrCode = ErrNo
	if !s.ended {
		code = ErrInternal
	}
	c.mu.Lock()
	delete(c.streams, s.id)
	c.active--
	c.connUnacked += int64(len(s.body) - s.off)
	rst := !s.reset.Load() && (!s.ended || !s.remoteEnded)
	if c.active == 0 {
		c.idleSince = time.Now()
	}
	stop := c.active == 0 && c.goingAway.Load()
	inc := c.connCredit()
	c.markClosedLocked(s.id, rst || s.reset.Load() && !s.resetByPeer)
	c.mu.Unlock()
	if rst {
		c.lockWrite()
		c.wbuf = appendUint32(appendFrameHeader(c.wbuf, 4, frameRSTStream, 0, s.id), uint32(code))
		c.unlockWrite(true)
	}
	c.writeWindowUpdates(0, 0, inc)
	putStream(s)
	if stop {
		c.stopSoon()
	}
}
