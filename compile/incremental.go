package compile

import (
	"slices"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// irResult is what compiling one IngressRoute produced, and what it read.
type irResult struct {
	routes   []compiledRoute
	diags    []model.Diagnostic
	refs     []string
	bindings []keyedBinding // a slice, not a map per IngressRoute (PERF.md, 100k hosts)
	deps     []dep
	states   []stateEntry // stateful middlewares' states its routes hold
}

// keyedBinding is one endpoint binding of a Service ("ns/name").
type keyedBinding struct {
	key string
	b   *binding
}

// depKind is the kind of object a dependency is on. Every kind a compile
// reads by name has one, and lookup resolves each: a kind added without
// its lookup is never taken as unchanged (see lookup).
type depKind uint8

const (
	depService          depKind = iota // a Service and its EndpointSlices
	depTraefikService                  // obj: *model.TraefikService
	depServersTransport                // obj: *model.ServersTransport
	depSecret                          // obj: *model.Secret
	depConfigMap                       // obj: *model.ConfigMap
	depMiddleware                      // obj: *model.Middleware
	depIngressRoute                    // obj: *model.IngressRoute (a parent, multi-layer routing)
	// By Traefik id (Normalize(namespace-name)), for "<id>@kubernetescrd".
	depTraefikServiceID   // obj: *model.TraefikService
	depServersTransportID // obj: *model.ServersTransport
	depMiddlewareID       // obj: *model.Middleware
	depNodes              // obj: []*model.Node, the whole set
)

// dep is an object an IngressRoute's routes were built from, as seen
// then. Objects from the providers are never mutated, so pointer equality
// says "unchanged".
type dep struct {
	kind   depKind
	key    string // namespace/name ("" for depNodes)
	svc    *model.Service
	slices []*model.EndpointSlice
	// obj: the object then (a typed nil if absent), for every kind but
	// depService; one field for all keeps a dep at 72 bytes, and there is
	// one per object read.
	obj any
}

// note records the Service key's current objects as a dependency.
func (c *compiler) note(key string) {
	c.deps = append(c.deps, dep{kind: depService, key: key, svc: c.services[key], slices: c.slices[key]})
}

// noteObj records the current object of kind at key (namespace/name).
func (c *compiler) noteObj(kind depKind, key string) {
	c.deps = append(c.deps, dep{kind: kind, key: key, obj: c.lookup(kind, key)})
}

// stale is what lookup gives for a kind it does not know: a value equal to
// nothing, so that the IngressRoute is compiled again rather than reused.
type stale struct{ _ [0]func() }

// lookup finds the current object of kind at key, as an interface holding
// a typed nil when absent.
func (c *compiler) lookup(kind depKind, key string) any {
	switch kind {
	case depTraefikService:
		return c.traefikServices[key]
	case depServersTransport:
		return c.transports[key]
	case depSecret:
		return c.secrets[key]
	case depConfigMap:
		return c.configMaps[key]
	case depMiddleware:
		return c.middlewares[key]
	case depIngressRoute:
		return c.ingressRoutes[key]
	case depTraefikServiceID:
		return c.tsByID[key]
	case depServersTransportID:
		return c.stByID[key]
	case depMiddlewareID:
		return c.mwByID[key]
	}
	return &stale{}
}

// noteNodes records the Node set as a dependency (nodePortLB).
func (c *compiler) noteNodes() {
	c.deps = append(c.deps, dep{kind: depNodes, obj: c.snap.Nodes})
}

func (d dep) current(c *compiler) bool {
	switch d.kind {
	case depNodes:
		nodes, _ := d.obj.([]*model.Node)
		return sameSet(nodes, c.snap.Nodes)
	case depService:
		return c.services[d.key] == d.svc && sameSet(d.slices, c.slices[d.key])
	}
	return c.lookup(d.kind, d.key) == d.obj
}

// sameSet: the same objects, in any order.
func sameSet[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) <= 32 {
		for _, x := range a {
			if !slices.Contains(b, x) {
				return false
			}
		}
		return true
	}
	in := make(map[T]bool, len(b))
	for _, x := range b {
		in[x] = true
	}
	for _, x := range a {
		if !in[x] {
			return false
		}
	}
	return true
}

// ingressRoute returns the routes of ir: the previous Build's when ir and
// every Service it read are unchanged, else freshly compiled. Either way
// the diagnostics, references and endpoint bindings join c's.
func (cc *Compiler) ingressRoute(c *compiler, ir *model.IngressRoute) *irResult {
	res := cc.cache[ir]
	if res == nil || !res.current(c) {
		res = compileOne(c, ir)
	}
	c.diags = append(c.diags, res.diags...)
	for _, k := range res.refs {
		c.refs[k] = true
	}
	for _, kb := range res.bindings {
		c.bindings[kb.key] = append(c.bindings[kb.key], kb.b)
	}
	for _, e := range res.states {
		c.states[e.key] = e.state
	}
	return res
}

func (r *irResult) current(c *compiler) bool {
	for _, d := range r.deps {
		if !d.current(c) {
			return false
		}
	}
	return true
}

// compileOne compiles ir alone, capturing what it adds to c.
func compileOne(c *compiler, ir *model.IngressRoute) *irResult {
	outer := struct {
		diags    []model.Diagnostic
		refs     map[string]bool
		bindings map[string][]*binding
	}{c.diags, c.refs, c.bindings}
	if c.oneRefs == nil {
		c.oneRefs, c.oneBindings = map[string]bool{}, map[string][]*binding{}
	}
	clear(c.oneRefs) // reused: one pair of maps per IngressRoute was most of a compile's garbage
	clear(c.oneBindings)
	c.diags, c.refs, c.bindings, c.deps, c.irStates = nil, c.oneRefs, c.oneBindings, nil, nil
	c.file = ir.File
	res := &irResult{routes: c.ingressRoute(ir)}
	res.diags, res.deps, res.states = c.diags, c.deps, c.irStates
	for k := range c.refs {
		res.refs = append(res.refs, k)
	}
	for k, bs := range c.bindings {
		for _, b := range bs {
			res.bindings = append(res.bindings, keyedBinding{k, b})
		}
	}
	c.diags, c.refs, c.bindings, c.deps, c.irStates = outer.diags, outer.refs, outer.bindings, nil, nil
	return res
}

// take returns the route and entries to add to a new table. Builder.Add
// and Build write into them, so a route already in a table (which may
// still be serving) is copied; a fresh one is handed over as it is. The
// cache then follows the new table's objects, so one copy of each route
// is kept between compiles, not two. Copying a built route is sound:
// Build sets every field it writes again (rank, balancer, entries, their
// checks).
func (cr *compiledRoute) take() (*route.Route, []route.Entry) {
	if !cr.built {
		cr.built = true
		return cr.r, cr.entries
	}
	r := *cr.r
	es := append([]route.Entry(nil), cr.entries...)
	cr.r, cr.entries = &r, es
	return &r, es
}

// keepEndpoints marks every endpoint the table uses as in use, so the
// registry's next Prune keeps the pools of reused routes' servers.
func keepEndpoints(t *route.Table, reg *upstream.Registry) {
	for _, r := range t.Routes {
		if r.Target == nil {
			continue
		}
		r.Target.EachLoadBalancer(func(lb *service.LoadBalancer) {
			for _, s := range lb.Servers().Servers {
				reg.Keep(s.Endpoint, s.Health, s.Passive)
			}
		})
	}
}
