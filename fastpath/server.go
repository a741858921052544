package fastpath

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// DefaultMaxHeaderBytes is the default request header limit: Traefik's
// http.maxHeaderBytes, 1 MiB.
const DefaultMaxHeaderBytes = 1 << 20

// connBuffer is the read buffer every client connection holds. fasthttp
// cannot grow a connection's buffer, and the buffer is also its header
// limit; a 1 MiB buffer on each of 1,000 connections cost 778 MB of RSS.
// So a request whose header does not fit in connBuffer (HAProxy's default
// buffer, four times nginx's largest header line) moves its connection to a
// second server whose buffer is the full limit (see bigheader.go).
const connBuffer = 16 << 10

// headerSlack is what Go's net/http, and so Traefik, reads beyond
// MaxHeaderBytes before refusing a header.
const headerSlack = 4096

// maxBufferedBody is the largest request body read whole before the
// handler runs; larger ones are streamed to the server (and not mirrored).
const maxBufferedBody = 64 << 10

// Server is one entry point's HTTP/1.1 server: fasthttp with small
// per-connection buffers, and a second fasthttp server with buffers the
// size of the header limit for the connections that need them.
type Server struct {
	fast  *fasthttp.Server
	big   *fasthttp.Server // nil when the limit fits in connBuffer
	small int              // the first server's read buffer

	draining atomic.Bool
	mu       sync.Mutex
	idle     map[net.Conn]struct{} // the big server's idle connections
}

// NewServer returns the server of one entry point: no invented Server,
// Content-Type or Date headers, request bodies streamed past 64 KiB, Go's
// idle timeout, header limit h's MaxHeaderBytes (default 1 MiB).
func NewServer(h *Handler) *Server {
	limit := h.cfg.MaxHeaderBytes
	if limit <= 0 {
		limit = DefaultMaxHeaderBytes
	}
	s := &Server{small: min(limit, connBuffer), idle: map[net.Conn]struct{}{}}
	s.fast = newFastServer(h.Serve, s.small)
	if limit > connBuffer {
		s.big = newFastServer(s.serveBig(h.Serve), limit+headerSlack)
		s.big.ReduceMemoryUsage = true // an idle connection gives its 1 MiB back
		s.big.ConnState = s.trackIdle
		s.fast.ErrorHandler = s.moveBig
	}
	return s
}

func newFastServer(handler fasthttp.RequestHandler, buf int) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                       handler,
		ErrorHandler:                  answerError,
		Name:                          "",
		NoDefaultServerHeader:         true,
		NoDefaultContentType:          true,
		NoDefaultDate:                 true,
		DisableHeaderNamesNormalizing: false,
		DisablePreParseMultipartForm:  true,
		StreamRequestBody:             true,
		MaxRequestBodySize:            maxBufferedBody,
		ReadBufferSize:                buf,
		IdleTimeout:                   180 * time.Second,
		ReadTimeout:                   0,
		CloseOnShutdown:               true,
		Logger:                        quietLogger{},
	}
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if s.big == nil {
		return s.fast.Serve(ln)
	}
	return s.fast.Serve(&spillListener{Listener: ln, size: s.small})
}

// Shutdown stops the server at once.
func (s *Server) Shutdown() error { return s.ShutdownWithContext(context.Background()) }

// ShutdownWithContext stops accepting, closes idle connections and waits
// for in-flight requests until ctx ends. Connections on the big-header
// server close after their current response.
func (s *Server) ShutdownWithContext(ctx context.Context) error {
	s.draining.Store(true)
	s.mu.Lock()
	for c := range s.idle {
		_ = c.Close()
	}
	s.mu.Unlock()
	return s.fast.ShutdownWithContext(ctx)
}

// answerError answers a request fasthttp could not read as Go's net/http
// (and so Traefik) does.
func answerError(ctx *fasthttp.RequestCtx, err error) {
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.As(err, &small):
		ctx.SetStatusCode(fasthttp.StatusRequestHeaderFieldsTooLarge)
		ctx.SetBodyString("431 Request Header Fields Too Large")
	default:
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		ctx.SetBodyString("400 Bad Request")
	}
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
