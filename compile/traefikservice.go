package compile

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/route"
)

// traefikService resolves a reference to a TraefikService (crd.md 6): a
// missing one, or one any child of which fails, drops the route (404).
// Only weighted is served so far; children may be Services or weighted
// TraefikServices to any depth, cycles rejected.
func (c *compiler) traefikService(parent owner, f string, spec *model.LoadBalancerSpec, visiting []string) (route.Target, *svcErr) {
	ns, e := c.reference(parent, f, spec)
	if e != nil {
		return route.Target{}, e
	}
	key := ns + "/" + spec.Name
	c.noteTS(key)
	obj := c.traefikServices[key]
	if obj == nil {
		return route.Target{}, &svcErr{f + ".name", "traefik service not found: " + key}
	}
	if slices.Contains(visiting, key) {
		return route.Target{}, &svcErr{f + ".name", fmt.Sprintf("TraefikService recursion: %s -> %s", strings.Join(visiting, " -> "), key)}
	}
	where := fmt.Sprintf("%s (TraefikService %s)", f, key)
	var ts model.TraefikServiceSpec
	if data, err := json.Marshal(obj.Spec); err != nil || json.Unmarshal(data, &ts) != nil {
		return route.Target{}, &svcErr{where, "TraefikService spec does not decode"}
	}
	name := Normalize(ns+"-"+spec.Name) + Provider
	self := owner{obj: objName("TraefikService", ns, spec.Name), ns: ns}
	inner := append(visiting[:len(visiting):len(visiting)], key)
	switch {
	case ts.Weighted == nil && ts.Mirroring == nil && ts.HighestRandomWeight == nil && ts.Failover == nil:
		return route.Target{}, &svcErr{where, "TraefikService has no weighted, mirroring, highestRandomWeight or failover"}
	case ts.Mirroring != nil:
		return c.mirroring(self, where, name, ts.Mirroring, inner)
	case ts.Weighted == nil && ts.HighestRandomWeight == nil:
		return route.Target{}, &svcErr{where, "failover TraefikServices are not yet supported by Sluice"}
	}
	ws, kind := ts.Weighted, "weighted"
	if ws == nil {
		ws, kind = ts.HighestRandomWeight, "highestRandomWeight"
	}
	var targets []route.Target
	for i := range ws.Services {
		child := &ws.Services[i]
		cf := fmt.Sprintf("%s.%s.services[%d]", where, kind, i)
		childName := Normalize(nsOr(child.Namespace, ns)+"-"+child.Name+"-"+child.Port.String()) + Provider
		tg, err := c.target(self, cf, childName, child, inner)
		if err != nil {
			return route.Target{}, err
		}
		targets = append(targets, tg)
	}
	if kind == "highestRandomWeight" {
		g := route.NewGroup(name, targets, nil)
		g.HRW = true
		return route.Target{Group: g}, nil
	}
	return route.Target{Group: route.NewGroup(name, targets, c.sticky(self.obj, "spec.weighted", name, ws.Sticky))}, nil
}

// mirroring builds a mirroring TraefikService (crd.md 6): the main service
// and each mirror resolve like any child; percent must be 0-100.
func (c *compiler) mirroring(self owner, where, name string, ms *model.MirroringService, visiting []string) (route.Target, *svcErr) {
	childName := func(s *model.LoadBalancerSpec) string {
		return Normalize(nsOr(s.Namespace, self.ns)+"-"+s.Name+"-"+s.Port.String()) + Provider
	}
	main, err := c.target(self, where+".mirroring", childName(&ms.LoadBalancerSpec), &ms.LoadBalancerSpec, visiting)
	if err != nil {
		return route.Target{}, err
	}
	var mirrors []route.Mirror
	for i := range ms.Mirrors {
		m := &ms.Mirrors[i]
		mf := fmt.Sprintf("%s.mirroring.mirrors[%d]", where, i)
		if m.Percent < 0 || m.Percent > 100 {
			return route.Target{}, &svcErr{mf + ".percent", fmt.Sprintf("percent %d is not between 0 and 100", m.Percent)}
		}
		tg, err := c.target(self, mf, childName(&m.LoadBalancerSpec), &m.LoadBalancerSpec, visiting)
		if err != nil {
			return route.Target{}, err
		}
		mirrors = append(mirrors, route.Mirror{Target: tg, Percent: uint64(m.Percent)})
	}
	body, maxBody := ms.MirrorBody == nil || *ms.MirrorBody, int64(-1)
	if ms.MaxBodySize != nil {
		maxBody = *ms.MaxBodySize
	}
	return route.Target{Mirroring: route.NewMirroring(name, main, mirrors, body, maxBody)}, nil
}
