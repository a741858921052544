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
