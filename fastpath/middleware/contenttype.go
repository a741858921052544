package middleware

import (
	"net/http"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// ContentType is Traefik's contentType middleware (traefik v3.7
// pkg/middlewares/contenttype): Traefik never invents a Content-Type,
// but on a router with this middleware a response without one gets the
// type Go's server sniffs from its first bytes (http.DetectContentType),
// unless it is encoded, empty, of unknown length, or of a status without
// a body.
// AutoDetect false (deprecated) makes it do nothing.
type ContentType struct{ AutoDetect *bool }

// Middleware builds it.
func (c ContentType) Middleware() (pipeline.Middleware, error) {
	if c.AutoDetect != nil && !*c.AutoDetect {
		return func(next pipeline.Handler) pipeline.Handler { return next }, nil
	}
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			x.EnableContentSniffing()
			next.Serve(x)
			resp := x.Resp
			h := &resp.Header
			if len(h.ContentType()) > 0 || len(h.PeekBytes(hdrContentEncoding)) > 0 || !bodyAllowed(resp.StatusCode()) ||
				x.Out.Header.IsHead() || x.Upgrade() != nil {
				return
			}
			// A body of unknown length is not sniffed: Go's reverse proxy
			// flushes its header before any of it.
			if b := peekResponse(x, 512); len(b.head) > 0 && b.known {
				h.SetContentType(http.DetectContentType(b.head))
			}
		})
	}, nil
}
