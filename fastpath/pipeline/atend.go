package pipeline

import (
	"io"
	"net/http"
	"slices"
	"sync"
)

// Ender is what AtEnd runs: a pointer to a middleware's own state ends a
// request without a closure allocated per request.
type Ender interface{ End() }

// EndFunc adapts a function to Ender.
type EndFunc func()

// End calls f.
func (f EndFunc) End() { f() }

// AtEnd registers e to run once the exchange is over for the client: its
// answer written (a streamed body closed, read to its end or not), or,
// for a connection handed over by Hijack, that connection closed (the
// tunnel's end, or the client gone before the switch was written). A
// middleware that holds something for a request's whole life
// (inFlightReq's slot) registers its release before it calls the rest
// of the chain; e runs exactly once.
func (x *Exchange) AtEnd(e Ender) { x.ends = append(x.ends, e) }

// ConnCloseNotifier is a client connection that runs functions when it
// is closed (the HTTP/1.1 front end's).
type ConnCloseNotifier interface{ AtClose(f func()) }

// endsAtClose moves the AtEnd functions to the client connection's close:
// fasthttp closes it after the hijack function returns, or without
// calling that function when the answer could not be written.
func (x *Exchange) endsAtClose() {
	ends := x.takeEnds()
	if n, ok := x.ctx.Conn().(ConnCloseNotifier); ok {
		n.AtClose(func() { runAll(ends) })
		return
	}
	runAll(ends) // no way to learn the end: released now rather than never
}

// endsAfterAnswer runs the AtEnd functions when the answer is written: at
// once for a body held in memory, when a streamed body is closed
// otherwise (the front end closes it after writing it, or on giving up).
// Neither allocates once warm (the stream wrappers are pooled).
func (x *Exchange) endsAfterAnswer() {
	r := x.Resp
	if r == nil || !r.IsBodyStream() {
		runAll(x.ends)
		clear(x.ends)
		x.ends = x.ends[:0]
		return
	}
	bs := r.BodyStream()
	t, takeable := bs.(interface{ Take() })
	if _, closer := bs.(io.Closer); closer && !takeable {
		runAll(x.takeEnds()) // replacing it would close it: released now
		return
	}
	if takeable {
		t.Take() // SetBodyStream's reset then leaves it open
	}
	s := endStreams.Get().(*endStream)
	s.r, s.ends = bs, append(s.ends[:0], x.ends...)
	clear(x.ends)
	x.ends = x.ends[:0]
	r.SetBodyStream(s, r.Header.ContentLength())
}

var endStreams = sync.Pool{New: func() any { return new(endStream) }}

// takeEnds returns the AtEnd functions, leaving x's (pooled) list empty.
func (x *Exchange) takeEnds() []Ender {
	ends := slices.Clone(x.ends)
	clear(x.ends)
	x.ends = x.ends[:0]
	return ends
}

func runAll(es []Ender) {
	for _, e := range es {
		e.End()
	}
}

// endStream is a streamed answer that runs functions when closed; it
// passes on what the front ends ask of a stream (WriteTo's flushing,
// trailers).
type endStream struct {
	r    io.Reader
	ends []Ender
}

func (s *endStream) Read(p []byte) (int, error) { return s.r.Read(p) }

// WriteTo lets the stream's own WriteTo (which flushes as a server's
// answer arrives) do the copy.
func (s *endStream) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := s.r.(io.WriterTo); ok {
		return wt.WriteTo(w)
	}
	return io.Copy(w, struct{ io.Reader }{s.r})
}

// Trailers are the stream's, if it has any (HTTP/2's front end sends
// them).
func (s *endStream) Trailers() http.Header {
	if t, ok := s.r.(interface{ Trailers() http.Header }); ok {
		return t.Trailers()
	}
	return nil
}

// Close closes the stream, runs the functions, and returns the wrapper
// to its pool: nothing may use it afterwards (fasthttp closes a body
// stream once).
func (s *endStream) Close() error {
	var err error
	if c, ok := s.r.(io.Closer); ok {
		err = c.Close()
	}
	runAll(s.ends)
	clear(s.ends)
	s.r, s.ends = nil, s.ends[:0]
	endStreams.Put(s)
	return err
}
