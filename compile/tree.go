package compile

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/route"
)

// Multi-layer routing (Traefik v3.6+, IngressRoute spec.parentRefs): an
// IngressRoute's routers can be children of the routers of another, its
// parent. A parent router has no service; its requests pass its
// middlewares and are then routed among its children, on the request as
// the middlewares left it. The rules are Traefik's (traefik v3.7
// pkg/server/router/router.go ParseRouterTree, buildChildRoutersMuxer;
// pkg/provider/kubernetes/crd kubernetes_http.go resolveParentRouterNames).

// placed is a compiled route as this table holds it: its (possibly
// copied) route and entries, and what it was compiled from.
type placed struct {
	r       *route.Route
	entries []route.Entry
	cr      *compiledRoute
	file    string

	children []*placed // routers whose parent it is (ChildRefs)
	err      bool      // disabled by a tree rule
	built    int8      // 0 not yet, 1 serves, -1 cannot (see build)
}

// parentRouters names the routers of ir's parent IngressRoutes: every
// route of each parent is a parent router. The error, if any, skips ir.
func (c *compiler) parentRouters(ir *model.IngressRoute) ([]string, string) {
	var names []string
	for _, ref := range ir.Spec.ParentRefs {
		ns := nsOr(ref.Namespace, ir.Meta.Namespace)
		if ns != ir.Meta.Namespace && !c.opts.AllowCrossNamespace {
			return nil, fmt.Sprintf("cross-namespace reference to parent IngressRoute %s/%s not allowed", ns, ref.Name)
		}
		key := ns + "/" + ref.Name
		c.noteObj(depIngressRoute, key)
		parent := c.ingressRoutes[key]
		if parent == nil {
			return nil, fmt.Sprintf("parent IngressRoute %s/%s does not exist", ns, ref.Name)
		}
		for _, rt := range parent.Spec.Routes {
			names = append(names, RouterKey(parent.Meta.Namespace, irName(parent), rt.Match)+Provider)
		}
	}
	return names, ""
}

// routerTree applies the tree's rules to the table's routes, reports what
// they disable, and adds what serves to b: roots on their entry points,
// children on none, under their parents.
func (c *compiler) routerTree(b *route.Builder, all []*placed) {
	byName := make(map[string]*placed, len(all))
	for _, p := range all {
		byName[p.r.Name] = p
		p.r.Children = nil // a reused route's, from the table before
	}
	var roots []*placed
	for _, p := range all {
		if p.cr.parents == nil {
			roots = append(roots, p)
			continue
		}
		for _, name := range p.cr.parents {
			if parent := byName[name]; parent == nil {
				c.treeError(p, "parent router %q does not exist", name)
			} else if !slices.Contains(parent.children, p) {
				parent.children = append(parent.children, p)
			}
		}
		if p.cr.nonRoot != "" {
			c.treeError(p, "non-root router cannot have %s configuration", p.cr.nonRoot)
		}
	}
	sort.Slice(roots, func(i, j int) bool { return roots[i].r.Name < roots[j].r.Name })
	visited := map[*placed]bool{}
	for _, r := range roots {
		c.traverse(r, visited, nil)
	}
	for _, p := range all {
		switch {
		case p.err:
		case !visited[p]:
			c.treeError(p, "router is not reachable")
		case !p.cr.hasService && len(p.children) == 0:
			c.treeError(p, "router has no service and no child routers")
		case p.cr.hasService && len(p.children) > 0:
			c.treeError(p, "router has both a service and is referenced as a parent by other routers")
		}
	}
	for _, r := range roots {
		if !r.err && c.build(r) {
			b.Add(r.r, r.entries)
		}
	}
	for _, p := range all {
		if p.cr.parents != nil && p.built == 1 {
			b.Add(p.r, p.entries)
		}
		if p.built == 1 && len(p.r.Children) > 0 {
			b.SetChildren(p.r, p.r.Children)
		}
	}
}

// traverse walks the tree depth first from a root, children in name
// order, marking what it reaches; a child already on the path is a cycle:
// the link to it is dropped from the router that closes it, with a
// warning (Traefik's handleCycle).
func (c *compiler) traverse(p *placed, visited map[*placed]bool, path []*placed) {
	if visited[p] {
		return
	}
	visited[p] = true
	path = append(path, p)
	sort.Slice(p.children, func(i, j int) bool { return p.children[i].r.Name < p.children[j].r.Name })
	for i := 0; i < len(p.children); i++ {
		child := p.children[i]
		if at := slices.Index(path, child); at >= 0 {
			var names []string
			for _, q := range append(path[at:], child) {
				names = append(names, q.r.Name)
			}
			c.file = p.file
			c.warn(objOf(p), "spec.parentRefs", "router %s: cyclic reference detected in router tree: %s", p.r.Name, strings.Join(names, " -> "))
			p.children = slices.Delete(p.children, i, i+1)
			i--
			continue
		}
		c.traverse(child, visited, path)
	}
}

// build readies a router to serve: a parent routes among the children
// that can (those with errors are skipped; none left is an error, as
// Traefik's "no child routers could be added to muxer").
func (c *compiler) build(p *placed) bool {
	if p.built != 0 {
		return p.built == 1
	}
	p.built = -1 // a cycle cannot reach here twice: traverse cut them
	if len(p.children) == 0 {
		p.built = 1
		return true
	}
	var kids []*route.Route
	for _, k := range p.children {
		if !k.err && c.build(k) {
			kids = append(kids, k.r)
		}
	}
	if len(kids) == 0 {
		c.treeError(p, "no child routers could be added to muxer (%d skipped)", len(p.children))
		return false
	}
	p.r.Handler = pipeline.Chain(route.ChildRouter(p.r), p.cr.mws...)
	p.r.Children = kids // routerTree has the builder index them
	p.built = 1
	return true
}

// treeError disables p with a diagnostic naming its router.
func (c *compiler) treeError(p *placed, format string, a ...any) {
	if !p.err {
		c.disable(p.r, p.entries, fieldOf(p)+": "+fmt.Sprintf(format, a...))
	}
	p.err = true
	c.file = p.file
	c.errorf(objOf(p), fieldOf(p), "router %s: %s; router disabled", p.r.Name, fmt.Sprintf(format, a...))
}

// objOf and fieldOf name p's IngressRoute and route for diagnostics.
func objOf(p *placed) string {
	ns, name, _ := strings.Cut(p.r.Source[:strings.IndexByte(p.r.Source, '#')], "/")
	return objName("IngressRoute", ns, name)
}

func fieldOf(p *placed) string { return p.r.Source[strings.IndexByte(p.r.Source, '#')+1:] }
