package compile

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/middleware"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// middlewareChain resolves the middleware references of a route or service
// (field f, made from namespace ns) and builds each, in order. A missing
// or invalid one disables the route, as in Traefik, with the reason. A
// chain middleware contributes the middlewares it names, in its place.
func (c *compiler) middlewareChain(f, ns string, refs []model.MiddlewareRef) ([]pipeline.Middleware, []string, *svcErr) {
	var mws []pipeline.Middleware
	var names []string
	for i, ref := range refs {
		mf := fmt.Sprintf("%s.middlewares[%d]", f, i)
		m, name, e := c.middleware(mf, ns, ref)
		if e != nil {
			return nil, nil, e
		}
		built, e := c.builtMiddleware(mf, m, name)
		if e != nil {
			return nil, nil, e
		}
		mws, names = append(mws, built...), append(names, name)
	}
	return mws, names, nil
}

// builtMW is a Middleware object as built for one table: its handlers
// (several for a chain), or why it cannot serve.
type builtMW struct {
	mws      []pipeline.Middleware
	err      string
	building bool // a chain naming itself, directly or not, finds this set
}

// builtMiddleware builds a Middleware object once per table (a Middleware
// used by many routes is validated and compiled once).
func (c *compiler) builtMiddleware(f string, m *model.Middleware, name string) ([]pipeline.Middleware, *svcErr) {
	if c.mwBuilt == nil {
		c.mwBuilt = map[builtKey]*builtMW{}
	}
	key := c.builtKeyOf(m)
	b := c.mwBuilt[key]
	switch {
	case b != nil && b.building:
		return nil, &svcErr{f, fmt.Sprintf("middleware %s (%s/%s): recursion detected in chain", name, m.Meta.Namespace, m.Meta.Name)}
	case b == nil:
		b = &builtMW{building: true}
		c.mwBuilt[key] = b
		var err error
		b.mws, err = c.buildMiddleware(m)
		b.building = false
		if c.opts.TraceMiddlewares && err == nil {
			if typ := traceTypes[firstKind(m)]; typ != "" {
				for i, mw := range b.mws {
					b.mws[i] = middleware.Traced(name, typ, mw)
				}
			}
		}
		if err != nil {
			b.err = fmt.Sprintf("middleware %s (%s/%s): %v", name, m.Meta.Namespace, m.Meta.Name, err)
		}
	}
	if b.err != "" {
		return nil, &svcErr{f, b.err}
	}
	return b.mws, nil
}

// buildMiddleware builds one Middleware object's handlers from its one kind.
func (c *compiler) buildMiddleware(m *model.Middleware) ([]pipeline.Middleware, error) {
	kinds := middlewareKinds(&m.Spec)
	switch len(kinds) {
	case 0:
		return nil, fmt.Errorf("no kind (addPrefix, headers, ...)")
	case 1:
	default: // Traefik's words
		return nil, fmt.Errorf("multi-types middleware not supported (%s), consider declaring two different pieces of middleware instead", strings.Join(kinds, ", "))
	}
	if ch := m.Spec.Chain; ch != nil {
		return c.chain(m, ch)
	}
	b := kindBuilders[kinds[0]]
	if b == nil {
		return nil, fmt.Errorf("kind %s is not yet supported by Sluice (the route is not served without it)", kinds[0])
	}
	mw, err := b(c, m)
	if err != nil {
		return nil, err
	}
	return []pipeline.Middleware{mw}, nil
}

// chain builds a chain middleware: the middlewares it names, resolved in
// its own namespace, in order.
func (c *compiler) chain(m *model.Middleware, ch *model.Chain) ([]pipeline.Middleware, error) {
	mws, _, e := c.middlewareChain("spec.chain", m.Meta.Namespace, ch.Middlewares)
	if e != nil {
		return nil, fmt.Errorf("%s: %s", e.field, e.msg)
	}
	return mws, nil
}

// middlewareKinds lists the kinds a spec sets, by their JSON names.
func middlewareKinds(spec *model.MiddlewareSpec) []string {
	var kinds []string
	v := reflect.ValueOf(spec).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if f := v.Field(i); !f.IsZero() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			kinds = append(kinds, name)
		}
	}
	return kinds
}

// traceTypes are the span names of the kinds Traefik traces (their
// GetTracingInformation type names); the others get no span.
var traceTypes = map[string]string{
	"addPrefix": "AddPrefix", "stripPrefix": "StripPrefix", "stripPrefixRegex": "StripPrefixRegex",
	"replacePath": "ReplacePath", "replacePathRegex": "ReplacePathRegex", "redirectScheme": "Redirect",
	"redirectRegex": "Redirect", "headers": "Headers", "basicAuth": "BasicAuth", "digestAuth": "digestAuth",
	"forwardAuth": "ForwardAuth", "ipAllowList": "IPAllowLister", "ipWhiteList": "IPWhiteLister",
	"rateLimit": "RateLimiter", "inFlightReq": "InFlightReq", "circuitBreaker": "CircuitBreaker",
	"buffering": "Buffer", "compress": "Compress", "errors": "CustomError", "passTLSClientCert": "PassClientTLSCert",
	"encodedCharacters": "EncodedCharacters",
}

// firstKind is a Middleware's kind ("" if it has none).
func firstKind(m *model.Middleware) string {
	if k := middlewareKinds(&m.Spec); len(k) > 0 {
		return k[0]
	}
	return ""
}
