package route

import (
	"fmt"
	"maps"
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
		dumpIndex(&b, "index", t.Indexes[i])
		if ix := t.TLSIndex(i); ix != nil && (ix.nGeneric > 0 || len(ix.exact.tries) > 0 || len(ix.wild.tries) > 0) {
			dumpIndex(&b, "TLS index", ix)
		}
		if t.TLS != nil && i < len(t.TLS.EntryPoints) {
			hosts := t.TLS.EntryPoints[i].Hosts()
			names := slices.Sorted(maps.Keys(hosts))
			for _, h := range names {
				opt := "closed (broken TLS option)"
				if o := hosts[h]; o != nil {
					opt = "option " + o.Name
				}
				fmt.Fprintf(&b, "  TLS host %s: %s\n", h, opt)
			}
		}
	}
	if t.TLS != nil && t.TLS.Store != nil {
		for _, c := range t.TLS.Store.Certs() {
			fmt.Fprintf(&b, "certificate %s: %s\n", c.Source, strings.Join(c.Names, ", "))
		}
		if d := t.TLS.Store.Default; d != nil {
			fmt.Fprintf(&b, "default certificate %s: %s\n", d.Source, strings.Join(d.Names, ", "))
		}
	}
	return b.String()
}

func dumpIndex(b *strings.Builder, what string, ix *Index) {
	exact, wild := ix.HostKeys()
	fmt.Fprintf(b, "  %s: %d exact hosts %q, %d wildcard suffixes %q, %d host-less candidates\n",
		what, len(exact), exact, len(wild), wild, ix.nGeneric)
}

// Describe renders one route: its rule, middlewares and service graph, or
// its child routers.
func (r *Route) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "router %s priority=%d source=%s\n  rule: %s", r.Name, r.Priority, r.Source, r.Rule)
	if r.ReadAs != "" {
		fmt.Fprintf(&b, "\n  syntax v2, matched as: %s", r.ReadAs)
	}
	if t := r.TLS; t != nil {
		fmt.Fprintf(&b, "\n  tls: option %s", t.Option)
		if t.SecretName != "" {
			fmt.Fprintf(&b, ", secret %s", t.SecretName)
		}
		if t.CertResolver != "" {
			fmt.Fprintf(&b, ", certResolver %s", t.CertResolver)
		}
	}
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
