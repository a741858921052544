package route

import (
	"fmt"
	"slices"
	"strings"
)

// Dump renders the table deterministically (golden tests, `sluice route`).
func (t *Table) Dump() string {
	var b strings.Builder
	for i, ep := range t.EntryPoints {
		fmt.Fprintf(&b, "entrypoint %s\n", ep)
		for _, r := range t.Routes {
			if slices.Contains(r.EntryPoints, ep) {
				fmt.Fprintf(&b, "  %s\n", strings.ReplaceAll(r.Describe(), "\n", "\n  "))
			}
		}
		ix := t.Indexes[i]
		exact, wild := ix.HostKeys()
		fmt.Fprintf(&b, "  index: %d exact hosts %q, %d wildcard suffixes %q, %d host-less candidates\n",
			len(exact), exact, len(wild), wild, ix.nGeneric)
	}
	return b.String()
}

// Describe renders one route: its rule, middlewares and service graph, or
// its child routers.
func (r *Route) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "router %s priority=%d source=%s\n  rule: %s", r.Name, r.Priority, r.Source, r.Rule)
	if len(r.Middlewares) > 0 {
		fmt.Fprintf(&b, "\n  middlewares: %s", strings.Join(r.Middlewares, ", "))
	}
	if r.Target != nil {
		fmt.Fprintf(&b, "\n  service: %s\n", r.Service)
		r.Target.Describe(&b, "    ")
	}
	if len(r.Children) > 0 {
		b.WriteString("\n  children:")
		for _, c := range r.Children {
			fmt.Fprintf(&b, "\n    %s", strings.ReplaceAll(c.Describe(), "\n", "\n    "))
		}
	}
	return b.String()
}
