// Package middleware holds Traefik's HTTP middlewares as
// pipeline.Middleware values: each is built once per routing table from
// its configuration (a bad configuration is an error then, never at
// request time) and edits the Exchange's outbound request or answers it.
package middleware
