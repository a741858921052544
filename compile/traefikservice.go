package compile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/service"
)

// traefikService resolves a reference to a TraefikService (crd.md 6): a
// missing one, or one any child of which fails, drops the route (404).
// Children may be Services or TraefikServices of any kind to any depth,
// cycles rejected.
func (c *compiler) traefikService(parent owner, f string, spec *model.LoadBalancerSpec, visiting []string) (service.Service, *svcErr) {
	obj, internal, e := c.traefikServiceObj(parent, f, spec)
	if e != nil || internal != nil {
		return internal, e
	}
	ns := obj.Meta.Namespace
	key := ns + "/" + obj.Meta.Name
	if slices.Contains(visiting, key) {
		return nil, &svcErr{f + ".name", fmt.Sprintf("TraefikService recursion: %s -> %s", strings.Join(visiting, " -> "), key)}
	}
	where := fmt.Sprintf("%s (TraefikService %s)", f, key)
	ts := &obj.Spec
	name := Normalize(ns+"-"+obj.Meta.Name) + Provider
	self := owner{obj: objName("TraefikService", ns, obj.Meta.Name), ns: ns}
	inner := append(visiting[:len(visiting):len(visiting)], key)
	switch {
	case ts.Weighted == nil && ts.Mirroring == nil && ts.HighestRandomWeight == nil && ts.Failover == nil:
		return nil, &svcErr{where, "TraefikService has no weighted, mirroring, highestRandomWeight or failover"}
	case ts.Mirroring != nil:
		return c.mirroring(self, where, name, ts.Mirroring, inner)
	case ts.Failover != nil:
		return c.failover(self, where, name, ts.Failover, inner)
	}
	ws, kind := ts.Weighted, "weighted"
	if ws == nil {
		ws, kind = ts.HighestRandomWeight, "highestRandomWeight"
	}
	var children []service.Child
	for i := range ws.Services {
		child := &ws.Services[i]
		cf := fmt.Sprintf("%s.%s.services[%d]", where, kind, i)
		childName := Normalize(nsOr(child.Namespace, ns)+"-"+child.Name+"-"+child.Port.String()) + Provider
		ch, err := c.target(self, cf, childName, child, inner)
		if err != nil {
			return nil, err
		}
		children = append(children, ch)
	}
	if kind == "highestRandomWeight" {
		return service.NewHRW(name, children), nil
	}
	return service.NewWeighted(name, children, c.sticky(self.obj, "spec.weighted", name, ws.Sticky)), nil
}

// mirroring builds a mirroring TraefikService (crd.md 6): the main service
// and each mirror resolve like any child; percent must be 0-100.
func (c *compiler) mirroring(self owner, where, name string, ms *model.MirroringService, visiting []string) (service.Service, *svcErr) {
	childName := func(s *model.LoadBalancerSpec) string {
		return Normalize(nsOr(s.Namespace, self.ns)+"-"+s.Name+"-"+s.Port.String()) + Provider
	}
	main, err := c.target(self, where+".mirroring", childName(&ms.LoadBalancerSpec), &ms.LoadBalancerSpec, visiting)
	if err != nil {
		return nil, err
	}
	var mirrors []service.Mirror
	for i := range ms.Mirrors {
		m := &ms.Mirrors[i]
		mf := fmt.Sprintf("%s.mirroring.mirrors[%d]", where, i)
		if m.Percent < 0 || m.Percent > 100 {
			return nil, &svcErr{mf + ".percent", fmt.Sprintf("percent %d is not between 0 and 100", m.Percent)}
		}
		tg, err := c.target(self, mf, childName(&m.LoadBalancerSpec), &m.LoadBalancerSpec, visiting)
		if err != nil {
			return nil, err
		}
		mirrors = append(mirrors, service.Mirror{Service: tg.Service, Percent: uint64(m.Percent)})
	}
	body, maxBody := ms.MirrorBody == nil || *ms.MirrorBody, int64(-1)
	if ms.MaxBodySize != nil {
		maxBody = *ms.MaxBodySize
	}
	return service.NewMirroring(name, main.Service, mirrors, body, maxBody, c.opts.MirrorSlots), nil
}

// failover builds a failover TraefikService (crd.md 6, 7.5). Without
// errors.status it cannot work: Kubernetes services carry no health status
// to fail over on, and Traefik disables the router (404); so does Sluice.
func (c *compiler) failover(self owner, where, name string, fs *model.FailoverService, visiting []string) (service.Service, *svcErr) {
	where += ".failover"
	if fs.Service == nil || fs.Fallback == nil {
		return nil, &svcErr{where, "failover needs both service and fallback"}
	}
	if fs.Errors == nil || len(fs.Errors.Status) == 0 {
		return nil, &svcErr{where + ".errors.status", "failover without errors.status cannot fail over: Kubernetes services have no health status (Traefik disables the router)"}
	}
	var ranges [][2]int
	for i, s := range fs.Errors.Status {
		r, ok := statusRange(s)
		if !ok {
			return nil, &svcErr{fmt.Sprintf("%s.errors.status[%d]", where, i), fmt.Sprintf("invalid status range %q (want like 500-504 or 502)", s)}
		}
		ranges = append(ranges, r)
	}
	childName := func(s *model.LoadBalancerSpec) string {
		return Normalize(nsOr(s.Namespace, self.ns)+"-"+s.Name+"-"+s.Port.String()) + Provider
	}
	main, err := c.target(self, where+".service", childName(fs.Service), fs.Service, visiting)
	if err != nil {
		return nil, err
	}
	fallback, err := c.target(self, where+".fallback", childName(fs.Fallback), fs.Fallback, visiting)
	if err != nil {
		return nil, err
	}
	maxBody := int64(-1)
	if fs.Errors.MaxRequestBodyBytes != nil {
		maxBody = *fs.Errors.MaxRequestBodyBytes
	}
	return &service.Failover{Name: name, Main: main.Service, Fallback: fallback.Service, Status: ranges, MaxBody: maxBody}, nil
}

// traefikServiceObj finds the TraefikService a reference names: by
// namespace and name, or by qualified name (an @internal service is
// returned as internal instead).
func (c *compiler) traefikServiceObj(parent owner, f string, spec *model.LoadBalancerSpec) (obj *model.TraefikService, internal service.Service, e *svcErr) {
	if strings.Contains(spec.Name, "@") {
		return c.qualifiedTraefikService(parent, f, spec)
	}
	ns, e := c.reference(parent, f, spec)
	if e != nil {
		return nil, nil, e
	}
	key := ns + "/" + spec.Name
	c.noteObj(depTraefikService, key)
	if obj = c.traefikServices[key]; obj == nil {
		return nil, nil, &svcErr{f + ".name", "traefik service not found: " + key}
	}
	return obj, nil, nil
}

// statusRange reads "500-504" or "502".
func statusRange(s string) ([2]int, bool) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b := a
	var err2 error
	if isRange {
		b, err2 = strconv.Atoi(strings.TrimSpace(hi))
	}
	ok := err1 == nil && err2 == nil && a >= 100 && b <= 599 && a <= b
	return [2]int{a, b}, ok
}
