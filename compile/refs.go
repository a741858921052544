package compile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/service"
)

// Cross-provider references (Traefik's "name@provider"): a reference whose
// name holds '@' names an object by its qualified Traefik name rather than
// by namespace and name. Sluice is Traefik's kubernetescrd provider, so
// "<id>@kubernetescrd" resolves to its own objects by their Traefik id,
// Normalize(namespace-name), and "<name>@internal" to the internal services
// Sluice serves itself; any other provider (file, docker, ...) is one
// Sluice does not read, and the reference is an error naming it.
// (traefik v3.7 pkg/provider/kubernetes/crd kubernetes_http.go:
// nameAndService, fullServiceName, makeServersTransportKey,
// resolveReference.)

// splitQualified splits "name@provider" at its last '@'; ok is false for a
// name without one.
func splitQualified(s string) (name, provider string, ok bool) {
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// crossProviderAllowed applies providers.kubernetesCRD.crossProviderNamespaces
// to a reference made from namespace ns: unset (nil) allows every
// namespace, an empty list none.
func (c *compiler) crossProviderAllowed(ns string) bool {
	return c.opts.CrossProviderNamespaces == nil || slices.Contains(c.opts.CrossProviderNamespaces, ns)
}

// byID indexes objects by their Traefik id, Normalize(namespace-name);
// where two share an id the first in name order wins, deterministically.
func byID[T any](objs map[string]*T, meta func(*T) *model.Meta) map[string]*T {
	keys := make([]string, 0, len(objs))
	for k := range objs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string]*T, len(objs))
	for _, k := range keys {
		m := meta(objs[k])
		id := Normalize(m.Namespace + "-" + m.Name)
		if _, dup := out[id]; !dup {
			out[id] = objs[k]
		}
	}
	return out
}

// qualifiedTraefikService resolves a TraefikService reference by qualified
// name, made from parent (crossProviderNamespaces decides): an
// @kubernetescrd TraefikService by id, or an @internal service.
func (c *compiler) qualifiedTraefikService(parent owner, f string, spec *model.LoadBalancerSpec) (*model.TraefikService, service.Service, *svcErr) {
	if !c.crossProviderAllowed(parent.ns) {
		return nil, nil, &svcErr{f + ".name", fmt.Sprintf("service %q reference is not allowed: namespace %q is not in crossProviderNamespaces", spec.Name, parent.ns)}
	}
	name, provider, _ := splitQualified(spec.Name)
	switch provider {
	case "kubernetescrd":
		// Traefik names it from the namespace as written (none: the bare id).
		id := Normalize(spec.Namespace + "-" + name)
		c.noteObj(depTraefikServiceID, id)
		ts := c.tsByID[id]
		if ts == nil {
			return nil, nil, &svcErr{f + ".name", fmt.Sprintf("traefik service not found: %s (no TraefikService whose Traefik id, namespace-name, is %q)", spec.Name, id)}
		}
		return ts, nil, nil
	case "internal":
		s, err := c.internal(name + "@internal")
		if err != "" {
			return nil, nil, &svcErr{f + ".name", err}
		}
		return nil, s, nil
	}
	return nil, nil, &svcErr{f + ".name", fmt.Sprintf("service %q: provider %q is not one Sluice reads; Sluice serves the kubernetescrd provider and its own @internal services", spec.Name, provider)}
}

// internal returns the @internal service of that name, or why there is
// none (Traefik's words where it has them).
func (c *compiler) internal(name string) (service.Service, string) {
	if name == "noop@internal" {
		return service.Noop, ""
	}
	if s := c.opts.Internal[name]; s != nil {
		return s, ""
	}
	switch name {
	case "ping@internal":
		return nil, "ping@internal: ping is not enabled (--ping)"
	case "api@internal", "dashboard@internal":
		return nil, name + ": api is not enabled (--api)"
	case "rest@internal":
		return nil, name + ": the REST provider is not served by Sluice"
	case "prometheus@internal":
		return nil, name + ": prometheus is not enabled (--metrics.prometheus)"
	case "acme-http@internal":
		return nil, name + ": the ACME HTTP challenge is not yet supported by Sluice"
	}
	return nil, "unknown internal service " + name
}

// qualifiedTransport resolves a serversTransport given by qualified name
// from namespace ns: "<id>@kubernetescrd" (only when allowCrossNamespace,
// since the id may name another namespace, as Traefik rules) or
// "default@internal", the static default transport.
func (c *compiler) qualifiedTransport(f, ns, ref string) (*model.ServersTransport, bool, *svcErr) {
	name, provider, _ := splitQualified(ref)
	if provider == "kubernetescrd" && !c.opts.AllowCrossNamespace {
		return nil, false, &svcErr{f, fmt.Sprintf("invalid reference to serversTransport %s: namespace-name@kubernetescrd format is not allowed when crossnamespace is disallowed", ref)}
	}
	if !c.crossProviderAllowed(ns) {
		return nil, false, &svcErr{f, fmt.Sprintf("serversTransport %q reference is not allowed: namespace %q is not in crossProviderNamespaces", ref, ns)}
	}
	switch {
	case provider == "kubernetescrd":
		c.noteObj(depServersTransportID, name)
		if st := c.stByID[name]; st != nil {
			return st, false, nil
		}
		return nil, false, &svcErr{f, "serversTransport not found: " + ref}
	case ref == "default@internal":
		return nil, true, nil
	case provider == "internal":
		return nil, false, &svcErr{f, fmt.Sprintf("serversTransport %q: the only internal transport is default@internal", ref)}
	}
	return nil, false, &svcErr{f, fmt.Sprintf("serversTransport %q: provider %q is not one Sluice reads", ref, provider)}
}

// middleware resolves one middleware reference made from namespace ns (a
// route's, a service's or a chain's), as Traefik's resolveReference: a
// plain name in ns (or the namespace given, which allowCrossNamespace must
// allow), or a qualified "<id>@kubernetescrd" (only when
// allowCrossNamespace: the id may name any namespace). It returns the
// Middleware and its Traefik name.
func (c *compiler) middleware(f, ns string, ref model.MiddlewareRef) (*model.Middleware, string, *svcErr) {
	if strings.Contains(ref.Name, "@") {
		name, provider, _ := splitQualified(ref.Name)
		if !c.opts.AllowCrossNamespace && provider == "kubernetescrd" {
			return nil, "", &svcErr{f, fmt.Sprintf("invalid reference to middleware %s: when allowCrossNamespace is disabled, @kubernetescrd references are disallowed", ref.Name)}
		}
		if !c.crossProviderAllowed(ns) {
			return nil, "", &svcErr{f, fmt.Sprintf("invalid reference to middleware %s: namespace %q is not in crossProviderNamespaces", ref.Name, ns)}
		}
		if provider != "kubernetescrd" {
			return nil, "", &svcErr{f, fmt.Sprintf("middleware %q: provider %q is not one Sluice reads", ref.Name, provider)}
		}
		c.noteObj(depMiddlewareID, name)
		if m := c.mwByID[name]; m != nil {
			return m, ref.Name, nil
		}
		return nil, "", &svcErr{f, "middleware not found: " + ref.Name}
	}
	mns := nsOr(ref.Namespace, ns)
	if mns != ns && !c.opts.AllowCrossNamespace {
		return nil, "", &svcErr{f, fmt.Sprintf("invalid reference to middleware %s: allowCrossNamespace is disabled, cross-namespace are disallowed", ref.Name)}
	}
	key := mns + "/" + ref.Name
	c.noteObj(depMiddleware, key)
	m := c.middlewares[key]
	if m == nil {
		return nil, "", &svcErr{f, "middleware not found: " + key}
	}
	return m, Normalize(mns+"-"+ref.Name) + Provider, nil
}
