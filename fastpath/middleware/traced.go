package middleware

import (
	"time"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// Traced wraps mw so that, for a request whose router traces in detail
// (observability.traceVerbosity: detailed), its handler runs inside a
// span named typ with traefik.middleware.name set to name, as Traefik's
// WrapMiddleware does; the span covers what the middleware calls next.
// Other requests pay a nil check.
func Traced(name, typ string, mw pipeline.Middleware) pipeline.Middleware {
	return func(next pipeline.Handler) pipeline.Handler {
		inner := mw(next)
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			r := x.Trace
			if r == nil || !r.Detailed() {
				inner.Serve(x)
				return
			}
			i := r.MiddlewareStart(name, typ, time.Now())
			inner.Serve(x)
			r.MiddlewareEnd(i, time.Now())
		})
	}
}
