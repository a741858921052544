package compile

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// strategies Traefik v3.7 accepts (RoundRobin is the deprecated wrr).
var strategies = map[string]bool{"": true, "wrr": true, "RoundRobin": true, "p2c": true, "hrw": true, "leasttime": true}

// strategyOf maps the accepted names to the balancer (wrr by default).
var strategyOf = map[string]service.Strategy{"p2c": service.P2C, "hrw": service.HRW, "leasttime": service.LeastTime}

// svcErr is a reason a route's service cannot be built: the route is dropped.
type svcErr struct{ field, msg string }

// routeService builds the service graph of one route, named name: the
// router's qualified key, which is also the Traefik service name the
// router points at. Several services are a weighted service over them, as
// Traefik's provider builds it (its choice of service is not sticky).
func (c *compiler) routeService(ir *model.IngressRoute, field, name string, specs []model.LoadBalancerSpec) (service.Service, *svcErr) {
	parent := owner{obj: objName("IngressRoute", ir.Meta.Namespace, ir.Meta.Name), ns: ir.Meta.Namespace}
	children := make([]service.Child, 0, len(specs))
	for i := range specs {
		spec := &specs[i]
		f := fmt.Sprintf("%s.services[%d]", field, i)
		svcName := name
		if len(specs) > 1 {
			svcName = Normalize(nsOr(spec.Namespace, ir.Meta.Namespace)+"-"+spec.Name+"-"+spec.Port.String()) + Provider
		}
		ch, err := c.target(parent, f, svcName, spec, nil)
		if err != nil {
			return nil, err
		}
		children = append(children, ch)
	}
	if len(children) == 1 {
		return children[0].Service, nil
	}
	return service.NewWeighted(name, children, nil), nil
}

// owner is the object whose services list is being resolved: an
// IngressRoute, or a TraefikService (children default to its namespace).
type owner struct{ obj, ns string }

// target resolves one services entry: a Kubernetes Service, or a
// TraefikService (visiting: the TraefikServices above it, for cycles).
func (c *compiler) target(parent owner, f, name string, spec *model.LoadBalancerSpec, visiting []string) (service.Child, *svcErr) {
	w := 1
	if spec.Weight != nil {
		w = *spec.Weight
	}
	ns := nsOr(spec.Namespace, parent.ns)
	var mws []pipeline.Middleware
	var names []string
	var err *svcErr
	c.inScope(c.scope+" service "+f, func() { mws, names, err = c.middlewareChain(f, ns, spec.Middlewares) })
	if err != nil {
		return service.Child{}, err
	}
	if spec.Kind == "TraefikService" {
		svc, err := c.traefikService(parent, f, spec, visiting)
		return service.Child{Service: service.Wrap(svc, names, mws), Weight: w, Name: Normalize(ns + "-" + spec.Name)}, err
	}
	lb, err := c.service(parent, f, name, spec)
	if err != nil {
		return service.Child{}, err
	}
	return service.Child{Service: service.Wrap(lb, names, mws), Weight: w, Name: Normalize(ns + "-" + spec.Name + "-" + spec.Port.String())}, nil
}

func nsOr(ns, def string) string {
	if ns == "" {
		return def
	}
	return ns
}

// service resolves one Kubernetes Service reference (crd.md section 5).
func (c *compiler) service(parent owner, f, name string, spec *model.LoadBalancerSpec) (*service.LoadBalancer, *svcErr) {
	obj := parent.obj
	switch spec.Kind {
	case "", "Service":
	default:
		return nil, &svcErr{f + ".kind", fmt.Sprintf("unknown kind %q (want Service or TraefikService)", spec.Kind)}
	}
	ns, e := c.reference(parent, f, spec)
	if e != nil {
		return nil, e
	}
	if e := c.unsupported(obj, f, spec); e != nil {
		return nil, e
	}
	c.note(ns + "/" + spec.Name)
	svc := c.services[ns+"/"+spec.Name]
	if svc == nil {
		return nil, &svcErr{f + ".name", fmt.Sprintf("kubernetes service not found: %s/%s", ns, spec.Name)}
	}
	if spec.Port.IsZero() {
		return nil, &svcErr{f + ".port", "ingressRoute service port not defined"}
	}
	if spec.HealthCheck != nil && svc.Spec.Type != "ExternalName" {
		return nil, &svcErr{f + ".healthCheck", "healthCheck allowed only for ExternalName service: " + ns + "/" + spec.Name}
	}
	c.refs[ns+"/"+spec.Name] = true
	c.bound = nil
	tc, e := c.serversTransport(f, ns, spec.ServersTransport)
	if e != nil {
		return nil, e
	}
	c.transport = tc
	servers, err := c.servers(svc, f, spec)
	c.transport = nil
	if err != nil {
		return nil, err
	}
	var passive *upstream.PassiveConfig
	if spec.PassiveHealthCheck != nil {
		pc, err := passiveConfig(f+".passiveHealthCheck", spec.PassiveHealthCheck)
		if err != nil {
			return nil, err
		}
		passive = &pc
		servers = withPassive(servers, passive, c.opts)
	}
	pass := spec.PassHostHeader == nil || *spec.PassHostHeader
	rs := service.NewLoadBalancerWith(name, pass, c.sticky(obj, f, name, spec.Sticky), strategyOf[spec.Strategy], servers)
	if b := c.bound; b != nil {
		b.svc, b.empty, b.passive = rs, len(servers) == 0, passive
		k := ns + "/" + spec.Name
		c.bindings[k] = append(c.bindings[k], b)
	}
	return rs, nil
}

// reference checks a Service or TraefikService reference's name and
// namespace (crd.md section 4) and returns the namespace.
func (c *compiler) reference(parent owner, f string, spec *model.LoadBalancerSpec) (string, *svcErr) {
	ns := nsOr(spec.Namespace, parent.ns)
	if strings.Contains(spec.Name, "@") { // a cross-provider reference: only kind TraefikService takes one
		return "", &svcErr{f + ".name", fmt.Sprintf("kubernetes service not found: %s/%s (a name with '@' is a cross-provider reference, which only kind: TraefikService takes)", ns, spec.Name)}
	}
	if ns != parent.ns && !c.opts.AllowCrossNamespace {
		return "", &svcErr{f + ".namespace", fmt.Sprintf("service %s/%s is in another namespace and allowCrossNamespace is false", ns, spec.Name)}
	}
	if len(c.opts.Namespaces) > 0 && !slices.Contains(c.opts.Namespaces, ns) {
		return "", &svcErr{f + ".namespace", fmt.Sprintf("namespace %q is not within the watched namespaces", ns)}
	}
	return ns, nil
}

// unsupported reports the service options this version does not serve: a
// warning where serving without them is safe, an error (route dropped) where
// it would change what the backend sees in a way users rely on.
func (c *compiler) unsupported(obj, f string, spec *model.LoadBalancerSpec) *svcErr {
	if !strategies[spec.Strategy] {
		return &svcErr{f + ".strategy", fmt.Sprintf("invalid strategy %q (want wrr, p2c, hrw, leasttime or RoundRobin)", spec.Strategy)}
	}
	switch spec.Scheme {
	case "", "http", "https", "h2c":
	default:
		return &svcErr{f + ".scheme", fmt.Sprintf("invalid scheme %q (want http, https or h2c)", spec.Scheme)}
	}
	if rf := spec.ResponseForwarding; rf != nil && rf.FlushInterval != "" {
		if _, err := time.ParseDuration(rf.FlushInterval); err != nil && rf.FlushInterval != "-1" {
			return &svcErr{f + ".responseForwarding.flushInterval", fmt.Sprintf("invalid duration %q", rf.FlushInterval)}
		}
	}
	return nil
}

// servers lists the servers of a Service reference (crd.md 5.1-5.4).
func (c *compiler) servers(svc *model.Service, f string, spec *model.LoadBalancerSpec) ([]service.Server, *svcErr) {
	ref := svc.Meta.Namespace + "/" + svc.Meta.Name
	var sp *model.ServicePort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if spec.Port.IsString && p.Name == spec.Port.Str || !spec.Port.IsString && int64(p.Port) == spec.Port.Int {
			sp = p
			break
		}
	}
	if svc.Spec.Type == "ExternalName" {
		if !c.opts.AllowExternalNameServices {
			return nil, &svcErr{f + ".name", "externalName services not allowed: " + ref}
		}
		if sp == nil && spec.Port.IsString {
			return nil, &svcErr{f + ".port", fmt.Sprintf("service port not found: %s port %s", ref, spec.Port)}
		}
		port := spec.Port.Int
		if sp == nil && hasNonZeroPort(svc) {
			c.warn(objName("Service", svc.Meta.Namespace, svc.Meta.Name), "spec.ports", "port %d doesn't match with ports defined in the ExternalName service", port)
		}
		if sp != nil {
			port = int64(sp.Port)
		}
		scheme := schemeFor(spec.Scheme, port, portName(sp))
		sv := c.server(scheme, svc.Spec.ExternalName, port)
		if spec.HealthCheck != nil {
			hc, err := healthConfig(f+".healthCheck", spec.HealthCheck)
			if err != nil {
				return nil, err
			}
			sv.Health = c.opts.Upstreams.Health(sv.Endpoint, hc, c.opts.logger())
		}
		return []service.Server{sv}, nil
	}
	if sp == nil {
		return nil, &svcErr{f + ".port", fmt.Sprintf("service port not found: %s port %s", ref, spec.Port)}
	}
	scheme := schemeFor(spec.Scheme, int64(sp.Port), sp.Name)
	native := c.opts.NativeLBByDefault
	if spec.NativeLB != nil {
		native = *spec.NativeLB
	}
	if native {
		ip := svc.Spec.ClusterIP
		if ip == "" || ip == "None" {
			return nil, &svcErr{f + ".nativeLB", "no clusterIP found for service: " + ref}
		}
		return []service.Server{c.server(scheme, ip, int64(sp.Port))}, nil
	}
	if spec.NodePortLB && svc.Spec.Type == "NodePort" {
		return c.nodePortServers(f, ref, sp, scheme)
	}
	servers := c.endpointServers(svc, sp, scheme)
	if len(servers) == 0 && !c.opts.AllowEmptyServices {
		return nil, &svcErr{f + ".name", "no servers found for service " + ref}
	}
	return servers, nil
}

func portName(sp *model.ServicePort) string {
	if sp == nil {
		return ""
	}
	return sp.Name
}

func hasNonZeroPort(svc *model.Service) bool {
	for _, p := range svc.Spec.Ports {
		if p.Port != 0 {
			return true
		}
	}
	return false
}

// schemeFor: an explicit scheme wins; https for Service port 443 or a port
// name starting with "https"; else http. h2c is never inferred.
func schemeFor(explicit string, port int64, name string) string {
	switch {
	case explicit != "":
		return explicit
	case port == 443 || strings.HasPrefix(name, "https"):
		return "https"
	}
	return "http"
}

func (c *compiler) server(scheme, host string, port int64) service.Server {
	return newServer(c.opts.Upstreams, c.transport, scheme, host, port)
}

// newServer's transport was validated when resolved, so GetWith cannot fail.
func newServer(reg *upstream.Registry, tc *upstream.TransportConfig, scheme, host string, port int64) service.Server {
	addr := net.JoinHostPort(host, strconv.FormatInt(port, 10))
	e, _ := reg.GetWith(scheme, addr, tc)
	if e == nil {
		return service.Server{URL: scheme + "://" + addr}
	}
	return service.Server{URL: e.URL, Endpoint: e} // one string per endpoint, not per server
}

// endpointServers reads the Service's EndpointSlices (crd.md 5.2) and
// binds the result, so later EndpointSlice changes update it in place.
func (c *compiler) endpointServers(svc *model.Service, sp *model.ServicePort, scheme string) []service.Server {
	key := svc.Meta.Namespace + "/" + svc.Meta.Name
	c.bound = &binding{port: sp, scheme: scheme}
	c.bound.transport = c.transport
	return c.lists.get(c.slices[key], sp, scheme, c.opts.Upstreams, c.transport)
}

// serverLists shares one server list among the route services built from
// the same Service port, scheme and transport in one compile or endpoint
// update: 100k routes to one Service hold one list, not 100k copies. A
// shared list is never written: service.LoadBalancer.SetServers and withPassive
// copy it before setting anything on a server.
type serverLists map[serverListKey][]service.Server

type serverListKey struct {
	port      *model.ServicePort
	scheme    string
	transport *upstream.TransportConfig
}

func (l *serverLists) get(slices []*model.EndpointSlice, sp *model.ServicePort, scheme string, reg *upstream.Registry, tc *upstream.TransportConfig) []service.Server {
	k := serverListKey{sp, scheme, tc}
	if list, ok := (*l)[k]; ok {
		return list
	}
	list := serversOf(slices, sp, scheme, reg, tc)
	if *l == nil {
		*l = serverLists{}
	}
	(*l)[k] = list
	return list
}

// serversOf: slices by creation time then name, the slice port named like
// the Service port, serving endpoints (terminating ones fenced), each IP once.
func serversOf(slices []*model.EndpointSlice, sp *model.ServicePort, scheme string, reg *upstream.Registry, tc *upstream.TransportConfig) []service.Server {
	slices = append([]*model.EndpointSlice(nil), slices...)
	sort.Slice(slices, func(i, j int) bool {
		a, b := slices[i].Meta, slices[j].Meta
		if a.CreationTimestamp != b.CreationTimestamp {
			return a.CreationTimestamp < b.CreationTimestamp
		}
		return a.Name < b.Name
	})
	seen := map[string]bool{}
	var out []service.Server
	for _, s := range slices {
		port := int64(0)
		for _, p := range s.Ports {
			if p.Name != nil && *p.Name == sp.Name && p.Port != nil {
				port = int64(*p.Port)
				break
			}
		}
		if port == 0 {
			continue
		}
		for _, ep := range s.Endpoints {
			if ep.Conditions.Serving != nil && !*ep.Conditions.Serving {
				continue
			}
			fenced := ep.Conditions.Terminating != nil && *ep.Conditions.Terminating
			for _, ip := range ep.Addresses {
				if seen[ip] {
					continue
				}
				seen[ip] = true
				sv := newServer(reg, tc, scheme, ip, port)
				sv.Fenced = fenced
				out = append(out, sv)
			}
		}
	}
	return out
}

// sticky builds a service's sticky cookie (crd.md 7.3); nil without
// sticky.cookie, as in Traefik.
func (c *compiler) sticky(obj, f, svcName string, s *model.Sticky) *service.Sticky {
	if s == nil || s.Cookie == nil {
		return nil
	}
	ck := s.Cookie
	out := &service.Sticky{Name: service.StickyCookieName(ck.Name, svcName), Path: "/", Domain: ck.Domain,
		Secure: ck.Secure, HTTPOnly: ck.HTTPOnly, MaxAge: ck.MaxAge}
	if ck.Path != nil {
		out.Path = *ck.Path
	}
	switch ss := strings.ToLower(ck.SameSite); ss {
	case "", "none", "lax", "strict":
		out.SameSite = ss
	default:
		c.warn(obj, f+".sticky.cookie.sameSite", "unknown sameSite %q (want none, lax or strict); not set", ck.SameSite)
	}
	return out
}

// nodePortServers: one server per Node InternalIP at the Service port's
// nodePort (crd.md 5.4).
func (c *compiler) nodePortServers(f, ref string, sp *model.ServicePort, scheme string) ([]service.Server, *svcErr) {
	if c.opts.DisableClusterScopeResources {
		return nil, &svcErr{f + ".nodePortLB", "nodes lookup is disabled (disableClusterScopeResources)"}
	}
	if sp.NodePort == 0 {
		return nil, &svcErr{f + ".nodePortLB", "service port has no nodePort: " + ref}
	}
	c.noteNodes()
	var out []service.Server
	for _, n := range c.snap.Nodes {
		for _, a := range n.Status.Addresses {
			if a.Type == "InternalIP" {
				out = append(out, c.server(scheme, a.Address, int64(sp.NodePort)))
			}
		}
	}
	if len(out) == 0 {
		return nil, &svcErr{f + ".nodePortLB", "no nodes with an InternalIP found"}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out, nil
}
