package api

import (
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/obs"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
)

// Input is what the API shows: the table served, the routes left out of
// it, the diagnostics, the Middleware objects, and the static
// configuration's entry points and features.
type Input struct {
	Table       *route.Table
	Disabled    []compile.Disabled
	Diags       []model.Diagnostic
	Middlewares []*model.Middleware
	EntryPoints []EntryPoint
	Features    Features
	Providers   []string
	Version     string
	StartDate   string
	// Explain answers /api/sluice/route (nil: not offered): what the
	// query's request (url, method, entryPoint, header) would be routed
	// to, as `sluice route` explains it.
	Explain func(q url.Values) (any, error)
	// Live answers /api/sluice/live, read at each request: the routers'
	// counters behind the dashboard's live charts (nil: not offered).
	Live func() any
}

// State is one table's API answers, built once.
type State struct {
	routers     []Router // sorted by name
	services    []Service
	middlewares []Middleware
	entryPoints []EntryPoint
	overview    Overview
	version     map[string]string
	diags       []model.Diagnostic
	explain     func(url.Values) (any, error)
	live        func() any
}

// Build makes the State of in.
func Build(in Input) *State {
	s := &State{entryPoints: in.EntryPoints, version: map[string]string{"Version": in.Version, "Codename": "sluice", "startDate": in.StartDate},
		diags: in.Diags, explain: in.Explain, live: in.Live}
	services := map[string]*Service{}
	var walk func(rs []*route.Route, parent string)
	walk = func(rs []*route.Route, parent string) {
		for _, r := range rs {
			s.routers = append(s.routers, router(r, parent, "enabled", nil, in.Diags))
			if r.Target != nil {
				addServices(services, r.Target, r.Name)
			}
			walk(r.Children, r.Name)
		}
	}
	if in.Table != nil {
		walk(in.Table.Routes, "")
	}
	for _, d := range in.Disabled {
		s.routers = append(s.routers, router(d.Route, "", "disabled", []string{d.Reason}, nil))
	}
	sort.Slice(s.routers, func(i, j int) bool { return s.routers[i].Name < s.routers[j].Name })
	for _, svc := range services {
		s.services = append(s.services, *svc)
	}
	sort.Slice(s.services, func(i, j int) bool { return s.services[i].Name < s.services[j].Name })
	s.middlewares = middlewares(in.Middlewares, s.routers, in.Diags)
	s.overview = Overview{HTTP: Scheme{Routers: section(s.routers, func(r Router) string { return r.Status }),
		Services:    section(s.services, func(v Service) string { return v.Status }),
		Middlewares: section(s.middlewares, func(m Middleware) string { return m.Status })},
		TCP: Scheme{Routers: &Section{}, Services: &Section{}, Middlewares: &Section{}}, UDP: Scheme{Routers: &Section{}, Services: &Section{}},
		Features: in.Features, Providers: in.Providers}
	return s
}

// router is a route's representation; a child router (parent set) has
// no observability of its own, as in Traefik. An enabled router whose
// route got warnings is in status "warning" with them (Traefik's
// AddError(err, false)).
func router(r *route.Route, parent, status string, errs []string, diags []model.Diagnostic) Router {
	name, provider := r.Name, providerOf(r.Name)
	out := Router{EntryPoints: r.EntryPoints, Service: local(r.Service, provider), Rule: r.Rule, Priority: r.Priority,
		Error: errs, Status: status, Name: name, Provider: provider, PriorityStr: strconv.FormatInt(r.Priority, 10)}
	for _, m := range r.Middlewares {
		out.Middlewares = append(out.Middlewares, local(m, provider))
	}
	if status == "enabled" && parent == "" {
		out.Using = r.EntryPoints
	}
	if parent != "" {
		out.ParentRefs = []string{parent}
	} else {
		out.Observability = &Observability{AccessLogs: r.AccessLogs != obs.Off, Metrics: r.Metrics != obs.Off, Tracing: true, TraceVerbosity: "minimal"}
		if r.TraceDetailed {
			out.Observability.TraceVerbosity = "detailed"
		}
	}
	if ir, field, ok := strings.Cut(r.Source, "#"); ok {
		for _, d := range diags {
			if d.Severity == model.Warning && d.Object == "IngressRoute "+ir && (d.Field == field || strings.HasPrefix(d.Field, field+".")) {
				out.Error, out.Status = append(out.Error, d.Message), "warning"
			}
		}
	}
	if t := r.TLS; t != nil {
		out.TLS = &RouterTLS{Options: local(t.Option, provider), CertResolver: t.CertResolver}
		if out.TLS.Options == "" {
			out.TLS.Options = "default"
		}
		for _, d := range t.CertDomains {
			if len(d) > 0 {
				out.TLS.Domains = append(out.TLS.Domains, Domain{Main: d[0], SANs: d[1:]})
			}
		}
	}
	return out
}

// addServices records a route's service graph: each service once, the
// router naming it directly in its usedBy (Traefik's PopulateUsedBy).
func addServices(m map[string]*Service, s service.Service, usedBy string) {
	name := serviceName(s)
	if name == "" {
		return
	}
	svc := m[name]
	if svc == nil {
		svc = describe(s, name)
		m[name] = svc
		for _, child := range children(s) {
			addServices(m, child, "")
		}
	}
	if usedBy != "" && !slices.Contains(svc.UsedBy, usedBy) {
		svc.UsedBy = append(svc.UsedBy, usedBy)
		sort.Strings(svc.UsedBy)
	}
}

// describe is a service's representation, without its users.
func describe(s service.Service, name string) *Service {
	out := &Service{Name: name, Provider: providerOf(name), Status: "enabled"}
	switch s := s.(type) {
	case *service.LoadBalancer:
		lb := &LoadBalancer{PassHostHeader: s.PassHostHeader, Strategy: strategyNames[s.Strategy]}
		out.ServerStatus = map[string]string{}
		set := s.Servers() // one set: endpoints may change meanwhile
		for i := range set.Servers {
			sv := &set.Servers[i]
			lb.Servers = append(lb.Servers, Server{URL: sv.URL})
			out.ServerStatus[sv.URL] = "DOWN"
			if sv.Up() {
				out.ServerStatus[sv.URL] = "UP"
			}
		}
		out.LoadBalancer, out.Type = lb, "loadbalancer"
	case *service.Weighted:
		w := &Weighted{}
		for _, c := range s.Children {
			w.Services = append(w.Services, WeightedChild{Name: local(serviceName(c.Service), out.Provider), Weight: c.Weight})
		}
		out.Weighted, out.Type = w, "weighted"
	case *service.Mirroring:
		mr := &Mirroring{Service: local(serviceName(s.Main), out.Provider)}
		for _, m := range s.Mirrors {
			mr.Mirrors = append(mr.Mirrors, Mirror{Name: local(serviceName(m.Service), out.Provider), Percent: m.Percent})
		}
		out.Mirroring, out.Type = mr, "mirroring"
	case *service.Failover:
		out.Failover = &Failover{Service: local(serviceName(s.Main), out.Provider), Fallback: local(serviceName(s.Fallback), out.Provider)}
		out.Type = "failover"
	}
	return out
}

var strategyNames = map[service.Strategy]string{service.WRR: "wrr", service.P2C: "p2c", service.HRW: "hrw", service.LeastTime: "leasttime"}

// serviceName is a service's qualified name ("" for one without).
func serviceName(s service.Service) string {
	switch s := s.(type) {
	case *service.LoadBalancer:
		return s.Name
	case *service.Weighted:
		return s.Name
	case *service.Mirroring:
		return s.Name
	case *service.Failover:
		return s.Name
	case *service.Internal:
		return s.Name
	case *service.Wrapped:
		return serviceName(s.Inner)
	}
	return ""
}

// children are the services a service sends to.
func children(s service.Service) []service.Service {
	switch s := s.(type) {
	case *service.Weighted:
		out := make([]service.Service, 0, len(s.Children))
		for _, c := range s.Children {
			out = append(out, c.Service)
		}
		return out
	case *service.Mirroring:
		out := []service.Service{s.Main}
		for _, m := range s.Mirrors {
			out = append(out, m.Service)
		}
		return out
	case *service.Failover:
		return []service.Service{s.Main, s.Fallback}
	case *service.Wrapped:
		return children(s.Inner)
	}
	return nil
}

// middlewares are the Middleware objects' representations: their spec
// as Traefik's dynamic configuration has it, the routers naming them,
// disabled with their errors.
func middlewares(objs []*model.Middleware, routers []Router, diags []model.Diagnostic) []Middleware {
	var out []Middleware
	for _, o := range objs {
		name := compile.Normalize(o.Meta.Namespace+"-"+o.Meta.Name) + compile.Provider
		m := Middleware{Name: name, Provider: providerOf(name), Status: "enabled"}
		if b, err := json.Marshal(o.Spec); err == nil {
			json.Unmarshal(b, &m.Config)
		}
		for k := range m.Config {
			m.Type = strings.ToLower(k)
		}
		for _, r := range routers {
			if slices.Contains(r.Middlewares, local(name, r.Provider)) || slices.Contains(r.Middlewares, name) {
				m.UsedBy = append(m.UsedBy, r.Name)
			}
		}
		for _, d := range diags {
			if d.Severity == model.Error && d.Object == "Middleware "+o.Meta.Namespace+"/"+o.Meta.Name {
				m.Error, m.Status = append(m.Error, d.Message), "disabled"
			}
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// MarshalJSON puts the middleware's configuration at the top level, as
// Traefik's embedded dynamic.Middleware has it.
func (m Middleware) MarshalJSON() ([]byte, error) {
	type plain Middleware
	b, err := json.Marshal(plain(m))
	if err != nil || len(m.Config) == 0 {
		return b, err
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, v := range m.Config {
		all[k] = v
	}
	return json.Marshal(all)
}

// section counts xs by status, as Traefik's overview.
func section[T any](xs []T, status func(T) string) *Section {
	out := &Section{Total: len(xs)}
	for _, x := range xs {
		switch status(x) {
		case "warning":
			out.Warnings++
		case "disabled":
			out.Errors++
		}
	}
	return out
}

// providerOf is the part after '@' ("" without one).
func providerOf(name string) string {
	if _, p, ok := strings.Cut(name, "@"); ok {
		return p
	}
	return ""
}

// local drops "@provider" from a name of the same provider, as Traefik's
// providers write references within themselves.
func local(name, provider string) string {
	if provider != "" {
		return strings.TrimSuffix(name, "@"+provider)
	}
	return name
}
