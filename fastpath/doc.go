// Package fastpath is the data plane: a fasthttp RequestHandler per entry
// point that loads the routing table once (one atomic pointer), computes the
// request attributes as Traefik does, looks the route up, picks a server and
// forwards the request over a pooled keep-alive connection.
//
// A Handler is safe for concurrent use and allocates nothing per request on
// the proxied path. It never imports the control plane (compile, watch,
// k8s.io): it only reads *route.Table values someone else publishes.
// Failures answer as Traefik does: 400 malformed, 404 no route, 503 no
// server, 502 upstream refused or broken, 504 upstream timeout; a panic is
// recovered, logged and answered with 500.
package fastpath
