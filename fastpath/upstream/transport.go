package upstream

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"github.com/sluiceproxy/sluice/fastpath/pollconn"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// DefaultBufferLimit is the largest response body (by Content-Length) read
// whole before it is relayed; larger, chunked and read-until-close bodies
// are streamed. A buffered body is one write to the client.
const DefaultBufferLimit = 64 << 10

// Transport is a fasthttp RoundTripper over the HostClient's own connection
// pool that streams large response bodies without allocating: fasthttp
// 1.74's StreamResponseBody allocates four objects per response. A
// streamed body holds its upstream connection until the server has relayed
// it and closes the stream; a body that was not read to its end closes the
// connection instead of returning it to the pool.
type Transport struct {
	BufferLimit int // 0 means DefaultBufferLimit
	// MaxIdle caps the idle connections kept (ServersTransport
	// maxIdleConnsPerHost); negative keeps none. 0: no cap beyond the idle
	// timeout, and no accounting on the request path.
	MaxIdle int
	busy    atomic.Int64 // requests holding a connection, counted only with a cap
}

// finish returns cc to the pool when reuse allows and the pool holds fewer
// than MaxIdle idle connections, closes it otherwise, and ends the request.
func finish[C conn](t *Transport, hc *fasthttp.HostClient, cc C, release, closeConn func(*fasthttp.HostClient, C), reuse bool) {
	if t.MaxIdle != 0 {
		// Idle after this release: every open connection but the busy ones
		// (the decrement orders concurrent finishers).
		others := t.busy.Add(-1)
		reuse = reuse && hc.ConnsCount()-int(others) <= t.MaxIdle
	}
	if reuse {
		release(hc, cc)
	} else {
		closeConn(hc, cc)
	}
}

// conn is what HostClient.AcquireConn returns (fasthttp's unexported
// *clientConn), named by its one method we need.
type conn interface{ Conn() net.Conn }

// RoundTrip implements fasthttp.RoundTripper.
func (t *Transport) RoundTrip(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (bool, error) {
	cc, err := hc.AcquireConn(0, req.ConnectionClose())
	for err == nil && pollconn.Stale(tcpConn(cc.Conn())) {
		// The server closed it while it sat idle: another, as Go's
		// Transport would, before anything of the request is sent. Each
		// turn closes one pooled connection; a new one is not checked.
		hc.CloseConn(cc)
		cc, err = hc.AcquireConn(0, req.ConnectionClose())
	}
	if err != nil {
		return false, err
	}
	if t.MaxIdle != 0 {
		t.busy.Add(1)
	}
	limit := t.BufferLimit
	if limit == 0 {
		limit = DefaultBufferLimit
	}
	// Method expressions carry fasthttp's unexported connection type into
	// the generic code without allocating a closure.
	return roundTrip(t, hc, cc, (*fasthttp.HostClient).ReleaseConn, (*fasthttp.HostClient).CloseConn, limit, req, resp)
}

// tcpConn is the connection under c's TLS, if c is a TLS connection: the
// pollconn.Conn that Stale can check. A TLS 1.3 server's session tickets
// come before its first answer and are read with it, so on an idle TLS
// connection too the socket is readable only when the server is closing
// it (close_notify and FIN).
func tcpConn(c net.Conn) net.Conn {
	if t, ok := c.(*tls.Conn); ok {
		return t.NetConn()
	}
	return c
}

func roundTrip[C conn](t *Transport, hc *fasthttp.HostClient, cc C, release, closeConn func(*fasthttp.HostClient, C), limit int, req *fasthttp.Request, resp *fasthttp.Response) (bool, error) {
	c := cc.Conn()
	if err := writeRequest(hc, c, req); err != nil {
		finish(t, hc, cc, release, closeConn, false)
		return true, err
	}
	if hc.ReadTimeout > 0 {
		_ = c.SetReadDeadline(time.Now().Add(hc.ReadTimeout))
	}
	if req.Header.IsHead() {
		resp.SkipBody = true // keep the upstream's Content-Length, expect no body
	}
	if err := pollconn.Await(c); err != nil { // before a read buffer is taken
		finish(t, hc, cc, release, closeConn, false)
		return true, err
	}
	br, pooled, err := readHeaderAll(hc, c, req, resp)
	if err != nil {
		releaseReader(hc, br, pooled)
		finish(t, hc, cc, release, closeConn, false)
		return true, err
	}
	// After a 101 the connection speaks another protocol: never pool it.
	mustClose := req.ConnectionClose() || resp.ConnectionClose() || resp.StatusCode() == fasthttp.StatusSwitchingProtocols
	cl := resp.Header.ContentLength()
	if resp.SkipBody || noBody(resp.StatusCode()) || cl >= 0 && cl <= limit {
		if !resp.SkipBody && !noBody(resp.StatusCode()) {
			err = resp.ReadBody(br, 0)
		}
		releaseReader(hc, br, pooled)
		finish(t, hc, cc, release, closeConn, err == nil && !mustClose)
		return false, err
	}
	if hc.ReadTimeout > 0 {
		_ = c.SetReadDeadline(time.Time{}) // the timeout is for the response header
	}
	s := getStream[C]()
	s.t, s.hc, s.cc, s.br, s.pooled, s.release, s.close = t, hc, cc, br, pooled, release, closeConn
	s.mustClose = mustClose || cl == -2
	size := cl
	switch cl {
	case -1:
		s.mode = modeChunked
	case -2:
		s.mode, size = modeUntilClose, -1 // relayed chunked
	default:
		s.mode, s.left = modeFixed, int64(cl)
	}
	resp.SetBodyStream(s, size)
	return false, nil
}

// Take marks the stream as taken by TakeBody: the Close of the response
// letting go of it is then not its end.
func (s *stream[C]) Take() { s.taken = true }

// Taker is a body stream that TakeBody can take out of a response:
// after Take, its next Close does nothing (the response's ResetBody), and
// the one after closes it. A stream wrapping another implements it so
// that it can be taken in turn.
type Taker interface{ Take() }

// TakeBody takes a streamed response body out of resp, which is left
// without one, and returns it: the caller reads and closes it (a body
// stream Transport made keeps its connection until then). It returns nil
// for a response whose body is not a stream.
func TakeBody(resp *fasthttp.Response) io.ReadCloser {
	bs := resp.BodyStream()
	if bs == nil {
		return nil
	}
	if t, ok := bs.(Taker); ok {
		t.Take() // ResetBody's Close is then not the end
	}
	rc, ok := bs.(io.ReadCloser)
	if !ok {
		rc = io.NopCloser(bs)
	}
	resp.ResetBody()
	return rc
}

// MaxResponseHeaderBytes is the largest response header read: Go's
// http.Transport default, and so Traefik's.
const MaxResponseHeaderBytes = 10 << 20

// readHeaderAll reads the response header with a reader from the
// HostClient's pool (small: one per request in flight). A header that does
// not fit is read again by a larger reader, eight times the size each time
// up to MaxResponseHeaderBytes, that starts with the bytes already read. It
// returns the reader the body is to be read with, and whether that is the
// pool's.
func readHeaderAll(hc *fasthttp.HostClient, c net.Conn, req *fasthttp.Request, resp *fasthttp.Response) (*bufio.Reader, bool, error) {
	br := hc.AcquireReader(c)
	err := readHeader(req, resp, br)
	if err == nil || !isSmallBuffer(err) {
		return br, true, err
	}
	size := br.Size()
	read, _ := br.Peek(br.Buffered())
	read = bytes.Clone(read)
	hc.ReleaseReader(br)
	for {
		size = min(size*8, MaxResponseHeaderBytes)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(read), c), size)
		err = readHeader(req, resp, br)
		if err == nil || !isSmallBuffer(err) || size == MaxResponseHeaderBytes {
			return br, false, err
		}
		read, _ = br.Peek(br.Buffered())
		read = bytes.Clone(read)
	}
}

// isSmallBuffer: err says the header did not fit the reader (kept out of
// the callers so that the target does not escape on every request).
func isSmallBuffer(err error) bool {
	var small *fasthttp.ErrSmallBuffer
	return errors.As(err, &small)
}

func releaseReader(hc *fasthttp.HostClient, br *bufio.Reader, pooled bool) {
	if pooled {
		hc.ReleaseReader(br)
	}
}

// readHeader reads the response header. An informational (1xx) answer
// before it other than 101 (which ends the HTTP exchange) goes to req's
// Interim, if it has one (100 Continue never: Sluice answers a client's
// Expect itself). As in Go's transport when its user sees the
// informational answers (Traefik's proxy does), their number is not
// limited; each is a header of its own, read within the same limits.
func readHeader(req *fasthttp.Request, resp *fasthttp.Response, br *bufio.Reader) error {
	for {
		if err := resp.Header.Read(br); err != nil {
			return err
		}
		s := resp.StatusCode()
		if s >= 200 || s == fasthttp.StatusSwitchingProtocols {
			return nil
		}
		if s != fasthttp.StatusContinue {
			if i, ok := req.UserValue(interimKey).(Interim); ok {
				resp.Header.SetNoDefaultContentType(true) // none invented (relayed sets it for the answer too)
				i.Interim(s, &resp.Header)
			}
		}
	}
}

// noBody reports the statuses whose responses never carry a body.
func noBody(status int) bool {
	return status < 200 || status == fasthttp.StatusNoContent || status == fasthttp.StatusNotModified
}

type streamMode uint8

const (
	modeFixed streamMode = iota
	modeChunked
	modeUntilClose
)

var (
	errChunkSize = errors.New("upstream: malformed chunk size line")
	errChunkEnd  = errors.New("upstream: malformed chunk terminator")
)

// stream is a response body read from an upstream connection. It is
// pooled; fasthttp calls Close once, after relaying the body or on error.
type stream[C conn] struct {
	t              *Transport
	hc             *fasthttp.HostClient
	cc             C
	br             *bufio.Reader
	pooled         bool // br is the HostClient's
	release, close func(*fasthttp.HostClient, C)
	mode           streamMode
	left           int64 // bytes left in the body (fixed) or chunk (chunked)
	done           bool  // the body ended cleanly
	mustClose      bool  // the connection cannot be reused
	err            error
	taken          bool // TakeBody: the next Close is the response's letting go, not the end
	trailers       http.Header
}

var streamPool sync.Pool

func getStream[C conn]() *stream[C] {
	if s, ok := streamPool.Get().(*stream[C]); ok {
		return s
	}
	return new(stream[C])
}

// Read implements io.Reader.
func (s *stream[C]) Read(p []byte) (int, error) {
	if s.done {
		return 0, io.EOF
	}
	if s.err != nil {
		return 0, s.err
	}
	if s.mode == modeChunked && s.left == 0 {
		if s.err = s.nextChunk(); s.err != nil {
			return 0, s.err
		}
		if s.done {
			return 0, io.EOF
		}
	}
	if s.mode != modeUntilClose && int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.br.Read(p)
	s.left -= int64(n)
	if err == io.EOF && s.mode == modeUntilClose {
		s.done = true
		return n, io.EOF
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		s.err = err
		return n, err
	}
	if s.left == 0 && s.mode == modeFixed {
		s.done = true
		return n, io.EOF
	}
	if s.left == 0 && s.mode == modeChunked {
		if s.err = s.chunkEnd(); s.err != nil {
			return n, s.err
		}
	}
	return n, nil
}

// copyBufSize is the relay buffer of a fixed-length streamed body: 16x
// fasthttp's 4 KiB copy buffer, so a 1 MiB body is 16 reads and 16 writes.
const copyBufSize = 64 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// SupportsBodyWriteTo tells fasthttp to relay a fixed-length body through
// WriteTo. Chunked bodies keep fasthttp's read loop: each upstream read is
// flushed to the client as one chunk at once (event streams), and its
// WriteTo path for chunked bodies allocates.
func (s *stream[C]) SupportsBodyWriteTo() bool { return s.mode == modeFixed }

// WriteTo copies the rest of the body to w with a large pooled buffer.
//
// Whenever the upstream has nothing more buffered (the next read would wait
// on the network), what was written is flushed to the client: data never
// waits in Sluice while the upstream pauses, which is at least as prompt as
// any responseForwarding.flushInterval, without a flush per write while
// the upstream keeps sending.
func (s *stream[C]) WriteTo(w io.Writer) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	flusher, _ := w.(interface{ Flush() error })
	var n int64
	for {
		m, err := s.Read(*bp)
		if m > 0 {
			if _, werr := w.Write((*bp)[:m]); werr != nil {
				return n, werr
			}
			n += int64(m)
			if flusher != nil && err == nil && s.br.Buffered() == 0 {
				if ferr := flusher.Flush(); ferr != nil {
					return n, ferr
				}
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// nextChunk reads a chunk-size line; at the last chunk it reads (and
// drops) the trailer section and marks the body done.
func (s *stream[C]) nextChunk() error {
	line, err := s.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	size, ok := parseChunkSize(line)
	if !ok {
		return errChunkSize
	}
	if size > 0 {
		s.left = size
		return nil
	}
	for {
		line, err := s.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 && (len(line) == 1 || line[0] == '\r') {
			s.done = true
			return nil
		}
		s.addTrailer(line)
	}
}

// addTrailer keeps one field of the trailer section ("Name: value"), as
// Go's transport gives them to Traefik's proxy: names canonical, values
// trimmed; a line that is not a field, or names a field no trailer may
// carry, is dropped.
func (s *stream[C]) addTrailer(line []byte) {
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
		return
	}
	key := textproto.CanonicalMIMEHeaderKey(string(name))
	switch key {
	case "Transfer-Encoding", "Trailer", "Content-Length", "Host":
		return
	}
	if s.trailers == nil {
		s.trailers = http.Header{}
	}
	s.trailers[key] = append(s.trailers[key], string(bytes.TrimSpace(value)))
}

// Trailers are the trailer fields of a chunked answer, complete once its
// body has been read to its end (the HTTP/2 front end sends them on, the
// grpcWeb middleware frames them).
func (s *stream[C]) Trailers() http.Header { return s.trailers }

func (s *stream[C]) chunkEnd() error {
	line, err := s.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if string(line) != "\r\n" && string(line) != "\n" {
		return errChunkEnd
	}
	return nil
}

// parseChunkSize parses "hex[;ext]\r\n" as Go's net/http does.
func parseChunkSize(line []byte) (int64, bool) {
	var n int64
	digits := 0
	for _, c := range line {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		case c == ';' || c == '\r' || c == '\n' || c == ' ' || c == '\t':
			return n, digits > 0
		default:
			return 0, false
		}
		if digits == 15 {
			return 0, false // over 2^60: refuse rather than overflow
		}
		n = n<<4 | int64(d)
		digits++
	}
	return 0, false
}

// Close returns the connection to the pool when the body was read to its
// end, closes it otherwise, and recycles the stream.
func (s *stream[C]) Close() error {
	if s.taken {
		s.taken = false
		return nil
	}
	releaseReader(s.hc, s.br, s.pooled)
	finish(s.t, s.hc, s.cc, s.release, s.close, s.done && !s.mustClose)
	*s = stream[C]{}
	streamPool.Put(s)
	return nil
}
