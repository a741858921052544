package fastpath

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/h2"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/tlsconf"
)

// TLS on an entry point, as Traefik's entry points serve it: every
// connection's first byte tells a TLS ClientHello (a handshake record,
// 0x16) from HTTP, on every entry point; a TLS connection is handshaken
// with the TLS option and certificate the current table's TLS state
// chooses for its server name (tlsconf), then served by the same
// pipeline as plain requests: ALPN h2 by the HTTP/2 server, anything else
// by fasthttp tiers of its own, with the TLS routers' index. Plain
// connections pay one byte comparison on their first read for it.
//
// The sniffing happens inside the first read fasthttp makes of a new
// connection (spillConn.Read): a ClientHello is served to its end right
// there, on the goroutine fasthttp gave the connection, and fasthttp then
// reads the end of the stream and closes it. No goroutine or buffer is
// added to plain connections.

// recordTypeHandshake is the first byte of a TLS ClientHello's record.
const recordTypeHandshake = 0x16

// DefaultHandshakeTimeout bounds a TLS handshake, from the ClientHello's
// first byte to the client's Finished: a client that stalls is closed.
const DefaultHandshakeTimeout = 10 * time.Second

// tlsConn is a client connection after its handshake, with what the
// handshake decided. closed is closed with it: fasthttp closes a
// connection it served when ServeConn returns, and a hijacked one (a
// WebSocket) only when its hijack handler returns, later.
type tlsConn struct {
	*tls.Conn
	info   *pipeline.ConnTLS
	once   sync.Once
	closed chan struct{}
}

func (c *tlsConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// errNoTLSConfig closes a handshake whose server name maps to a broken
// TLS option, or on an entry point without TLS state.
var errNoTLSConfig = errors.New("no TLS configuration for this server name")

// serveTLS handshakes a connection whose first bytes are a ClientHello
// (raw replays them) and serves it until it ends.
func (s *Server) serveTLS(raw net.Conn) {
	h := s.h
	info := &pipeline.ConnTLS{}
	cfg := &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c, o := h.table.Load().TLS.ConfigFor(h.ep.Index, hello)
		if c == nil {
			return nil, errNoTLSConfig
		}
		info.Option, info.ServerName = o.Name, hello.ServerName
		return c, nil
	}}
	tc := tls.Server(raw, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.handshakeTimeout())
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		h.log.Debug("TLS handshake failed", "entryPoint", h.cfg.EntryPoint, "remote", raw.RemoteAddr().String(), "error", err)
		_ = raw.Close()
		return
	}
	// The first request's read deadline, set before the ClientHello was
	// read, is not the TLS connection's: its server sets its own.
	_ = raw.SetDeadline(time.Time{})
	info.State = tc.ConnectionState()
	conn := &tlsConn{Conn: tc, info: info, closed: make(chan struct{})}
	switch info.State.NegotiatedProtocol {
	case "h2":
		peer := addrPort(raw.RemoteAddr())
		h.h2.ServeConn(conn, func(st *h2.Stream) { h.serveStream(st, peer, info) })
	case tlsconf.ACMEProtocol:
		// A TLS-ALPN-01 validation: nothing to serve (ACME comes later).
	default:
		_ = s.tlsTiers[0].ServeConn(&spillConn{Conn: conn, size: s.tlsTiers[0].ReadBufferSize, tls: info})
		<-conn.closed // a hijacked connection lives on until its handler ends
	}
	_ = conn.Close()
}

func (c Config) handshakeTimeout() time.Duration {
	if c.HandshakeTimeout > 0 {
		return c.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

// tlsOf returns the TLS state of a client connection, or nil.
func tlsOf(c net.Conn) *pipeline.ConnTLS {
	for {
		switch w := c.(type) {
		case *spillConn:
			if w.tls != nil {
				return w.tls
			}
			c = w.Conn
		case *prefacedConn:
			c = w.Conn
		case lingerConn:
			c = w.Conn
		case *tlsConn:
			return w.info
		default:
			return nil
		}
	}
}
