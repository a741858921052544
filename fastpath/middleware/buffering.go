package middleware

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// Buffering is Traefik's buffering middleware (traefik v3.7
// pkg/middlewares/buffering on vulcand/oxy's buffer): the request body is
// read whole before the server is called (it then goes with a
// Content-Length), and the answer whole before the client gets it. A
// request body over its maximum is answered 413 with the status text,
// before any server is called; an answer over its maximum 500, as oxy
// answers it. 0 means no maximum; Sluice then holds at
// most pipeline.MaxHeldBody (32 MiB) and passes a longer body as it
// streams. oxy spills bodies over the Mem* sizes to temporary files;
// Sluice keeps what it holds in memory and reads the Mem* fields only to
// check them.
type Buffering struct {
	MaxRequestBodyBytes, MemRequestBodyBytes, MaxResponseBodyBytes, MemResponseBodyBytes int64
	// RetryExpression, when set, sends a request with a body again while
	// it holds for the answer (IsNetworkError(), Attempts(),
	// ResponseCode(), RequestMethod()), up to 10 tries, as oxy's buffer
	// does; a request without a body is sent once, as there.
	RetryExpression string
}

// bufferMaxAttempts is oxy's DefaultMaxRetryAttempts.
const bufferMaxAttempts = 10

var (
	bodyTooLarge     = []byte(http.StatusText(http.StatusRequestEntityTooLarge))
	bodyInternalText = []byte(http.StatusText(http.StatusInternalServerError))
)

// Middleware builds it; negative sizes are errors, as in oxy.
func (b Buffering) Middleware() (pipeline.Middleware, error) {
	for _, v := range []struct {
		what string
		n    int64
	}{{"max", b.MaxRequestBodyBytes}, {"mem", b.MemRequestBodyBytes}, {"max", b.MaxResponseBodyBytes}, {"mem", b.MemResponseBodyBytes}} {
		if v.n < 0 {
			return nil, fmt.Errorf("%s bytes should be >= 0 got %d", v.what, v.n)
		}
	}
	var retry bufPredicate
	if b.RetryExpression != "" {
		p, err := parseBufExpression(b.RetryExpression)
		if err != nil {
			return nil, err
		}
		retry = p
	}
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			upstream.SetInterim(&x.Out, nil) // the answer is held: Traefik's buffer keeps no interim answer either
			if !b.holdRequest(x) {
				x.RespondStatusText(http.StatusRequestEntityTooLarge, bodyTooLarge)
				return
			}
			if retry != nil && len(x.Out.Body()) > 0 && !x.Out.IsBodyStream() {
				serveRetrying(next, x, retry)
			} else {
				next.Serve(x)
			}
			if x.Upgrade() != nil && x.Resp.StatusCode() == http.StatusSwitchingProtocols {
				return
			}
			if !b.holdResponse(x) {
				// oxy's size error reaches its handler wrapped, and so is
				// answered as any other error: 500.
				x.Resp.Reset()
				x.RespondStatusText(http.StatusInternalServerError, bodyInternalText)
			}
		})
	}, nil
}

// serveRetrying serves a held request again while retry holds for the
// answer, from the request as it was (up to oxy's 10 tries).
func serveRetrying(next pipeline.Handler, x *pipeline.Exchange, retry bufPredicate) {
	saved := savedHeaders.Get().(*fasthttp.RequestHeader)
	defer savedHeaders.Put(saved)
	x.Out.Header.CopyTo(saved)
	for attempt := 1; ; attempt++ {
		next.Serve(x)
		if attempt > bufferMaxAttempts || x.Resp.StatusCode() == http.StatusSwitchingProtocols ||
			!retry(x.Out.Header.Method(), attempt, x.Resp.StatusCode()) {
			return
		}
		x.Resp.Reset()
		saved.CopyTo(&x.Out.Header)
		x.Out.SetRequestURIBytes(x.Out.Header.RequestURI())
		x.HeadersEdited()
	}
}

// holdRequest reads the request body whole; false: it is over the maximum.
func (b Buffering) holdRequest(x *pipeline.Exchange) bool {
	max := b.MaxRequestBodyBytes
	if max > 0 && int64(x.Out.Header.ContentLength()) > max {
		return false
	}
	limit := int64(-1)
	if max > 0 {
		limit = max
	}
	return x.HoldBody(limit) || max == 0 || max > pipeline.MaxHeldBody
}

// holdResponse reads a streamed answer whole; false: it is over the
// maximum.
func (b Buffering) holdResponse(x *pipeline.Exchange) bool {
	resp := x.Resp
	if !resp.IsBodyStream() {
		return b.MaxResponseBodyBytes == 0 || int64(len(resp.Body())) <= b.MaxResponseBodyBytes
	}
	limit := b.MaxResponseBodyBytes
	if limit == 0 || limit > pipeline.MaxHeldBody {
		limit = pipeline.MaxHeldBody
	}
	size := resp.Header.ContentLength()
	src := upstream.TakeBody(resp)
	var buf bytes.Buffer
	_, err := io.Copy(&buf, io.LimitReader(src, limit+1))
	switch {
	case err != nil:
		_ = src.Close()
		resp.SetBodyStream(&replayStream{head: buf.Bytes(), src: io.NopCloser(bytes.NewReader(nil)), err: err}, -1)
		return true // the client sees the body end early, as it would without buffering
	case int64(buf.Len()) > limit && b.MaxResponseBodyBytes > 0 && b.MaxResponseBodyBytes <= pipeline.MaxHeldBody:
		_ = src.Close()
		return false
	case int64(buf.Len()) > limit: // no maximum, over what Sluice holds: passed on as it streams
		resp.SetBodyStream(&replayStream{head: buf.Bytes(), src: src}, size)
		return true
	}
	_ = src.Close()
	if size < 0 && buf.Len() > inlineLimit(x) {
		resp.SetBodyStream(bytes.NewReader(buf.Bytes()), -1) // Go's server chunks what it did not get a length for
		return true
	}
	resp.SetBody(buf.Bytes())
	return true
}
