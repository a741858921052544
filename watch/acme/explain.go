package acme

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sluiceproxy/sluice/fastpath/route"
)

// Explain says, for `sluice check`, what each resolver will request for
// the routers of t and why a name cannot be issued: a resolver that is
// not configured or cannot order at all, an HTTP-01 entry point that does
// not exist, a wildcard without DNS-01. Names already covered by a
// certificate of the table's store are said to be served by it. Each
// line is "ok" (false: a problem).
func Explain(cfgs []ResolverConfig, t *route.Table, entryPoints []string) (lines []string, ok []bool) {
	byName := map[string]*ResolverConfig{}
	for i := range cfgs {
		c := cfgs[i]
		c.Defaults()
		byName[c.Name] = &c
		if err := c.Check(); err != nil {
			lines, ok = append(lines, fmt.Sprintf("ACME resolver %s cannot order: %v", c.Name, err)), append(ok, false)
		}
		if c.HTTPEntryPoint != "" && !slices.Contains(entryPoints, c.HTTPEntryPoint) {
			lines = append(lines, fmt.Sprintf("ACME resolver %s: httpChallenge.entryPoint %q is not an entry point: no HTTP-01 challenge can be answered", c.Name, c.HTTPEntryPoint))
			ok = append(ok, false)
		}
	}
	if t.TLS != nil && t.TLS.Store != nil && t.TLS.Store.ACMEDefault != nil {
		g := t.TLS.Store.ACMEDefault
		if c := byName[g.Resolver]; c == nil {
			lines = append(lines, fmt.Sprintf("TLSStore default: defaultGeneratedCert's resolver %q is not configured: the generated default certificate is served", g.Resolver))
			ok = append(ok, false)
		} else {
			l, good := explainGroup(c, "TLSStore default (defaultGeneratedCert)", g.Names, &route.Table{})
			lines, ok = append(lines, l+" as the default certificate"), append(ok, good)
		}
	}
	for _, rt := range t.Routes {
		if rt.TLS == nil || rt.TLS.CertResolver == "" {
			continue
		}
		c := byName[rt.TLS.CertResolver]
		if c == nil {
			lines = append(lines, fmt.Sprintf("router %s: certificate resolver %q is not configured (--certificatesResolvers.%s.acme.*): its names get no certificate from it",
				rt.Name, rt.TLS.CertResolver, rt.TLS.CertResolver))
			ok = append(ok, false)
			continue
		}
		groups := rt.TLS.CertDomains
		if len(groups) == 0 && len(rt.TLS.Domains) > 0 {
			groups = [][]string{rt.TLS.Domains}
		}
		if len(groups) == 0 {
			lines, ok = append(lines, fmt.Sprintf("router %s: resolver %s: no Host in the rule and no tls.domains: nothing to request", rt.Name, c.Name)), append(ok, false)
		}
		for _, g := range groups {
			l, good := explainGroup(c, "router "+rt.Name, g, t)
			lines, ok = append(lines, l), append(ok, good)
		}
	}
	return lines, ok
}

func explainGroup(c *ResolverConfig, router string, g []string, t *route.Table) (string, bool) {
	for _, n := range g {
		if err := c.canIssue(n); err != nil {
			return fmt.Sprintf("%s: resolver %s cannot issue %v: %v", router, c.Name, g, err), false
		}
	}
	var missing, served []string
	for _, n := range g {
		if covered(t, n) {
			served = append(served, n)
		} else if !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	msg := fmt.Sprintf("%s: resolver %s will request %v", router, c.Name, missing)
	if len(missing) == 0 {
		msg = fmt.Sprintf("%s: resolver %s requests nothing", router, c.Name)
	}
	if len(served) > 0 {
		msg += fmt.Sprintf(" (%s already served by a certificate of the TLS store)", strings.Join(served, ", "))
	}
	return msg, true
}
