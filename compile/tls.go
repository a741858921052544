package compile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/compile/rule"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/tlsconf"
)

// TLS as Traefik's CRD provider, aggregator and TLS manager make it
// (crd.md section 9; traefik v3.7 pkg/provider/kubernetes/crd getTLSHTTP,
// buildTLSOptions, buildTLSStores; pkg/server/aggregator.go
// resolveHTTPTLSOptions; pkg/server/router/tcp/manager.go).
//
// An IngressRoute with spec.tls makes each of its routers a TLS router
// (route.TLS): served on TLS connections only. Per entry point the TLS
// routers' Host names map the server names of handshakes to their TLS
// option; a host served by routers with different options is a conflict,
// and those routers fall back to the default option. Certificates (the
// IngressRoutes' Secrets, TLSStore default) form one store.

// EntryPointTLS is an entry point's http.tls: every router attached to
// it without a TLS block of its own gets this one (Traefik's entry point
// models).
type EntryPointTLS struct {
	Options      string
	CertResolver string
	Domains      [][]string // http.tls.domains: each the main name, then the SANs
}

func lowerAll(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n != "" {
			out = append(out, strings.ToLower(n))
		}
	}
	return out
}

// routeTLS is the TLS block of a route of ir with rule tree, its option
// reference resolved as the provider resolves it (resolveReference); nil
// without spec.tls.
func (c *compiler) routeTLS(ir *model.IngressRoute, tree *rule.Node) (*route.TLS, *svcErr) {
	t := ir.Spec.TLS
	if t == nil {
		return nil, nil
	}
	rt := &route.TLS{Option: tlsconf.DefaultOption, Domains: hostNames(tree), CertResolver: t.CertResolver}
	for _, d := range t.Domains {
		rt.CertDomains = append(rt.CertDomains, lowerAll(append([]string{d.Main}, d.SANs...)))
	}
	if t.SecretName != "" {
		rt.SecretName = ir.Meta.Namespace + "/" + t.SecretName
	}
	if t.Options == nil || t.Options.Name == "" {
		return rt, nil
	}
	ref, err := c.tlsOptionRef(ir.Meta.Namespace, t.Options)
	if err != "" {
		return nil, &svcErr{"spec.tls.options", fmt.Sprintf("invalid reference to TLSOption %q: %s", t.Options.Name, err)}
	}
	rt.Option = ref
	return rt, nil
}

// tlsOptionRef is a TLS option reference from namespace ns, qualified as
// Traefik's aggregator qualifies it: "name@provider" as written, or
// Normalize(namespace-name)@kubernetescrd. (A reference named "default"
// is "ns-default@kubernetescrd" too: the default option is the one a
// router without options gets.)
func (c *compiler) tlsOptionRef(ns string, ref *model.ObjectRef) (string, string) {
	if strings.Contains(ref.Name, "@") {
		if !c.opts.AllowCrossNamespace && strings.HasSuffix(ref.Name, Provider) {
			return "", "when allowCrossNamespace is disabled, @kubernetescrd references are disallowed"
		}
		if !c.crossProviderAllowed(ns) {
			return "", fmt.Sprintf("namespace %q is not in crossProviderNamespaces", ns)
		}
		return ref.Name, ""
	}
	ons := nsOr(ref.Namespace, ns)
	if ons != ns && !c.opts.AllowCrossNamespace {
		return "", "allowCrossNamespace is disabled, cross-namespace are disallowed"
	}
	return Normalize(ons+"-"+ref.Name) + Provider, ""
}

// hostNames are the arguments of a rule's Host matchers, lower case, as
// Traefik's ParseDomains collects them (negated ones included). Of a v2
// rule, only Host's count: HostHeader and a literal HostRegexp become Host
// leaves too, but Traefik's ParseDomains reads neither.
func hostNames(tree *rule.Node) []string {
	var out []string
	rule.Walk(tree, func(leaf *rule.Node, _ bool) {
		if leaf.Name == rule.Host && strings.EqualFold(leaf.Written(), rule.Host) {
			for _, a := range leaf.Args {
				out = append(out, strings.ToLower(a))
			}
		}
	})
	return out
}

// entryPointModels applies Traefik's entry point models: a router on
// several entry points is copied for each entry point with a model (http.tls,
// http.middlewares, observability options, --core.defaultRuleSyntax),
// named "<entrypoint>-<name>"; its other entry points keep it. A router
// without a TLS block gets the TLS of an entry point with http.tls. The
// entry point's middlewares themselves are applied per entry point
// (entryPointMiddlewares), whatever the router's name. Routers with their
// own TLS block are copied and renamed too, keeping their TLS; child
// routers are never copied, as in Traefik.
func (c *compiler) entryPointModels(all []*placed) []*placed {
	if len(c.opts.EntryPointTLS) == 0 && len(c.opts.EntryPointModels) == 0 {
		return all
	}
	var out []*placed
	for _, p := range all {
		if p.cr.parents != nil {
			out = append(out, p)
			continue
		}
		var plain []string
		for _, ep := range p.r.EntryPoints {
			m, isTLS := c.opts.EntryPointTLS[ep]
			if !isTLS && !c.opts.EntryPointModels[ep] {
				plain = append(plain, ep)
				continue
			}
			name := p.r.Name
			if len(p.r.EntryPoints) > 1 {
				name = ep + "-" + name
			}
			cp := p.copyFor(name, ep)
			if c.opts.EntryPointTraceDetailed[ep] && p.cr.verbosity == "" {
				cp.r.TraceDetailed = true
			}
			if isTLS && cp.r.TLS == nil { // a router's own TLS block stands
				cp.r.TLS = &route.TLS{Option: m.option(), Domains: p.cr.hosts, CertResolver: m.CertResolver, CertDomains: m.Domains}
			}
			out = append(out, cp)
		}
		if len(plain) == len(p.r.EntryPoints) {
			out = append(out, p)
		} else if len(plain) > 0 {
			out = append(out, p.copyFor(p.r.Name, plain...))
		}
	}
	return out
}

// option is the TLS option's qualified name (Traefik's default if none).
func (m EntryPointTLS) option() string {
	if m.Options == "" || m.Options == tlsconf.DefaultOption {
		return tlsconf.DefaultOption
	}
	if !strings.Contains(m.Options, "@") {
		return m.Options + Provider
	}
	return m.Options
}

// copyFor copies a placed route as another router (name) on eps.
func (p *placed) copyFor(name string, eps ...string) *placed {
	r := *p.r
	r.Name, r.EntryPoints = name, eps
	if r.TLS != nil {
		t := *r.TLS
		r.TLS = &t
	}
	cp := *p
	cp.r, cp.entries, cp.children = &r, append([]route.Entry(nil), p.entries...), nil
	return &cp
}

// resolveTLS applies Traefik's conflict rule per entry point (routers
// serving one host with different options use the default option there,
// as copies named "<entrypoint>-conflicted-<name>"; a router with an
// option but no Host name is a conflict too), then disables the TLS
// routers whose option does not exist or cannot be built. It returns the
// routes to serve and, per entry point, the hosts whose handshakes are
// closed for a broken option.
func (c *compiler) resolveTLS(all []*placed, opts map[string]*tlsconf.Option) ([]*placed, map[string][]string) {
	for _, ep := range c.opts.EntryPoints {
		all = c.resolveConflicts(ep, all)
	}
	closed := map[string][]string{}
	out := all[:0:0]
	for _, p := range all {
		t := p.r.TLS
		if t == nil {
			out = append(out, p)
			continue
		}
		o := opts[t.Option]
		if o != nil && o.Err == nil {
			out = append(out, p)
			continue
		}
		msg := "unknown TLS options: " + t.Option
		if o != nil {
			msg = o.Err.Error()
		}
		c.file = p.file
		c.errorf(objOf(p), fieldOf(p), "router %s: building router handler: %s; router disabled, and handshakes for its hosts are closed", p.r.Name, msg)
		c.disable(p.r, p.entries, "tls: "+msg)
		for _, ep := range p.r.EntryPoints {
			closed[ep] = append(closed[ep], t.Domains...)
		}
	}
	return out, closed
}

// resolveConflicts is findConflictingRouters for one entry point.
func (c *compiler) resolveConflicts(ep string, all []*placed) []*placed {
	byHost := map[string]map[string][]*placed{}
	var conflicting []*placed
	for _, p := range all {
		t := p.r.TLS
		if t == nil || !slices.Contains(p.r.EntryPoints, ep) {
			continue
		}
		if len(t.Domains) == 0 && t.Option != tlsconf.DefaultOption {
			c.file = p.file
			c.errorf(objOf(p), fieldOf(p), "router %s: no domain found in rule %s, the TLS option %s cannot be applied; "+
				"the default TLS option is used on entry point %s", p.r.Name, p.r.Rule, t.Option, ep)
			conflicting = append(conflicting, p)
			continue
		}
		for _, d := range t.Domains {
			if byHost[d] == nil {
				byHost[d] = map[string][]*placed{}
			}
			byHost[d][t.Option] = append(byHost[d][t.Option], p)
		}
	}
	hosts := make([]string, 0, len(byHost))
	for h := range byHost {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, h := range hosts {
		if len(byHost[h]) < 2 {
			continue
		}
		var names []string
		for _, ps := range byHost[h] {
			for _, p := range ps {
				names = append(names, p.r.Name)
				if !slices.Contains(conflicting, p) {
					conflicting = append(conflicting, p)
				}
			}
		}
		slices.Sort(names)
		c.file = ""
		c.errorf("EntryPoint "+ep, "", "host %q is served by multiple routers with different TLS options; the default TLS option is "+
			"used for these routers: %s", h, strings.Join(names, ", "))
	}
	if len(conflicting) == 0 {
		return all
	}
	var out []*placed
	for _, p := range all {
		if !slices.Contains(conflicting, p) {
			out = append(out, p)
			continue
		}
		cp := p.copyFor(ep+"-conflicted-"+p.r.Name, ep)
		cp.r.TLS.Option = tlsconf.DefaultOption
		out = append(out, cp)
		if rest := slices.DeleteFunc(slices.Clone(p.r.EntryPoints), func(e string) bool { return e == ep }); len(rest) > 0 {
			r := *p.r
			r.EntryPoints = rest
			q := *p
			q.r = &r
			out = append(out, &q)
		}
	}
	return out
}
