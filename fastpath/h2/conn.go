package h2

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// conn is one HTTP/2 connection. One goroutine (serve) reads and
// dispatches frames; each stream's handler runs on a goroutine of its
// own and writes its frames itself (write.go).
type conn struct {
	srv     *Server
	nc      net.Conn
	br      *bufio.Reader
	handler Handler

	maxStreams  uint32
	maxHeader   int
	idle        time.Duration
	maxRequests int           // Server.MaxRequests
	maxAge      time.Duration // Server.MaxAge
	born        time.Time
	requests    int // streams opened (the reader's)

	// The reader's own state.
	fh          [frameHeaderLen]byte
	payload     []byte
	dec         decoder
	trailers    headerList // a trailer block, decoded and dropped
	gotSettings bool
	block       headerBlock // the header block being read (CONTINUATION)
	recvWindow  int64       // what the client may still send on the connection
	closedIDs   [64]closedID
	closedPos   int

	lastStream atomic.Uint32 // highest stream the client opened
	goingAway  atomic.Bool   // a GOAWAY was sent: no new streams
	stopped    atomic.Bool   // stop was called: the reader ends now

	mu          sync.Mutex // the fields below, and every Stream's flow state
	streams     map[uint32]*Stream
	active      uint32 // handlers running
	sendWindow  int64  // what Sluice may still send on the connection
	peerWindow  int64  // the client's SETTINGS_INITIAL_WINDOW_SIZE
	connUnacked int64  // connection window consumed and not yet given back
	closed      bool   // the reader has stopped
	idleSince   time.Time
	idleTimer   *time.Timer

	peerMaxFrame atomic.Uint32

	wmu         sync.Mutex // the write buffer and the socket's writes
	wbuf        []byte
	writers     atomic.Int32 // writers holding or waiting for wmu
	needFlush   bool
	werr        error
	deadlineSet time.Time
}

// headerBlock is a HEADERS frame's block, collected until END_HEADERS.
type headerBlock struct {
	stream    uint32 // 0: none in progress
	endStream bool
	trailers  bool
	reject    ErrCode // a stream error to send once the block is decoded
	buf       []byte
	frames    int
}

// closedID remembers a closed stream, and whether Sluice reset it (its
// frames are then ignored, RFC 9113 section 5.4.2) or it ended otherwise
// (its frames are a STREAM_CLOSED error).
type closedID struct {
	id   uint32
	byUs bool
}

// markClosedLocked and wasClosedLocked are called under c.mu.
func (c *conn) markClosedLocked(id uint32, byUs bool) {
	c.closedIDs[c.closedPos] = closedID{id, byUs}
	c.closedPos = (c.closedPos + 1) % len(c.closedIDs)
}

func (c *conn) wasClosedLocked(id uint32) (found, byUs bool) {
	for _, e := range c.closedIDs {
		if e.id == id && id != 0 {
			return true, e.byUs
		}
	}
	return false, false
}

// serve reads the connection until it ends.
func (c *conn) serve() {
	defer c.finish()
	if !c.readPreface() {
		return
	}
	c.payload = make([]byte, minMaxFrameSize)
	c.writeServerPreface()
	c.mu.Lock()
	c.idleSince = time.Now()
	c.idleTimer = time.AfterFunc(c.idle, c.idleCheck)
	c.mu.Unlock()
	for {
		h, p, err := c.readFrame()
		if err == nil {
			err = c.process(h, p)
		}
		if err != nil {
			var ce connError
			if errors.As(err, &ce) {
				c.fail(ce.code)
			}
			return
		}
	}
}

func (c *conn) readPreface() bool {
	var b [len(clientPreface)]byte
	if _, err := io.ReadFull(c.br, b[:]); err != nil || string(b[:]) != clientPreface {
		return false
	}
	return true
}

// readFrame reads one frame; its payload is valid until the next read.
func (c *conn) readFrame() (frameHeader, []byte, error) {
	if _, err := io.ReadFull(c.br, c.fh[:]); err != nil {
		return frameHeader{}, nil, err
	}
	h := parseFrameHeader(c.fh[:])
	if h.length > minMaxFrameSize {
		return h, nil, connError{ErrFrameSize, "frame larger than SETTINGS_MAX_FRAME_SIZE"}
	}
	p := c.payload[:h.length]
	if _, err := io.ReadFull(c.br, p); err != nil {
		return h, nil, err
	}
	return h, p, nil
}

// process handles one frame.
func (c *conn) process(h frameHeader, p []byte) error {
	if !c.gotSettings {
		if h.typ != frameSettings || h.has(flagAck) {
			return connError{ErrProtocol, "the connection must start with SETTINGS"}
		}
		c.gotSettings = true
	}
	if c.block.stream != 0 && h.typ != frameContinuation {
		return connError{ErrProtocol, "a header block interrupted"}
	}
	switch h.typ {
	case frameData:
		return c.onData(h, p)
	case frameHeaders:
		return c.onHeaders(h, p)
	case frameContinuation:
		return c.onContinuation(h, p)
	case framePriority:
		return c.onPriority(h, p)
	case frameRSTStream:
		return c.onRSTStream(h, p)
	case frameSettings:
		return c.onSettings(h, p)
	case framePing:
		return c.onPing(h, p)
	case frameGoAway:
		if h.stream != 0 {
			return connError{ErrProtocol, "GOAWAY on a stream"}
		}
		return nil // the client stops opening streams; those open finish
	case frameWindowUpdate:
		return c.onWindowUpdate(h, p)
	case framePushPromise:
		return connError{ErrProtocol, "PUSH_PROMISE from a client"}
	}
	return nil // unknown types are ignored (RFC 9113 section 5.5)
}

func (c *conn) onPing(h frameHeader, p []byte) error {
	if len(p) != 8 {
		return connError{ErrFrameSize, "PING length"}
	}
	if h.stream != 0 {
		return connError{ErrProtocol, "PING on a stream"}
	}
	if !h.has(flagAck) {
		c.lockWrite()
		c.wbuf = append(appendFrameHeader(c.wbuf, 8, framePing, flagAck, 0), p...)
		c.unlockWrite(true)
	}
	return nil
}

func (c *conn) onSettings(h frameHeader, p []byte) error {
	if h.stream != 0 {
		return connError{ErrProtocol, "SETTINGS on a stream"}
	}
	if h.has(flagAck) {
		if len(p) != 0 {
			return connError{ErrFrameSize, "SETTINGS ACK with a payload"}
		}
		return nil
	}
	if len(p)%6 != 0 {
		return connError{ErrFrameSize, "SETTINGS length"}
	}
	// The write lock is held from the first setting to the ACK: a stream
	// a larger window wakes writes its DATA after the ACK, as a client
	// that waits for the ACK first expects (h2spec 6.9.2 failed now and
	// then over TLS when the DATA came first). Holding it while taking
	// c.mu is the order writeServerPreface uses too.
	c.lockWrite()
	for ; len(p) > 0; p = p[6:] {
		id, v := binary.BigEndian.Uint16(p), binary.BigEndian.Uint32(p[2:])
		if err := c.setting(id, v); err != nil {
			c.unlockWrite(false)
			return err
		}
	}
	c.wbuf = appendFrameHeader(c.wbuf, 0, frameSettings, flagAck, 0)
	c.unlockWrite(true)
	return nil
}

func (c *conn) setting(id uint16, v uint32) error {
	switch id {
	case settingEnablePush:
		if v > 1 {
			return connError{ErrProtocol, "SETTINGS_ENABLE_PUSH"}
		}
	case settingInitialWindowSize:
		if v > maxWindow {
			return connError{ErrFlowControl, "SETTINGS_INITIAL_WINDOW_SIZE"}
		}
		return c.setPeerWindow(int64(v))
	case settingMaxFrameSize:
		if v < minMaxFrameSize || v > maxMaxFrameSize {
			return connError{ErrProtocol, "SETTINGS_MAX_FRAME_SIZE"}
		}
		c.peerMaxFrame.Store(v)
	}
	return nil // the rest concern what Sluice does not use (push, its own encoder's table)
}

// setPeerWindow applies a new SETTINGS_INITIAL_WINDOW_SIZE to every open
// stream's send window (RFC 9113 section 6.9.2).
func (c *conn) setPeerWindow(v int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delta := v - c.peerWindow
	c.peerWindow = v
	for _, s := range c.streams {
		s.sendWindow += delta
		if s.sendWindow > maxWindow {
			return connError{ErrFlowControl, "a stream's window above 2^31-1"}
		}
		s.cond.Broadcast()
	}
	return nil
}

func (c *conn) onWindowUpdate(h frameHeader, p []byte) error {
	if len(p) != 4 {
		return connError{ErrFrameSize, "WINDOW_UPDATE length"}
	}
	inc := int64(binary.BigEndian.Uint32(p) & maxWindow)
	if h.stream == 0 {
		if inc == 0 {
			return connError{ErrProtocol, "WINDOW_UPDATE of 0"}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.sendWindow += inc; c.sendWindow > maxWindow {
			return connError{ErrFlowControl, "the connection's window above 2^31-1"}
		}
		for _, s := range c.streams {
			s.cond.Broadcast()
		}
		return nil
	}
	if h.stream > c.lastStream.Load() {
		return connError{ErrProtocol, "WINDOW_UPDATE on an idle stream"}
	}
	c.mu.Lock()
	s := c.streams[h.stream]
	if s == nil || s.reset.Load() {
		c.mu.Unlock()
		return nil // closed: ignored
	}
	if inc == 0 {
		c.mu.Unlock()
		c.streamError(h.stream, ErrProtocol)
		return nil
	}
	s.sendWindow += inc
	over := s.sendWindow > maxWindow
	s.cond.Broadcast()
	c.mu.Unlock()
	if over {
		c.streamError(h.stream, ErrFlowControl)
	}
	return nil
}

func (c *conn) onPriority(h frameHeader, p []byte) error {
	if h.stream == 0 {
		return connError{ErrProtocol, "PRIORITY on stream 0"}
	}
	if len(p) != 5 {
		c.streamError(h.stream, ErrFrameSize)
		return nil
	}
	if binary.BigEndian.Uint32(p)&maxWindow == h.stream {
		c.streamError(h.stream, ErrProtocol) // depends on itself
	}
	return nil // priorities are advice; Sluice serves streams as they come
}

func (c *conn) onRSTStream(h frameHeader, p []byte) error {
	if len(p) != 4 {
		return connError{ErrFrameSize, "RST_STREAM length"}
	}
	if h.stream == 0 || h.stream > c.lastStream.Load() {
		return connError{ErrProtocol, "RST_STREAM on stream 0 or an idle stream"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.streams[h.stream]; s != nil && !s.reset.Load() {
		s.resetByPeer = true
		s.reset.Store(true)
		s.cond.Broadcast()
	}
	if found, _ := c.wasClosedLocked(h.stream); !found {
		c.markClosedLocked(h.stream, false)
	}
	return nil
}

// streamError resets a stream (RFC 9113 section 5.4.2): its handler's
// reads and writes fail, and its later frames are ignored.
func (c *conn) streamError(id uint32, code ErrCode) {
	c.mu.Lock()
	if s := c.streams[id]; s != nil {
		s.reset.Store(true)
		s.cond.Broadcast()
	}
	c.markClosedLocked(id, true)
	c.mu.Unlock()
	c.lockWrite()
	c.wbuf = appendUint32(appendFrameHeader(c.wbuf, 4, frameRSTStream, 0, id), uint32(code))
	c.unlockWrite(true)
}

// fail ends the connection with a GOAWAY.
func (c *conn) fail(code ErrCode) {
	c.lockWrite()
	c.wbuf = appendGoAway(c.wbuf, c.lastStream.Load(), code)
	c.unlockWrite(true)
}

// goAway tells the client no new stream will be served; the connection
// ends once the open ones have (Shutdown).
func (c *conn) goAway(code ErrCode) {
	if c.goingAway.Swap(true) {
		return
	}
	c.lockWrite()
	c.wbuf = appendGoAway(c.wbuf, c.lastStream.Load(), code)
	c.unlockWrite(true)
	c.mu.Lock()
	idle := c.active == 0
	c.mu.Unlock()
	if idle {
		c.stopSoon()
	}
}

func appendGoAway(b []byte, last uint32, code ErrCode) []byte {
	b = appendFrameHeader(b, 8, frameGoAway, 0, 0)
	return appendUint32(appendUint32(b, last), uint32(code))
}

// stop unblocks the reader, which then ends the connection.
func (c *conn) stop() {
	c.stopped.Store(true)
	_ = c.nc.SetReadDeadline(pastDeadline)
}

// goAwayLinger is how long a connection that sent a graceful GOAWAY and
// has no stream left keeps reading before it closes (Go's x/net server
// waits the same second). Frames the client sent before the GOAWAY
// reached it are read and their streams refused, so it can retry them
// elsewhere; closing at once would reset the connection under a request
// still being written ("broken pipe") and could discard the GOAWAY itself.
const goAwayLinger = time.Second

// stopSoon ends the connection after goAwayLinger, or sooner when the
// client closes it; a stop already asked for stands.
func (c *conn) stopSoon() {
	if !c.stopped.Load() {
		_ = c.nc.SetReadDeadline(time.Now().Add(goAwayLinger))
	}
}

// idleCheck closes a connection that had no open stream for the idle
// timeout, and otherwise looks again when it could next be due.
func (c *conn) idleCheck() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	wait := c.idle
	if c.active == 0 {
		wait = c.idle - time.Since(c.idleSince)
	}
	if wait > 0 {
		c.idleTimer.Reset(wait)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.goAway(ErrNo)
}

// finish ends the connection: handlers still running find their reads
// and writes failing, and release their streams themselves.
func (c *conn) finish() {
	c.mu.Lock()
	c.closed = true
	for _, s := range c.streams {
		s.cond.Broadcast()
	}
	if c.idleTimer != nil {
		c.idleTimer.Stop()
	}
	c.mu.Unlock()
}
