// Package obs is Sluice's request metrics under Traefik's Prometheus
// names (traefik v3.7 pkg/observability/metrics/prometheus.go and
// pkg/middlewares/metrics): the entry point, router and service request
// counters, duration histograms, request and response bytes and TLS
// request counters, with Traefik's labels and default buckets.
//
// Handles are made when a table is built (Registry.EntryPoint, Router,
// Service) and hung on the entry points and routes; a request then does
// Handle.Observe: a probe of a small fixed array for its (code, method,
// protocol) cell and atomic adds, no lock, no map, no allocation (a new
// combination allocates its cell once). Method and protocol take
// Traefik's bounded values (EXTENSION_METHOD for others), so a client
// cannot grow the series without bound. A handle is kept across tables
// while its router or service exists (counters never reset on a reload)
// and dropped, with its series, by the first build without it.
//
// Registry.WriteTo renders the Prometheus text exposition, labels in the
// order Prometheus's client sorts them, as Traefik's /metrics shows them.
// It imports nothing of Sluice.
package obs
