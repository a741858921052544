package fastpath

import (
	"bytes"
	"sync/atomic"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// Health is what an entry point's /ping and /ready report.
//
// /ping is Traefik's: any request whose path starts with /ping gets 200
// "OK", or TerminatingStatus once shutdown has begun. It is liveness only.
// /ready (Sluice's; Traefik's ping is ready too early, users.md) answers
// 200 only once the first full routing table is published, and
// TerminatingStatus again from shutdown on.
type Health struct {
	TerminatingStatus int // Traefik's ping.terminatingStatusCode (default 503)
	ready             atomic.Bool
	terminating       atomic.Bool
}

// SetReady marks the first table published.
func (h *Health) SetReady() { h.ready.Store(true) }

// SetTerminating marks shutdown begun.
func (h *Health) SetTerminating() { h.terminating.Store(true) }

// Ready reports /ready's state.
func (h *Health) Ready() bool { return h.ready.Load() && !h.terminating.Load() }

// serveHealth answers /ping and /ready; it returns false for other paths.
func (h *Health) serveHealth(ctx *fasthttp.RequestCtx) bool {
	p := ctx.Request.URI().PathOriginal()
	switch {
	case bytes.HasPrefix(p, []byte("/ping")):
		code := fasthttp.StatusOK
		if h.terminating.Load() {
			code = h.terminatingStatus()
		}
		healthReply(ctx, code)
	case bytes.Equal(p, []byte("/ready")):
		code := fasthttp.StatusOK
		if !h.Ready() {
			code = fasthttp.StatusServiceUnavailable
			if h.terminating.Load() {
				code = h.terminatingStatus()
			}
		}
		healthReply(ctx, code)
	default:
		return false
	}
	return true
}

func (h *Health) terminatingStatus() int {
	if h.TerminatingStatus == 0 {
		return fasthttp.StatusServiceUnavailable
	}
	return h.TerminatingStatus
}

// healthReply writes the status text as the body, as Traefik's ping does
// (no Content-Type: it writes the status first, so Go sniffs none).
func healthReply(ctx *fasthttp.RequestCtx, code int) {
	ctx.Response.SetStatusCode(code)
	ctx.Response.Header.SetNoDefaultContentType(true)
	ctx.Response.SetBodyString(fasthttp.StatusMessage(code))
}

// Ping is Traefik's ping@internal service: any request gets 200 "OK", or
// the terminating status once shutdown has begun (as /ping).
func (h *Health) Ping() pipeline.Handler {
	return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
		code := fasthttp.StatusOK
		if h.terminating.Load() {
			code = h.terminatingStatus()
		}
		x.Resp.SetStatusCode(code)
		x.Resp.Header.SetNoDefaultContentType(true)
		x.Resp.SetBodyString(fasthttp.StatusMessage(code))
	})
}
