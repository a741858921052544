package fastpath

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/http2"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/service"
)

// h2cPreface is what fasthttp has consumed of an HTTP/2 connection preface
// when it hands the "PRI * HTTP/2.0" request to the handler.
const h2cPreface = "PRI * HTTP/2.0\r\n\r\n"

// isH2CPreface: the connection opened with HTTP/2's preface (prior
// knowledge h2c, what gRPC clients send on plain entry points).
func isH2CPreface(ctx *fasthttp.RequestCtx) bool {
	hdr := &ctx.Request.Header
	return string(hdr.Method()) == "PRI" && string(hdr.RequestURI()) == "*"
}

// serveH2C hands the connection, preface restored, to an HTTP/2 server
// whose streams go through the same pipeline as HTTP/1.1 requests.
// HTTP/1.1 requests never come here, so they pay nothing for it.
func (h *Handler) serveH2C(ctx *fasthttp.RequestCtx) {
	peer := peerIP(ctx)
	sock := socketOf(ctx.Conn())
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		_ = c.SetDeadline(time.Time{}) // no reader yet: the wrappers' own state is cleared too
		hc := &h2Conn{c: c, sock: sock, pre: []byte(h2cPreface)}
		defer hc.finish()
		h.h2.ServeConn(hc, &http2.ServeConnOpts{Handler: h2Handler{h: h, peer: peer}, Context: context.Background()})
	})
}

// h2Handler is the HTTP/2 front end: each stream becomes an Exchange,
// routed and served as an HTTP/1.1 request is, and the response the
// pipeline left is written to the stream.
type h2Handler struct {
	h    *Handler
	peer netip.Addr
}

func (f h2Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := f.h
	x := pipeline.Acquire()
	defer pipeline.Release(x)
	if x.BeginHTTP2(r, &h.ep, f.peer) {
		h.routeH2(x)
	} else {
		x.Respond(fasthttp.StatusBadRequest, pipeline.BodyBadRequest)
	}
	writeH2(w, x.Resp)
}

// routeH2 is route with a panic answered 500, as the HTTP/1.1 front end does.
func (h *Handler) routeH2(x *pipeline.Exchange) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic while handling request", "entryPoint", h.cfg.EntryPoint, "panic", p)
			x.Resp.Reset()
			x.Respond(fasthttp.StatusInternalServerError, pipeline.BodyInternal)
		}
	}()
	h.route(x)
}

// writeH2 writes a pipeline response to an HTTP/2 stream: its headers,
// its body (a streamed one flushed as it arrives: gRPC and event streams)
// and, after it, the trailers a streamed body reports.
func writeH2(w http.ResponseWriter, resp *fasthttp.Response) {
	hdr := w.Header()
	for k, v := range resp.Header.All() {
		switch string(k) {
		case "Connection", "Transfer-Encoding", "Keep-Alive":
			continue // connection-specific: not HTTP/2 (RFC 9113 section 8.2.2)
		}
		hdr.Add(string(k), string(v))
	}
	if _, ok := hdr["Content-Type"]; !ok {
		hdr["Content-Type"] = nil // none was set: Go's server must not sniff one
	}
	if !resp.IsBodyStream() {
		body := resp.Body()
		if hdr.Get("Content-Length") == "" && resp.StatusCode() != 204 && resp.StatusCode() != 304 {
			hdr.Set("Content-Length", itoa(len(body)))
		}
		w.WriteHeader(resp.StatusCode())
		_, _ = w.Write(body)
		return
	}
	w.WriteHeader(resp.StatusCode())
	stream := resp.BodyStream()
	rc := http.NewResponseController(w)
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		n, err := stream.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				break
			}
			_ = rc.Flush()
		}
		if err != nil {
			break
		}
	}
	if t, ok := stream.(service.Trailers); ok {
		for k, vs := range t.Trailers() {
			for _, v := range vs {
				hdr.Add(http.TrailerPrefix+k, v)
			}
		}
	}
	// The stream is closed when the Exchange is released.
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func itoa(n int) string { return string(fasthttp.AppendUint(nil, n)) }
