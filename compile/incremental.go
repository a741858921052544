package compile

import (
	"slices"
	"strings"

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
}

// keyedBinding is one endpoint binding of a Service ("ns/name").
type keyedBinding struct {
	key string
	b   *binding
}

// dep is a Service an IngressRoute's routes were built from, as seen then.
// Objects from the providers are never mutated, so pointer equality says
// "unchanged".
type dep struct {
	key    string
	svc    *model.Service
	slices []*model.EndpointSlice
	// obj: for "ts:", "st:", "secret:" and "cm:" keys the object then (nil
	// if absent); for the "nodes" key the []*model.Node then. One field
	// for both keeps a dep at 64 bytes; there is one per Service read.
	obj any
}

// note records the Service key's current objects as a dependency.
func (c *compiler) note(key string) {
	c.deps = append(c.deps, dep{key: key, svc: c.services[key], slices: c.slices[key]})
}

// noteTS records a TraefikService key's current object as a dependency.
func (c *compiler) noteTS(key string) {
	c.deps = append(c.deps, dep{key: "ts:" + key, obj: c.traefikServices[key]})
}

// noteObj records a ServersTransport ("st:"), Secret ("secret:") or
// ConfigMap ("cm:") read.
func (c *compiler) noteObj(key string) {
	c.deps = append(c.deps, dep{key: key, obj: c.lookupObj(key)})
}

// lookupObj finds a "ts:", "st:" or "secret:" key's object, as an
// interface holding a typed nil when absent.
func (c *compiler) lookupObj(key string) any {
	kind, k, _ := strings.Cut(key, ":")
	switch kind {
	case "ts":
		return c.traefikServices[k]
	case "st":
		return c.transports[k]
	case "cm":
		return c.configMaps[k]
	}
	return c.secrets[k]
}

// noteNodes records the Node set as a dependency (nodePortLB).
func (c *compiler) noteNodes() {
	c.deps = append(c.deps, dep{key: "nodes", obj: c.snap.Nodes})
}

func (d dep) current(c *compiler) bool {
	if d.key == "nodes" {
		nodes, _ := d.obj.([]*model.Node)
		return sameSet(nodes, c.snap.Nodes)
	}
	if strings.Contains(d.key, ":") {
		return c.lookupObj(d.key) == d.obj
	}
	if c.services[d.key] != d.svc {
		return false
	}
	return sameSet(d.slices, c.slices[d.key])
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
	c.diags, c.refs, c.bindings, c.deps = nil, c.oneRefs, c.oneBindings, nil
	c.file = ir.File
	res := &irResult{routes: c.ingressRoute(ir)}
	res.diags, res.deps = c.diags, c.deps
	for k := range c.refs {
		res.refs = append(res.refs, k)
	}
	for k, bs := range c.bindings {
		for _, b := range bs {
			res.bindings = append(res.bindings, keyedBinding{k, b})
		}
	}
	c.diags, c.refs, c.bindings, c.deps = outer.diags, outer.refs, outer.bindings, nil
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
