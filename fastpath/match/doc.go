// Package match holds the zero-allocation matcher primitives of the data
// plane and the computation of the request attributes they read.
//
// Request is the per-request view (canonical host, routing path, method,
// raw query, headers, client IP) as Traefik v3 computes them
// (rules.md section 3). Matcher is one compiled leaf of a rule: a small struct
// with a kind and operands, evaluated in a switch. Regexp reduces regular
// expressions to literal checks where it can.
//
// Matchers are immutable once built and safe for concurrent use. A Request is
// owned by one goroutine; slices it holds are borrowed from the request and
// valid only while the request is being handled. Nothing here allocates on
// the request path; the package imports only the standard library.
package match
