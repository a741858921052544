package fastpath

import (
	"io"
	"net/http"
)

// watched is a streamed answer's body seen on its way to the client:
// it counts the bytes and passes on what the front ends ask of a stream
// (WriteTo's flushing as the server's answer arrives, the trailers, a
// trailers-only gRPC answer), so that wrapping a stream for metrics or
// the access log changes nothing of how it is sent.
type watched struct {
	src   io.ReadCloser
	out   counting
	n     int64
	taken bool // Take was called: the next Close is another's taking it, not the end
}

// Take is upstream.Taker: the stream is being taken out of its response
// (ResetBody closes it) to be wrapped in turn; that Close is not the end.
func (s *watched) Take() { s.taken = true }

// handover reports (and clears) a Close that only hands the stream over.
func (s *watched) handover() bool {
	if s.taken {
		s.taken = false
		return true
	}
	return false
}

// counting counts the bytes written through it (WriteTo's copy).
type counting struct {
	w io.Writer
	n *int64
}

func (c *counting) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

func (s *watched) Read(p []byte) (int, error) {
	n, err := s.src.Read(p)
	s.n += int64(n)
	return n, err
}

// WriteTo lets the stream's own WriteTo do the copy, counted.
func (s *watched) WriteTo(w io.Writer) (int64, error) {
	s.out = counting{w: w, n: &s.n}
	if wt, ok := s.src.(io.WriterTo); ok {
		return wt.WriteTo(&s.out)
	}
	return io.Copy(&s.out, struct{ io.Reader }{s.src})
}

// Trailers are the stream's, if it has any.
func (s *watched) Trailers() http.Header {
	if t, ok := s.src.(interface{ Trailers() http.Header }); ok {
		return t.Trailers()
	}
	return nil
}

// TrailersOnly reports a gRPC answer whose trailers were its headers.
func (s *watched) TrailersOnly() bool {
	t, ok := s.src.(interface{ TrailersOnly() bool })
	return ok && t.TrailersOnly()
}
