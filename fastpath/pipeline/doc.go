// Package pipeline is the one request pipeline every front end feeds:
// entry point -> router -> middlewares -> service -> server choice ->
// forward, as Traefik orders them.
//
// An Exchange is one request's state, pooled. A front end (HTTP/1.1 or
// HTTP/2) fills it with Begin*, which applies the entry point's
// pre-routing steps: the request target and Host checked (a 400
// otherwise), the path normalised and sanitised, the query's semicolons
// rewritten, and the forwarded headers set as Traefik's entry point and
// reverse proxy set them. Three views are kept apart:
//
//   - In, the request as the client sent it, never written after Begin;
//   - Out, the request to forward: a copy of In's header with the
//     forwarded headers applied and the body passed through (not copied).
//     Middlewares edit Out; services send it, setting what is proper to one
//     server (its Host when passHostHeader is off) only for the time of the
//     send, so a replay (failover, mirror) starts from Out as the
//     middlewares left it;
//   - Resp, the response to the client (the connection's own for
//     HTTP/1.1, the Exchange's for HTTP/2, written by the front end after
//     the handler returns).
//
// Out's Cookie lines go to the server as the client sent them: nothing
// reads Out's cookies or walks all its headers through fasthttp's own
// calls (Cookie, All, VisitAll), which would make fasthttp forward its
// re-serialised cookie jar instead; RequestCookie and EachRequestHeader
// are the ways (cookies.go).
//
// Req is the routing view (canonical host, routing path, method, query,
// the headers of Out, the client IP) the matchers read.
//
// A Handler serves an Exchange. Routers, middlewares and services are
// Handlers built once per routing table (a Middleware is called when the
// table is built, never per request) and safe for concurrent use; a
// handler does its work on the Exchange and returns when the response is
// in Resp. An Exchange is owned by one goroutine, valid from Acquire until
// Release, and must not be retained after the handler returns: a copy that
// outlives it (a mirror) is made with Clone.
package pipeline
