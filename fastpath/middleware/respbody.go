package middleware

import (
	"bytes"
	"io"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// The response-side middlewares see the answer after the rest of the
// chain made it: a body held whole (its length known) or a stream (from a
// server, its length known or not). What follows lets them look at the
// first bytes of either and replace the body with an encoded one, the
// stream staying a stream.

// bodyHead is the first bytes of a response body.
type bodyHead struct {
	head  []byte
	known bool // the body's length is known: size
	size  int
}

// peekResponse returns the start of the answer's body: all of a held
// body; of a stream of known length, up to want bytes; of one of unknown
// length, the first read, as a proxy that flushes every write would see
// it. A stream is replaced by one that replays what was read. A body
// decoded from the server's gzip has an unknown length, as Traefik's
// transport reports it.
func peekResponse(x *pipeline.Exchange, want int) bodyHead {
	resp := x.Resp
	if !resp.IsBodyStream() {
		b := resp.Body()
		return bodyHead{head: b, known: !x.BodyDecoded(), size: len(b)}
	}
	size := resp.Header.ContentLength()
	src := upstream.TakeBody(resp)
	buf := make([]byte, max(want, 512))
	var n int
	var err error
	if size >= 0 {
		n, err = io.ReadAtLeast(src, buf[:min(len(buf), max(size, 1))], min(want, max(size, 1)))
	} else {
		for n == 0 && err == nil {
			n, err = src.Read(buf)
		}
	}
	r := &replayStream{head: buf[:n], src: src}
	if err != nil && err != io.ErrUnexpectedEOF {
		r.err = err
	}
	resp.SetBodyStream(r, size)
	return bodyHead{head: buf[:n], known: size >= 0 && !x.BodyDecoded(), size: size}
}

// replayStream reads head, then src; Close closes src.
type replayStream struct {
	head  []byte
	src   io.ReadCloser
	err   error // src's error after head (EOF included)
	taken bool
}

// Take lets TakeBody take the stream out of a response (upstream.Taker).
func (r *replayStream) Take() { r.taken = true }

func (r *replayStream) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	if r.err != nil {
		return 0, r.err
	}
	return r.src.Read(p)
}

func (r *replayStream) Close() error {
	if r.taken {
		r.taken = false
		return nil
	}
	return r.src.Close()
}

// encodeResponse encodes resp's body with enc: a held body at once (sent
// with its length if the result is at most limit bytes (inlineLimit), as
// Go's server sends a small handler output; one of unknown length is
// flushed as written, so chunked), a stream as it arrives, flushed after
// every read.
func encodeResponse(resp *fasthttp.Response, enc string, known bool, limit int) {
	h := &resp.Header
	h.SetBytesKV(hdrContentEncoding, []byte(enc))
	if !resp.IsBodyStream() {
		var out bytes.Buffer
		e := getEncoder(enc, &out)
		_, _ = e.Write(resp.Body())
		_ = e.Close()
		putEncoder(enc, e)
		if known && out.Len() <= limit {
			resp.SetBody(out.Bytes())
			return
		}
		resp.SetBodyStream(bytes.NewReader(out.Bytes()), -1)
		return
	}
	src := upstream.TakeBody(resp)
	s := &encodeStream{src: src, enc: enc, in: make([]byte, 32<<10), flush: !known, limit: limit}
	s.e = getEncoder(enc, &s.out)
	if known && s.prefill() {
		resp.SetBody(s.out.Bytes()) // all of it fit under Go's chunking threshold
		_ = s.Close()
		return
	}
	resp.SetBodyStream(s, -1)
}

// prefill encodes a stream of known length until its output passes Go's
// chunking threshold (s.limit); it reports true when the whole stream was
// encoded within it (Traefik's answer then carries a Content-Length).
func (s *encodeStream) prefill() bool {
	for s.out.Len() <= s.limit && !s.done && s.err == nil {
		s.step()
	}
	return s.done && s.out.Len() <= s.limit
}

// encodeStream encodes a stream as it is read.
type encodeStream struct {
	src   io.ReadCloser
	enc   string
	e     encoder
	out   bytes.Buffer
	in    []byte
	done  bool
	err   error
	taken bool
	flush bool // flush after every read
	limit int  // prefill's: inlineLimit
}

// Take lets TakeBody take the stream out of a response (upstream.Taker).
func (s *encodeStream) Take() { s.taken = true }

func (s *encodeStream) Read(p []byte) (int, error) {
	for s.out.Len() == 0 {
		if s.done {
			return 0, io.EOF
		}
		if s.err != nil {
			return 0, s.err
		}
		s.step()
	}
	return s.out.Read(p)
}

// step encodes one read of the source, flushed if the stream is (its
// length unknown: Traefik's proxy flushes every write).
func (s *encodeStream) step() {
	n, err := s.src.Read(s.in)
	if n > 0 {
		_, _ = s.e.Write(s.in[:n])
		if s.flush {
			_ = s.e.Flush()
		}
	}
	switch {
	case err == io.EOF:
		_ = s.e.Close()
		s.done = true
	case err != nil:
		s.err = err
	}
}

func (s *encodeStream) Close() error {
	if s.taken {
		s.taken = false
		return nil
	}
	if s.e != nil {
		if s.done {
			putEncoder(s.enc, s.e)
		}
		s.e = nil
	}
	return s.src.Close()
}

// encoder is what gzip, brotli and zstd writers have in common.
type encoder interface {
	io.WriteCloser
	Flush() error
}

// Encoders at Traefik's levels: gzip's default (gzhttp), brotli's
// default quality, zstd's default level; pooled, as they are large.
var encoderPools = map[string]*sync.Pool{
	encGzip: {New: func() any {
		w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
		return w
	}},
	encBrotli: {New: func() any { return brotli.NewWriter(nil) }},
	encZstd: {New: func() any {
		w, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		return w
	}},
}

func getEncoder(enc string, w io.Writer) encoder {
	e := encoderPools[enc].Get()
	switch e := e.(type) {
	case *gzip.Writer:
		e.Reset(w)
		return e
	case *brotli.Writer:
		e.Reset(w)
		return e
	case *zstd.Encoder:
		e.Reset(w)
		return e
	}
	panic("unknown encoding " + enc)
}

func putEncoder(enc string, e encoder) { encoderPools[enc].Put(e) }
