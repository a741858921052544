// Package kube is the Kubernetes provider: client-go informers on the
// traefik.io/v1alpha1 CRDs, Services, EndpointSlices, Secrets (never Helm
// release secrets), ConfigMaps (ServersTransport root CAs) and Nodes,
// turned into model.Snapshot.
//
// Contract:
//   - Objects are converted to compile/model types by the informers'
//     transform, so the caches hold model objects (managedFields, status and
//     unused fields never stored) and are never mutated afterwards.
//   - Nothing is delivered until every cache has synced. Events are then
//     coalesced in one goroutine (hold-off, maximum hold-off, and Traefik's
//     throttleDuration as a minimum interval between deliveries); updates that
//     change nothing Sluice reads are dropped.
//   - An Update says whether only EndpointSlices changed, and of which
//     Services, so the caller can swap server sets instead of recompiling.
//   - When the API server is unreachable or a watch breaks, the caches keep
//     their last state, client-go retries with backoff, and every failure is
//     logged and counted (sluice_kubernetes_watch_errors_total). Once the
//     first sync is done, an unreachable API server is also probed every
//     second; when it answers before a reflector got through, a new set of
//     informers lists everything and replaces the old set once synced
//     (recover.go), so recovery does not wait out client-go's backoff.
//
// kube imports watch (object decoding) and compile/model among Sluice's
// packages; it never imports compile or fastpath.
package kube
