package fastpath

import (
	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/route"
)

// mirror sends a copy of the request to each mirror the choice picked,
// without waiting: the main request is never slowed. Copies are dropped
// when too many are in flight, when the body is streamed (over 64 KiB;
// Sluice does not hold it to copy it) or larger than maxBodySize, and when
// a mirror's server speaks h2c. Answers are read and discarded.
func (h *Handler) mirror(ctx *fasthttp.RequestCtx, st *state, ch *route.Choice) {
	req := &ctx.Request
	n := req.Header.ContentLength()
	if n < 0 || n > maxBufferedBody {
		return // chunked or streamed: not held in memory, so not copied
	}
	body := req.Body() // read in full by the server already at this size
	for _, p := range ch.Mirrors[:ch.NMirrors] {
		if p.M.MirrorBody && p.M.MaxBodySize >= 0 && int64(len(body)) > p.M.MaxBodySize {
			continue
		}
		svc, srv := p.Server(st.req.ClientIP)
		if srv == nil || srv.Endpoint.Scheme == "h2c" {
			continue
		}
		select {
		case h.mirrors <- struct{}{}:
		default:
			continue // too many mirror copies in flight
		}
		m := fasthttp.AcquireRequest()
		req.CopyTo(m)
		if !p.M.MirrorBody {
			m.ResetBody()
		}
		m.SetRequestURIBytes(st.fwd)
		m.UseHostHeader = true
		if srv.Endpoint.Client.IsTLS {
			m.URI().SetSchemeBytes(schemeHTTPS)
		}
		if !svc.PassHostHeader {
			m.Header.SetHost(srv.Endpoint.Addr)
		}
		go func() {
			resp := fasthttp.AcquireResponse()
			_ = srv.Endpoint.Client.Do(m, resp)
			fasthttp.ReleaseResponse(resp)
			fasthttp.ReleaseRequest(m)
			<-h.mirrors
		}()
	}
}
