package fastpath

import (
	"context"
	"errors"
	"net"
	"strings"
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
// So a request whose header does not fit moves its connection to a second
// server with midBuffer, and from there to a third whose buffer is the
// whole limit (see bigheader.go): nginx's small and large header buffers,
// with Traefik's limit on top.
const (
	connBuffer = 4 << 10
	midBuffer  = 64 << 10
)

// headerSlack is what Go's net/http, and so Traefik, reads beyond
// MaxHeaderBytes before refusing a header.
const headerSlack = 4096

// maxBufferedBody is the largest request body read whole before the
// handler runs; larger ones are streamed to the server (and not mirrored).
const maxBufferedBody = 64 << 10

// Server is one entry point's HTTP/1.1 server: fasthttp servers with
// growing read buffers (tiers), a connection starting on the first and
// moving up when a request header does not fit.
type Server struct {
	tiers    []*fasthttp.Server // growing ReadBufferSize
	tlsTiers []*fasthttp.Server // the same, for connections after their TLS handshake
	h        *Handler

	draining atomic.Bool
	peak     atomic.Int64 // most connections open at once since OpenConns
	mu       sync.Mutex
	idle     map[net.Conn]struct{} // idle connections of the upper tiers and of TLS
}

// NewServer returns the server of one entry point: no invented Server or
// Content-Type headers, request bodies streamed past 64 KiB, h's
// Timeouts (default Traefik's), header limit h's MaxHeaderBytes (default
// 1 MiB).
func NewServer(h *Handler) *Server {
	limit := h.cfg.MaxHeaderBytes
	if limit <= 0 {
		limit = DefaultMaxHeaderBytes
	}
	s := &Server{idle: map[net.Conn]struct{}{}, h: h}
	s.tiers = s.newTiers(tierSizes(limit), false)
	s.tlsTiers = s.newTiers(tierSizes(limit), true)
	return s
}

// newTiers builds one set of tiers (plain, or for TLS connections: the
// same servers, fed by serveTLS rather than a listener). Servers without
// a listener (the upper tiers, and every TLS one) report their idle
// connections to Shutdown, which fasthttp cannot close for them.
func (s *Server) newTiers(sizes []int, tls bool) []*fasthttp.Server {
	h := s.h
	last := len(sizes) - 1
	tiers := make([]*fasthttp.Server, 0, len(sizes))
	for i, size := range sizes {
		fs := newFastServer(serveTier0(h.Serve), size)
		applyTimeouts(fs, h.cfg.timeouts())
		if i > 0 {
			fs.Handler = s.serveMoved(h.Serve, i == last)
		}
		if i > 0 || tls {
			fs.ConnState = s.trackIdle
		}
		if i < last {
			fs.ErrorHandler = s.mover(&tiers, i+1)
		}
		tiers = append(tiers, fs)
	}
	return tiers
}

// serveTier0 is the first tier's handler: after the Handler, the
// connection learns whether the response is long (coalesce.go).
func serveTier0(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		next(ctx)
		expectLong(ctx)
	}
}

// tierSizes: connBuffer, midBuffer, then the limit plus Go's slack, each
// only if the limit and slack are above the one before.
func tierSizes(limit int) []int {
	total := limit + headerSlack
	if total <= connBuffer {
		return []int{total}
	}
	sizes := []int{connBuffer}
	if total > midBuffer {
		sizes = append(sizes, midBuffer)
	}
	return append(sizes, total)
}

func newFastServer(handler fasthttp.RequestHandler, buf int) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:               handler,
		ErrorHandler:          answerError,
		Name:                  "",
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		// Every answer carries Date, as Traefik's (Go's server adds it).
		// fasthttp cannot add one only where missing: it writes its own,
		// updated once a second, on every response, the server's
		// included, as the upstream response's reset already made it do.
		NoDefaultDate:                 false,
		DisableHeaderNamesNormalizing: false,
		DisablePreParseMultipartForm:  true,
		StreamRequestBody:             true,
		MaxRequestBodySize:            maxBufferedBody,
		ReadBufferSize:                buf,
		WriteBufferSize:               connWriteBuffer,
		// A worker goroutine idle for a second leaves (fasthttp: 10 s),
		// with its stack: after a burst of connections the stacks go
		// before the process trims its memory (cmd/sluice trim.go).
		MaxIdleWorkerDuration: time.Second,
		CloseOnShutdown:       true,
		Logger:                quietLogger{},
	}
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	ln = peakListener{Listener: ln, s: s}
	return s.tiers[0].Serve(&spillListener{Listener: ln, size: s.tiers[0].ReadBufferSize, srv: s, proxy: s.h.cfg.ProxyProtocol})
}

// OpenConns is the number of client connections open now, and the most
// that were open at once since the last call. Every connection starts on
// the first tier and stays counted there when it moves up.
func (s *Server) OpenConns() (open, peak int) {
	open = int(s.tiers[0].GetOpenConnectionsCount())
	return open, max(open, int(s.peak.Swap(int64(open))))
}

// Open is the number of client connections open now.
func (s *Server) Open() int { return int(s.tiers[0].GetOpenConnectionsCount()) }

// peakListener keeps the server's peak connection count as it accepts.
type peakListener struct {
	net.Listener
	s *Server
}

func (l peakListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	n := int64(l.s.tiers[0].GetOpenConnectionsCount()) + 1 // fasthttp counts c after Accept
	for p := l.s.peak.Load(); n > p && !l.s.peak.CompareAndSwap(p, n); p = l.s.peak.Load() {
	}
	return c, nil
}

// Shutdown stops the server at once.
func (s *Server) Shutdown() error { return s.ShutdownWithContext(context.Background()) }

// ShutdownWithContext stops accepting, closes idle connections and waits
// for in-flight requests until ctx ends. Connections on the upper tiers
// close after their current response; HTTP/2 connections get a GOAWAY
// and close once their open streams are answered.
func (s *Server) ShutdownWithContext(ctx context.Context) error {
	s.draining.Store(true)
	s.mu.Lock()
	for c := range s.idle {
		_ = c.Close()
	}
	s.mu.Unlock()
	h2done, tlsDone := make(chan error, 1), make(chan error, 1)
	go func() { h2done <- s.h.h2.Shutdown(ctx) }()
	go func() { tlsDone <- s.tlsTiers[0].ShutdownWithContext(ctx) }()
	err := s.tiers[0].ShutdownWithContext(ctx)
	return errors.Join(err, <-h2done, <-tlsDone)
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
	case !errors.Is(err, fasthttp.ErrUnsupportedTransferEncoding) && strings.Contains(err.Error(), "transfer-encoding"):
		// fasthttp's "unsupported transfer-encoding: %q" and "too many
		// transfer-encoding headers" (wrapped as text): Go's server
		// (Traefik's) answers a Transfer-Encoding other than one
		// "chunked" so (pipeline's badTE for what fasthttp lets by).
		// (The sentinel is fasthttp's refusal of any Transfer-Encoding
		// on HTTP/1.0, which Go ignores: that stays a 400 and a close.)
		ctx.SetStatusCode(fasthttp.StatusNotImplemented)
		ctx.SetBodyString("Unsupported transfer encoding")
	default:
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		ctx.SetBodyString("400 Bad Request")
	}
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
