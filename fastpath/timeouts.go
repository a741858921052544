package fastpath

import (
	"math"
	"time"

	"github.com/valyala/fasthttp"
)

// Timeouts are an entry point's limits on a client connection, Traefik's
// transport.respondingTimeouts, transport.keepAliveMax* and
// http2.maxConcurrentStreams. A zero duration or count is no limit.
type Timeouts struct {
	// Read bounds reading a request, header and body, from its first
	// byte (from the accept for a connection's first request): a client
	// sending its header a byte at a time (slowloris) is cut here. As in
	// Go's server, a request body read past it fails.
	Read time.Duration
	// Write bounds each write of an answer to the client: a client that
	// stops reading (slow read) is cut when a write cannot finish in it.
	Write time.Duration
	// Idle closes a keep-alive connection waiting this long for its next
	// request (HTTP/2: without an open stream).
	Idle time.Duration
	// KeepAliveMaxRequests closes a connection after this many requests;
	// KeepAliveMaxTime after the first answer once the connection is this
	// old (both with Connection: close on that answer, as Traefik; over
	// HTTP/2 a GOAWAY once that stream arrives, the streams open served).
	KeepAliveMaxRequests int
	KeepAliveMaxTime     time.Duration
	// MaxConcurrentStreams is HTTP/2's SETTINGS_MAX_CONCURRENT_STREAMS.
	MaxConcurrentStreams int
}

// DefaultTimeouts are Traefik v3's: read 60 s, write none, idle 180 s,
// 250 HTTP/2 streams.
func DefaultTimeouts() Timeouts {
	return Timeouts{Read: 60 * time.Second, Idle: 180 * time.Second, MaxConcurrentStreams: 250}
}

// timeouts is cfg's, or the defaults.
func (c Config) timeouts() Timeouts {
	if c.Timeouts != nil {
		return *c.Timeouts
	}
	return DefaultTimeouts()
}

// applyTimeouts sets a fasthttp server's limits. An idle timeout of 0
// must not fall back to the read timeout (fasthttp's rule): it is a long
// one instead.
func applyTimeouts(fs *fasthttp.Server, t Timeouts) {
	fs.ReadTimeout, fs.WriteTimeout, fs.IdleTimeout = t.Read, t.Write, t.Idle
	if t.Idle == 0 {
		fs.IdleTimeout = noTimeout
	}
	fs.MaxRequestsPerConn = t.KeepAliveMaxRequests
}

// noTimeout stands for "none" where a zero means a default.
const noTimeout = time.Duration(math.MaxInt64)

// keepAliveExpired reports a connection older than KeepAliveMaxTime,
// whose answer now closes it.
func (h *Handler) keepAliveExpired(ctx *fasthttp.RequestCtx) bool {
	return h.keepAliveMax > 0 && time.Since(ctx.ConnTime()) >= h.keepAliveMax
}
