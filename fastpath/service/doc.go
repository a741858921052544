// Package service holds Traefik's services as handlers of the request
// pipeline, composed once per routing table: LoadBalancer (a Kubernetes
// service's servers: strategies, sticky cookies, health), Weighted (a
// weighted or highestRandomWeight TraefikService, or a route with several
// services), Mirroring, Failover, and Internal (@internal services). A
// parent lets its children serve; a LoadBalancer chooses a server only
// when the request reaches it, after every middleware, and forwards it:
// over the endpoint's pooled fasthttp connections, through net/http for
// h2c servers, or on a connection of its own for an upgrade.
//
// Handlers are immutable once their table is published and safe for
// concurrent use; what must outlive a table (connection pools, health,
// passive failure counts) lives in upstream.Registry, and a LoadBalancer's
// server set is swapped atomically when endpoints change. The hot path
// (LoadBalancer.Serve to a plain HTTP server) allocates nothing.
package service
