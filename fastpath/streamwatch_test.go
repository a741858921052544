package fastpath

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// fakeStream is a server's streamed answer as the transports give it:
// its own WriteTo (which flushes), trailers, a trailers-only flag.
type fakeStream struct {
	io.Reader
	wroteTo bool
	closed  bool
}

func (f *fakeStream) WriteTo(w io.Writer) (int64, error) {
	f.wroteTo = true
	return io.Copy(w, struct{ io.Reader }{f.Reader})
}
func (f *fakeStream) Close() error          { f.closed = true; return nil }
func (f *fakeStream) Trailers() http.Header { return http.Header{"Grpc-Status": {"5"}} }
func (f *fakeStream) TrailersOnly() bool    { return true }

// A stream wrapped for metrics or the access log is sent as before: its
// own WriteTo does the copy (counted), its trailers and trailers-only
// flag pass through.
func TestWatchedStreamPassesThrough(t *testing.T) {
	src := &fakeStream{Reader: strings.NewReader("part1 part2")}
	w := &watched{src: src}
	var out bytes.Buffer
	n, err := w.WriteTo(&out)
	if err != nil || n != 11 || w.n != 11 || out.String() != "part1 part2" || !src.wroteTo {
		t.Fatalf("WriteTo: %d %v, counted %d, %q, the stream's own WriteTo used: %v", n, err, w.n, out.String(), src.wroteTo)
	}
	if w.Trailers().Get("Grpc-Status") != "5" || !w.TrailersOnly() {
		t.Errorf("trailers not passed on: %v %v", w.Trailers(), w.TrailersOnly())
	}
	r := &watched{src: io.NopCloser(strings.NewReader("abc"))}
	if b, _ := io.ReadAll(r); string(b) != "abc" || r.n != 3 || r.Trailers() != nil || r.TrailersOnly() {
		t.Errorf("a plain stream: %q counted %d", b, r.n)
	}
}

// Taken out of its response to be wrapped again (upstream.TakeBody), a
// watched stream's Close is a hand-over, not its end.
func TestWatchedStreamHandover(t *testing.T) {
	src := &fakeStream{Reader: strings.NewReader("x")}
	w := &watched{src: src}
	w.Take()
	if !w.handover() || w.handover() {
		t.Fatal("a Take hands over exactly one Close")
	}
}
