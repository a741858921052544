package compile

import (
	"sort"
	"strings"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/route"
)

// entryPointMiddlewares gives each entry point its http.middlewares:
// Middleware objects named as Traefik's static configuration names them,
// "<namespace>-<name>@kubernetescrd" (the provider may be left out). They
// serve before every router of the entry point. One that is missing or
// invalid leaves every router of the entry point unserved, as in Traefik
// (each router then fails to build), with one diagnostic naming it.
func (c *compiler) entryPointMiddlewares(b *route.Builder) {
	eps := make([]string, 0, len(c.opts.EntryPointMiddlewares))
	for ep := range c.opts.EntryPointMiddlewares {
		eps = append(eps, ep)
	}
	sort.Strings(eps)
	for _, ep := range eps {
		var mws []pipeline.Middleware
		broken := false
		for _, ref := range c.opts.EntryPointMiddlewares[ep] {
			obj := "EntryPoint " + ep
			name, provider, qualified := strings.Cut(ref, "@")
			if qualified && provider != "kubernetescrd" {
				c.errorf(obj, "http.middlewares", "middleware %q: provider %q is not one Sluice reads; the entry point's routers are not served", ref, provider)
				broken = true
				break
			}
			m := c.mwByID[name]
			if m == nil {
				c.errorf(obj, "http.middlewares", "middleware %q does not exist (a Middleware is named <namespace>-<name>@kubernetescrd); the entry point's routers are not served", ref)
				broken = true
				break
			}
			var built []pipeline.Middleware
			var e *svcErr
			c.inScope("entrypoint "+ep, func() { built, e = c.builtMiddleware("http.middlewares", m, name+"@kubernetescrd") })
			if e != nil {
				c.errorf(obj, e.field, "%s; the entry point's routers are not served", e.msg)
				broken = true
				break
			}
			mws = append(mws, built...)
		}
		b.SetEntryPointMiddlewares(ep, mws, broken)
	}
}
