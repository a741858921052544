// Package route is the immutable compiled routing table.
//
// A Table holds, per entry point, an Index: exact hosts in a hash table
// keyed by the lower-cased host, single-label wildcard hosts keyed by the
// suffix after the first label, and one host-less list; under each, a radix
// trie over the routing path whose nodes carry candidate lists already
// sorted in Traefik priority order, with host-less and wildcard candidates
// merged in. A lookup walks one trie and returns the first candidate whose
// residual predicates hold: the same answer as a linear scan of every router
// in priority order. Where a trie's shape decides the answer without a walk
// (a host with one plain route), its host slot holds that route and, when
// the route's handler is a load balancer, that load balancer, so a request
// for a host out of cache touches two cache lines (Index.Find, Hit).
//
// A Route carries its handler (its middlewares, then its service graph
// from package service) built by the compiler; a parent router (Traefik's
// multi-layer routing) routes among its children with an Index of its own.
//
// A Table is built once by the compiler (through Builder), published behind
// one atomic pointer, and never mutated afterwards; any number of goroutines
// may call Lookup concurrently. Only a load balancer's server set changes
// in place, through its own atomic pointer (endpoint churn never rebuilds
// a table).
package route
