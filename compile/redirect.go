package compile

import (
	"github.com/sluiceproxy/sluice/compile/rule"
	"github.com/sluiceproxy/sluice/fastpath/middleware"
	"github.com/sluiceproxy/sluice/fastpath/obs"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
)

// Redirection is an entry point's http.redirections.entryPoint: Traefik
// adds a router on the entry point that matches every request with a
// host (HostRegexp(`^.+$`)) and redirects it to Scheme and Port, the
// port of the entry point To (pkg/provider/traefik internal.go).
type Redirection struct {
	EntryPoint string
	To         string // the target entry point's name, or ":port"
	Scheme     string // default https
	Port       string
	Permanent  bool  // default true
	Priority   int64 // default MaxInt-1
}

// redirectRule is the generated router's rule.
const redirectRule = "HostRegexp(`^.+$`)"

// redirections adds the redirection routers to b, as Traefik's internal
// provider makes them: named "<entrypoint>-to-<to>@internal", their
// middleware "redirect-<name>@internal", their service noop@internal.
func (c *compiler) redirections(b *route.Builder) {
	tree, err := rule.Parse(redirectRule)
	if err != nil {
		panic(err)
	}
	for _, rd := range c.opts.Redirections {
		name := Normalize(rd.EntryPoint + "-to-" + rd.To)
		mw, err := middleware.RedirectScheme{Scheme: rd.Scheme, Port: rd.Port, Permanent: rd.Permanent}.Middleware()
		if err != nil {
			c.errorf("EntryPoint "+rd.EntryPoint, "http.redirections.entryPoint", "%v; no redirection", err)
			continue
		}
		r := &route.Route{
			Name: name + "@internal", Rule: redirectRule, Priority: rd.Priority, EntryPoints: []string{rd.EntryPoint},
			Source: "entry point " + rd.EntryPoint + " http.redirections", Service: "noop@internal",
			Middlewares: []string{"redirect-" + name + "@internal"},
			Target:      service.Noop, Handler: pipeline.Chain(service.Noop, mw),
		}
		if !c.opts.Metrics.AddInternals() {
			r.Metrics = obs.Off // a router to an @internal service (Traefik's shouldMeter)
		}
		if !c.opts.AccessLogInternals {
			r.AccessLogs = obs.Off // and shouldAccessLog
		}
		if !c.opts.TracingInternals {
			r.Tracing = obs.Off // and shouldTrace
		}
		b.Add(r, Entries(tree))
	}
}
