// Package upstream holds long-lived upstream endpoints keyed by address.
//
// An Endpoint owns a pool of keep-alive connections (a fasthttp.HostClient)
// to one scheme://host:port. Endpoints are handed out by a Registry, so a new
// routing table that points at an address already in use reuses the same
// Endpoint and its warm connections: pools survive table swaps. The Registry
// is used by the control plane only (Get, Prune); Endpoint methods are safe
// for concurrent use on the request path.
//
// Plain TCP connections are dialled as pollconn.Conn, which sends a
// request's last write from inside the wait for its answer and so saves the
// read that would find nothing (see fastpath/pollconn for why that is safe).
//
// The pool hands out the idle connection released last, as Go's
// http.Transport does, and a request never goes out on a connection the
// server closed while it sat idle: one quiet for over pollconn.ProbeAfter
// is peeked at first (pollconn.Stale), and a closed one is dropped for
// another before anything is written, so a request that cannot be sent
// again (a POST) does not fail for it. For a TLS connection the TCP
// connection under it is checked.
//
// A server's informational answers before its response (103 Early Hints)
// go to the request's Interim (SetInterim), if the front end gave one; the
// response is what Do reads into resp.
package upstream
