package h2

import (
	"bufio"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Handler serves one stream: it reads s.Request and s (the body), and
// writes the response with s.WriteResponse before returning. s is valid
// until the handler returns.
type Handler func(s *Stream)

// Server serves HTTP/2 connections. Its fields are read when a
// connection starts; a Server is safe for concurrent use.
type Server struct {
	// MaxConcurrentStreams is the most streams a client may have open
	// (SETTINGS_MAX_CONCURRENT_STREAMS); 250 when 0, as Go's server.
	MaxConcurrentStreams uint32
	// MaxHeaderBytes bounds a request's header list (RFC 7541 sizes):
	// a larger one is answered 431; 1 MiB when 0.
	MaxHeaderBytes int
	// IdleTimeout closes a connection without an open stream for this
	// long; 180 s when 0.
	IdleTimeout time.Duration
	// MaxRequests and MaxAge end a connection gracefully (a GOAWAY, the
	// streams in progress finished) once it has opened MaxRequests
	// streams, or at the first stream opened MaxAge after it started:
	// Traefik's keepAliveMaxRequests and keepAliveMaxTime, which its Go
	// server turns into a GOAWAY for HTTP/2. 0: no limit.
	MaxRequests int
	MaxAge      time.Duration

	mu       sync.Mutex
	conns    map[*conn]struct{}
	draining bool
	done     chan struct{} // closed when draining and conns is empty
}

// Flow-control windows Sluice grants a client, per stream and per
// connection (Go's server grants 1 MiB each, so Traefik does).
const (
	streamWindow = 1 << 20
	connWindow   = 1 << 20
)

// ServeConn serves c, whose first bytes are the client's connection
// preface, until the connection ends. It returns when the connection's
// reader stops; handlers still running finish on their own, their writes
// failing, so c must fail every use once the caller closes it.
func (srv *Server) ServeConn(nc net.Conn, h Handler) {
	c := srv.newConn(nc, h)
	if !srv.track(c) {
		return
	}
	defer srv.untrack(c)
	c.serve()
}

func (srv *Server) newConn(nc net.Conn, h Handler) *conn {
	c := &conn{srv: srv, nc: nc, handler: h, br: bufio.NewReaderSize(nc, 4096),
		maxStreams: srv.MaxConcurrentStreams, maxHeader: srv.MaxHeaderBytes, idle: srv.IdleTimeout,
		maxRequests: srv.MaxRequests, maxAge: srv.MaxAge, born: time.Now(),
		streams: map[uint32]*Stream{}, dec: newDecoder(),
		sendWindow: defaultWindow, peerWindow: defaultWindow, recvWindow: defaultWindow}
	c.peerMaxFrame.Store(minMaxFrameSize)
	if c.maxStreams == 0 {
		c.maxStreams = 250
	}
	if c.maxHeader <= 0 {
		c.maxHeader = 1 << 20
	}
	if c.idle <= 0 {
		c.idle = 180 * time.Second
	}
	return c
}

func (srv *Server) track(c *conn) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.draining {
		return false
	}
	if srv.conns == nil {
		srv.conns = map[*conn]struct{}{}
	}
	srv.conns[c] = struct{}{}
	return true
}

func (srv *Server) untrack(c *conn) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	delete(srv.conns, c)
	if srv.draining && len(srv.conns) == 0 && srv.done != nil {
		close(srv.done)
		srv.done = nil
	}
}

// Shutdown sends every connection a GOAWAY, lets the streams in progress
// finish, and returns when every connection has ended or ctx is done.
// Connections that start afterwards are refused.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.draining = true
	if len(srv.conns) == 0 {
		srv.mu.Unlock()
		return nil
	}
	done := make(chan struct{})
	srv.done = done
	conns := make([]*conn, 0, len(srv.conns))
	for c := range srv.conns {
		conns = append(conns, c)
	}
	srv.mu.Unlock()
	for _, c := range conns {
		c.goAway(ErrNo)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range conns {
			c.stop()
		}
		return ctx.Err()
	}
}

// Open is the number of connections being served.
func (srv *Server) Open() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return len(srv.conns)
}

// pastDeadline unblocks a read or write at once.
var pastDeadline = time.Unix(1, 0)

// date is the Date field's value, formatted once a second.
type dateVal struct {
	sec int64
	b   []byte
}

var dateCache atomic.Pointer[dateVal]

func httpDate() []byte {
	now := time.Now()
	if d := dateCache.Load(); d != nil && d.sec == now.Unix() {
		return d.b
	}
	d := &dateVal{sec: now.Unix(), b: now.UTC().AppendFormat(nil, "Mon, 02 Jan 2006 15:04:05 GMT")}
	dateCache.Store(d)
	return d.b
}
