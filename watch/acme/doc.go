// Package acme is Sluice's ACME certificate resolvers, as Traefik's
// (pkg/provider/acme, on go-acme/lego).
//
// Which names: for each router whose TLS block names a resolver, each
// entry of tls.domains (main, then SANs; the entry point's
// http.tls.domains likewise), else the Host names of its rule, minus the
// names a certificate already covers (the TLS store's, the resolver's,
// or an order under way), make one order, the first name the main one.
// A wildcard needs DNS-01; a refused order waits a minute doubling to a
// day before it is tried again; every such error is logged (once).
//
// Challenges: HTTP-01 (httpChallenge.entryPoint: the entry point answers
// /.well-known/acme-challenge/ before any router, as Traefik's challenge
// router with the highest priority), TLS-ALPN-01 (tlsChallenge: a
// ClientHello asking for acme-tls/1 gets the challenge certificate) and
// DNS-01 (dnsChallenge: the lego providers of dns.go, configured by their
// environment variables as in Traefik).
//
// Storage: the resolver's file in Traefik's acme.json format (a Traefik
// user can carry the file over, both ways), mode 0600. Renewal: at start
// and at each check interval, the certificates ending within the renewal
// period, both by certificatesDuration as Traefik's, and those whose CA
// asks for an early renewal (ACME Renewal Information); a failed renewal
// keeps the old certificate serving. TLSStore default's
// defaultGeneratedCert is ordered like a router's names, and the compiler
// makes it the default certificate.
//
// Storage in a Secret (storage=kubernetes:<ns>/<name>, k8s.go): the
// holder of the Lease of that name orders and renews; every replica
// watches the Secret, serves its certificates and answers the challenges
// written there.
//
// The Manager is the bridge: the entry points ask it for HTTP-01 key
// authorizations and TLS-ALPN-01 certificates, the compiler for the
// certificates to add to the store (after the Secrets'), and it is told
// about every table published (Observe) to order what is missing. It
// imports only fastpath/route and fastpath/tlsconf of Sluice's packages.
package acme
