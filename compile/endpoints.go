package compile

import (
	"slices"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// binding ties a compiled route service to the Service port its servers
// came from, so an EndpointSlice change can rebuild just its server set.
type binding struct {
	svc       *service.LoadBalancer
	port      *model.ServicePort // in the Service object, which is never mutated
	scheme    string
	empty     bool                      // no servers when compiled
	passive   *upstream.PassiveConfig   // passiveHealthCheck of the service, reapplied to new servers
	transport *upstream.TransportConfig // its serversTransport
}

// Endpoints applies EndpointSlice changes to a compiled table in place: a
// route service's server set is swapped atomically, the routes, the trie
// and every other service stay as they are. Not safe for concurrent use.
type Endpoints struct {
	opts     Options
	refs     map[string]bool
	bindings map[string][]*binding
}

// Update rebuilds the server sets of the route services of the Services
// named by keys ("namespace/name") from snap's EndpointSlices. It returns
// false, changing nothing, when the change needs a recompile instead: a
// referenced Service with no bound route service (its route was left out,
// maybe for having no servers), or a server set becoming empty or
// non-empty while allowEmptyServices is off, since then the route itself
// appears or disappears (Traefik: 404 without servers, not 503).
func (e *Endpoints) Update(snap *model.Snapshot, keys []string) bool {
	byKey := map[string][]*model.EndpointSlice{}
	for _, s := range snap.EndpointSlices {
		k := s.Meta.Namespace + "/" + s.ServiceName()
		if slices.Contains(keys, k) {
			byKey[k] = append(byKey[k], s)
		}
	}
	type change struct {
		b       *binding
		servers []service.Server
	}
	var changes []change
	for _, k := range keys {
		bs := e.bindings[k]
		if len(bs) == 0 && e.refs[k] {
			return false
		}
		var lists serverLists
		for _, b := range bs {
			servers := lists.get(byKey[k], b.port, b.scheme, e.opts.Upstreams, b.transport)
			servers = withPassive(servers, b.passive, e.opts)
			if !e.opts.AllowEmptyServices && (len(servers) == 0) != b.empty {
				return false
			}
			changes = append(changes, change{b, servers})
		}
	}
	for _, c := range changes {
		c.b.svc.SetServers(c.servers)
	}
	return true
}
