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

// Describe renders one route with its services and servers.
func (r *Route) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "router %s priority=%d source=%s\n  rule: %s\n  service: %s", r.Name, r.Priority, r.Source, r.Rule, r.Service)
	describeTargets(&b, r.Targets, "    ")
	return b.String()
}

func describeTargets(b *strings.Builder, targets []Target, indent string) {
	for _, tg := range targets {
		if len(targets) > 1 || tg.Group != nil || tg.Mirroring != nil || tg.Failover != nil {
			name := tg.Name
			if tg.Service != nil {
				name = tg.Service.Name
			}
			fmt.Fprintf(b, "\n%s%s weight=%d", indent, name, tg.Weight)
		}
		if f := tg.Failover; f != nil {
			fmt.Fprintf(b, " failover %s status=%v maxRequestBodyBytes=%d", f.Name, f.Status, f.MaxBody)
			fmt.Fprintf(b, "\n%s  main", indent)
			describeTargets(b, []Target{f.Main}, indent+"    ")
			fmt.Fprintf(b, "\n%s  fallback", indent)
			describeTargets(b, []Target{f.Fallback}, indent+"    ")
			continue
		}
		if m := tg.Mirroring; m != nil {
			fmt.Fprintf(b, " mirroring %s mirrorBody=%t maxBodySize=%d", m.Name, m.MirrorBody, m.MaxBodySize)
			describeTargets(b, []Target{m.Main}, indent+"  ")
			for _, mr := range m.Mirrors {
				fmt.Fprintf(b, "\n%s  mirror percent=%d", indent, mr.Percent)
				describeTargets(b, []Target{mr.Target}, indent+"    ")
			}
			continue
		}
		if g := tg.Group; g != nil {
			kind := "weighted"
			if g.HRW {
				kind = "highestRandomWeight"
			}
			fmt.Fprintf(b, " %s %s", kind, g.Name)
			if st := g.Sticky; st != nil {
				fmt.Fprintf(b, " sticky=%s", st.Name)
			}
			describeTargets(b, g.Targets, indent+"  ")
			continue
		}
		fmt.Fprintf(b, " passHostHeader=%t", tg.Service.PassHostHeader)
		if tg.Service.Strategy != WRR {
			fmt.Fprintf(b, " strategy=%s", tg.Service.Strategy)
		}
		if st := tg.Service.Sticky; st != nil {
			fmt.Fprintf(b, " sticky=%s(path=%s domain=%s secure=%t httpOnly=%t sameSite=%s maxAge=%d)",
				st.Name, st.Path, st.Domain, st.Secure, st.HTTPOnly, st.SameSite, st.MaxAge)
		}
		for _, s := range tg.Service.Servers().Servers {
			fenced := ""
			if s.Fenced {
				fenced = " (fenced)"
			}
			fmt.Fprintf(b, "\n%s  server %s%s", indent, s.URL, fenced)
		}
	}
}
