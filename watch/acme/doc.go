// Package acme is Sluice's ACME certificate resolvers, as Traefik's
// (pkg/provider/acme, on go-acme/lego): for each router whose TLS block
// names a resolver, a certificate for the Host names of its rule (one
// certificate per router, its first name the main one) is ordered from
// the resolver's CA, kept in the resolver's storage file in Traefik's
// acme.json format (so a Traefik user can carry the file over), served by
// the TLS store, and renewed at Traefik's thresholds.
//
// Challenges: HTTP-01 (httpChallenge.entryPoint: the entry point answers
// /.well-known/acme-challenge/ before any router, as Traefik's challenge
// router with the highest priority) and TLS-ALPN-01 (tlsChallenge: a
// ClientHello asking for acme-tls/1 gets the challenge certificate).
//
// The Manager is the bridge: the entry points ask it for HTTP-01 key
// authorizations and TLS-ALPN-01 certificates, the compiler for the
// certificates to add to the store, and it is told about every table
// published (Observe) to order what is missing. It imports only
// fastpath/route and fastpath/tlsconf of Sluice's packages.
package acme
