// Package fastpath holds the front ends of the data plane: per entry
// point, a fasthttp server (HTTP/1.1) that also takes HTTP/2 with prior
// knowledge (h2c) on the same port. Both fill a pipeline.Exchange, load the
// routing table once (one atomic pointer), look the router up once and let
// it serve: middlewares, service, server choice and forward are the
// pipeline's (packages pipeline, route, service), identical for both.
//
// A Handler is safe for concurrent use and allocates nothing per request on
// the proxied HTTP/1.1 path. It never imports the control plane (compile,
// watch, k8s.io): it only reads *route.Table values someone else
// publishes. Failures answer as Traefik does: 400 malformed, 404 no route,
// 503 no server, 502 upstream refused or broken, 504 upstream timeout; a
// panic is recovered, logged and answered with 500.
//
// An HTTP/2 connection is served by package h2 (Sluice's own server: one
// reader goroutine per connection, a goroutine per stream, no request
// maps) on the hijacked connection, wrapped so that no stream handler
// writing late outlives the hijack (h2conn.go).
//
// Server is one entry point's HTTP/1.1 server. Each client connection holds
// a 4 KiB read buffer; one whose request header overflows it is moved, with
// the bytes already read, to a server with 64 KiB buffers, and from there to
// one whose buffers are the header limit (Traefik's 1 MiB by default), so
// large headers cost memory only on the connections that send them; a
// connection on the last of these servers closes after its response. A
// response longer than a connection's 4 KiB write buffer goes to the
// socket in one writev, not two writes (coalesce.go). A response written
// whole waits in the connection (a pollconn.Conn) and goes out from inside
// the wait for the next request, which so needs no read that finds
// nothing.
package fastpath
