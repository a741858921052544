// Package compile turns a model.Snapshot into a routing table.
//
// Compile is a pure function of its inputs: the snapshot, the options, and
// an upstream registry that hands out long-lived endpoints by address. It
// never mutates the snapshot and its output does not depend on the order of
// objects in it. Every problem it finds is a model.Diagnostic naming the
// object, the field and the reason; a bad object or route disables only
// itself (as Traefik drops it, clients see 404 or the next route).
//
// Routers, services and priorities follow Traefik v3's Kubernetes CRD
// provider (research/crd.md, research/rules.md): names are Traefik's, the
// priority is the explicit one or the rule's byte length, and ties are broken
// by router name (Traefik leaves them undefined).
package compile
