package service

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// forwardNetHTTP sends Out to a server that speaks HTTP/2 only (scheme
// h2c: gRPC) through the endpoint's net/http transport, and relays the
// answer into Resp with its body streamed. The body stream reports the
// answer's trailers once read to its end (Trailers), which the HTTP/2
// front end sends on; a gRPC "trailers-only" answer gets its status moved
// to the trailers.
func forwardNetHTTP(x *pipeline.Exchange, lb *LoadBalancer, srv *Server) {
	out := &x.Out
	var body io.Reader
	switch {
	case out.IsBodyStream():
		body = readerOnly{out.BodyStream()} // the transport may read it after RoundTrip returns
	case len(out.Body()) > 0:
		body = bytes.NewReader(out.Body())
	}
	hr, err := http.NewRequestWithContext(context.Background(), string(out.Header.Method()),
		"http://"+srv.Endpoint.Addr+string(out.Header.RequestURI()), body)
	if err != nil {
		upstreamError(x, srv, err)
		return
	}
	pipeline.EachRequestHeader(&out.Header, func(k, v []byte) {
		if bytes.EqualFold(k, []byte("Host")) || x.GzipAdded() && bytes.EqualFold(k, strAcceptEncoding) {
			return // Go's transport adds (and decodes) its own gzip
		}
		hr.Header.Add(string(k), string(v))
	})
	hr.Host = string(out.Header.Host())
	if !lb.PassHostHeader || hr.Host == "" {
		hr.Host = srv.Endpoint.Addr
	}
	if n := out.Header.ContentLength(); n >= 0 && body != nil {
		hr.ContentLength = int64(n)
	} else if body == nil {
		hr.ContentLength = 0
	}
	resp, err := srv.Endpoint.RoundTripper().RoundTrip(hr)
	if err != nil {
		upstreamError(x, srv, err)
		return
	}
	only := grpcTrailersOnly(resp)
	_, date := resp.Header["Date"] // gRPC servers send none
	x.MarkServerDate(date)
	r := x.Resp
	r.SetStatusCode(resp.StatusCode)
	for k, vs := range resp.Header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	size := int(resp.ContentLength) // -1 when unknown (or decoded from gzip)
	if len(resp.Trailer) > 0 {
		size = -1 // trailers need the chunked framing to follow the body
	}
	declared := -1
	if _, ok := resp.Header["Content-Length"]; ok {
		declared = int(resp.ContentLength)
	}
	r.SetBodyStream(&trailerBody{ReadCloser: resp.Body, resp: resp, only: only, declared: declared}, size) // closed by whoever writes Resp
	relayed(x)
}

// readerOnly hides a stream's Close from a transport: the stream is the
// request's.
type readerOnly struct{ r io.Reader }

func (r readerOnly) Read(p []byte) (int, error) { return r.r.Read(p) }

// trailerBody is an upstream answer's body that gives its trailers.
type trailerBody struct {
	io.ReadCloser
	resp  *http.Response
	taken bool
	only  bool // the trailers were the answer's headers (grpcTrailersOnly)
	// declared is the server's Content-Length (-1: none), which the
	// stream's length hides when trailers need chunked framing.
	declared int
}

// Take lets upstream.TakeBody take the body out of a response.
func (b *trailerBody) Take() { b.taken = true }

// Close closes the body, but for the close of the response that lets go
// of it once taken.
func (b *trailerBody) Close() error {
	if b.taken {
		b.taken = false
		return nil
	}
	return b.ReadCloser.Close()
}

// Trailers are the answer's trailers, complete once the body has been
// read to its end.
func (b *trailerBody) Trailers() http.Header { return b.resp.Trailer }

// TrailersOnly reports whether the trailers came as the answer's only
// headers (gRPC's "trailers-only"): a gRPC-Web answer sends them back as
// headers.
func (b *trailerBody) TrailersOnly() bool { return b.only }

// DeclaredLength is the Content-Length the server sent, -1 for none.
func (b *trailerBody) DeclaredLength() int { return b.declared }

// Trailers is what a streamed response body implements when it carries
// trailers.
type Trailers interface{ Trailers() http.Header }

// grpcTrailersOnly: a gRPC "trailers-only" answer (status in the only
// HEADERS frame) reaches the proxy as headers; relayed as headers, a flush
// can split them from the end of the stream and the client sees a stream
// without trailers. The status is moved to trailers, which are sent last;
// it reports whether it moved them.
func grpcTrailersOnly(resp *http.Response) bool {
	if resp.Header.Get("Grpc-Status") == "" || len(resp.Trailer) > 0 {
		return false
	}
	resp.Trailer = http.Header{}
	for _, k := range []string{"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin"} {
		if v, ok := resp.Header[k]; ok {
			resp.Trailer[k] = v
			delete(resp.Header, k)
		}
	}
	return true
}
