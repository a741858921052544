package fastpath

import (
	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/route"
)

var bodyTooLarge = []byte("Request Entity Too Large\n")

// sendFailover sends to the failover service's main choice and, when the
// answer's status is in errors.status, replays the request on the
// fallback (crd.md 7.5). A body over maxRequestBodyBytes is refused (413)
// as in Traefik; a body Sluice streams (over 64 KiB) cannot be replayed,
// so the main answer stands.
func (h *Handler) sendFailover(ctx *fasthttp.RequestCtx, st *state, ch *route.Choice) {
	f, req := ch.Failover, &ctx.Request
	n := req.Header.ContentLength()
	if f.MaxBody >= 0 && int64(n) > f.MaxBody {
		respond(ctx, fasthttp.StatusRequestEntityTooLarge, bodyTooLarge)
		return
	}
	st.host = append(st.host[:0], req.Header.Host()...) // routing is done: st.host is free
	h.send(ctx, st, ch.Service, ch.Server)
	if !f.Retries(ctx.Response.StatusCode()) || n < 0 || n > maxBufferedBody || len(st.upgrade) > 0 {
		return
	}
	var fc route.Choice
	f.ChooseFallback(st.req.ClientIP, &req.Header, &fc)
	if fc.Server == nil {
		return
	}
	ctx.Response.Reset()
	req.Header.SetHostBytes(st.host)
	h.send(ctx, st, fc.Service, fc.Server)
	for _, c := range fc.Set[:fc.NSet] {
		setStickyCookie(&ctx.Response, c.Sticky, c.Value)
	}
}
