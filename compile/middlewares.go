package compile

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// middlewareChain resolves the middleware references of a route or service
// (field f, made from namespace ns) and builds each, in order. A missing
// or invalid one disables the route, as in Traefik, with the reason.
func (c *compiler) middlewareChain(f, ns string, refs []model.MiddlewareRef) ([]pipeline.Middleware, []string, *svcErr) {
	var mws []pipeline.Middleware
	var names []string
	for i, ref := range refs {
		mf := fmt.Sprintf("%s.middlewares[%d]", f, i)
		m, name, e := c.middleware(mf, ns, ref)
		if e != nil {
			return nil, nil, e
		}
		mw, e := c.buildMiddleware(mf, m, name)
		if e != nil {
			return nil, nil, e
		}
		mws, names = append(mws, mw), append(names, name)
	}
	return mws, names, nil
}

// buildMiddleware builds one Middleware object's handler, once per table.
// No kind is served yet: each is reported by name and kind, and its route
// is disabled rather than served without it.
func (c *compiler) buildMiddleware(f string, m *model.Middleware, name string) (pipeline.Middleware, *svcErr) {
	kinds := middlewareKinds(&m.Spec)
	switch len(kinds) {
	case 0:
		return nil, &svcErr{f, fmt.Sprintf("middleware %s (%s/%s) has no kind (addPrefix, headers, ...)", name, m.Meta.Namespace, m.Meta.Name)}
	case 1:
	default: // Traefik's words
		return nil, &svcErr{f, fmt.Sprintf("middleware %s (%s/%s): multi-types middleware not supported (%s), consider declaring two different pieces of middleware instead",
			name, m.Meta.Namespace, m.Meta.Name, strings.Join(kinds, ", "))}
	}
	return nil, &svcErr{f, fmt.Sprintf("middleware %s (%s/%s): kind %s is not yet supported by Sluice (the route is not served without it)",
		name, m.Meta.Namespace, m.Meta.Name, kinds[0])}
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
