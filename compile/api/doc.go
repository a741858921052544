// Package api is Traefik's read-only API over what Sluice serves:
// /api/http/routers, /api/http/services, /api/http/middlewares (each
// also by name), /api/entrypoints, /api/overview, /api/rawdata and
// /api/version, with Traefik's JSON shapes (pkg/api of Traefik v3.7),
// its search, status, serviceName and middlewareName filters, its
// sorting and its pagination (per_page, page, X-Next-Page).
//
// Contract: Build turns a compiled table, the routes left out and the
// diagnostics into a State, off the request path, once per table; the
// Handler answers from the State it is given, and never blocks a table
// swap. Routers carry Traefik's status ("enabled", "warning",
// "disabled") and their errors from Sluice's diagnostics.
package api
