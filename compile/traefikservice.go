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
func (c *compiler) traefikService(parent owner, f string, spec *model.LoadBalancerSpec, visiting []string) (*route.Group, *svcErr) {
	ns, e := c.reference(parent, f, spec)
	if e != nil {
		return nil, e
	}
	key := ns + "/" + spec.Name
	c.noteTS(key)
	obj := c.traefikServices[key]
	if obj == nil {
		return nil, &svcErr{f + ".name", "traefik service not found: " + key}
	}
	if slices.Contains(visiting, key) {
		return nil, &svcErr{f + ".name", fmt.Sprintf("TraefikService recursion: %s -> %s", strings.Join(visiting, " -> "), key)}
	}
	where := fmt.Sprintf("%s (TraefikService %s)", f, key)
	var ts model.TraefikServiceSpec
	if data, err := json.Marshal(obj.Spec); err != nil || json.Unmarshal(data, &ts) != nil {
		return nil, &svcErr{where, "TraefikService spec does not decode"}
	}
	switch {
	case ts.Weighted == nil && ts.Mirroring == nil && ts.HighestRandomWeight == nil && ts.Failover == nil:
		return nil, &svcErr{where, "TraefikService has no weighted, mirroring, highestRandomWeight or failover"}
	case ts.Weighted == nil:
		return nil, &svcErr{where, "only weighted TraefikServices are supported by Sluice so far (mirroring, highestRandomWeight and failover are not)"}
	}
	name := Normalize(ns+"-"+spec.Name) + Provider
	self := owner{obj: objName("TraefikService", ns, spec.Name), ns: ns}
	var targets []route.Target
	for i := range ts.Weighted.Services {
		child := &ts.Weighted.Services[i]
		cf := fmt.Sprintf("%s.weighted.services[%d]", where, i)
		childName := Normalize(nsOr(child.Namespace, ns)+"-"+child.Name+"-"+child.Port.String()) + Provider
		tg, err := c.target(self, cf, childName, child, append(visiting[:len(visiting):len(visiting)], key))
		if err != nil {
			return nil, err
		}
		targets = append(targets, tg)
	}
	return route.NewGroup(name, targets, c.sticky(self.obj, "spec.weighted", name, ts.Weighted.Sticky)), nil
}
