package service

import (
	"bytes"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// Traefik forwards through Go's http.Transport, which asks a server for
// gzip when the request names no encoding (no Accept-Encoding, no Range,
// not HEAD) and then decodes a gzip answer before the client sees it,
// Content-Encoding and Content-Length dropped: a client that asked for no
// encoding gets none, and the server saw Accept-Encoding: gzip. Sluice
// does the same, so that the server and the client see what they see
// through Traefik. (Traefik's issue 13075 asks for a switch to turn it
// off; none exists in v3.7.)

var (
	strAcceptEncoding = []byte("Accept-Encoding")
	strGzip           = []byte("gzip")
)

// askGzip gives Out the Accept-Encoding: gzip Go's transport would add,
// and reports whether the send asks gzip on the client's behalf (its
// answer is then decoded). Once added, it stays (Exchange.MarkGzipAdded).
func askGzip(x *pipeline.Exchange) bool {
	if x.GzipAdded() {
		return true
	}
	if !x.AsksGzip() {
		return false
	}
	x.Out.Header.SetCanonical(strAcceptEncoding, strGzip)
	x.MarkGzipAdded()
	return true
}

// gunzipResponse decodes a gzip answer to a request askGzip asked gzip
// for. A body read whole is decoded at once; a streamed one as the client
// reads it. A body that is not gzip after all is left as it came (Go's
// transport would fail the read; the client sees what the server sent).
func gunzipResponse(x *pipeline.Exchange) {
	resp := x.Resp
	if !bytes.EqualFold(resp.Header.ContentEncoding(), strGzip) {
		return
	}
	if rc := upstream.TakeBody(resp); rc != nil {
		x.MarkBodyDecoded()
		resp.Header.Del("Content-Encoding")
		resp.SetBodyStream(&gunzipStream{src: rc}, -1)
		return
	}
	zr := gzipReaders.Get().(*gzip.Reader)
	defer gzipReaders.Put(zr)
	if zr.Reset(bytes.NewReader(resp.Body())) != nil {
		return
	}
	bb := decodeBufs.Get().(*bytes.Buffer)
	defer decodeBufs.Put(bb)
	bb.Reset()
	if _, err := io.Copy(bb, zr); err != nil {
		return
	}
	resp.Header.Del("Content-Encoding")
	// Go's transport reports a decoded body's length as unknown, and
	// Traefik's proxy then flushes the header before it: the client gets
	// it chunked (over HTTP/1.1), without a Content-Length.
	resp.SetBodyStream(bytes.NewReader(append([]byte(nil), bb.Bytes()...)), -1)
	x.MarkBodyDecoded()
}

var (
	gzipReaders = sync.Pool{New: func() any { return new(gzip.Reader) }}
	decodeBufs  = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// gunzipStream decodes a streamed gzip body; Close closes the source.
type gunzipStream struct {
	src   io.ReadCloser
	zr    *gzip.Reader
	err   error
	taken bool
}

// Take lets upstream.TakeBody take the stream out of a response.
func (g *gunzipStream) Take() { g.taken = true }

func (g *gunzipStream) Read(p []byte) (int, error) {
	if g.zr == nil && g.err == nil {
		g.zr = gzipReaders.Get().(*gzip.Reader)
		g.err = g.zr.Reset(g.src)
	}
	if g.err != nil {
		return 0, g.err
	}
	return g.zr.Read(p)
}

func (g *gunzipStream) Close() error {
	if g.taken {
		g.taken = false
		return nil
	}
	if g.zr != nil {
		gzipReaders.Put(g.zr)
		g.zr = nil
	}
	return g.src.Close()
}
