//go:build linux

package main

import (
	"context"
	"net"
	"syscall"
)

// listenTCP is net.Listen("tcp", addr) for an entry point, made cheaper
// per connection for clients that do not keep connections alive (each of
// their requests pays for a connection: 16 syscalls a request with
// net.Listen, 11 now).
//
//   - The same TCP keep-alive on every accepted connection (Go's
//     defaults: probes after 15 s idle, every 15 s, 9 of them), set once
//     on the listening socket rather than on each connection. Linux gives
//     an accepted socket its listener's keep-alive settings, so Go's four
//     setsockopt calls per connection are not needed.
//   - TCP_DEFER_ACCEPT (as nginx's "deferred" and HAProxy's
//     "defer-accept"): a connection is accepted when its first bytes have
//     come, so the first read finds them instead of finding nothing and
//     waiting (two syscalls and a wake-up saved, in 65% of connections
//     under wrk). HTTP's client speaks first; a client that connects and
//     sends nothing is accepted after about deferAcceptSeconds anyway.
func listenTCP(addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1, Control: listenerOptions}
	return lc.Listen(context.Background(), "tcp", addr)
}

// Go's default keep-alive (net.KeepAliveConfig's zero values).
const (
	keepAliveIdleSeconds     = 15
	keepAliveIntervalSeconds = 15
	keepAliveCount           = 9
	deferAcceptSeconds       = 1
)

func listenerOptions(_, _ string, c syscall.RawConn) error {
	var err error
	ctrl := c.Control(func(fd uintptr) {
		for _, o := range []struct{ level, opt, v int }{
			{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
			{syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, keepAliveIdleSeconds},
			{syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, keepAliveIntervalSeconds},
			{syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, keepAliveCount},
			{syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, deferAcceptSeconds},
		} {
			if err == nil {
				err = syscall.SetsockoptInt(int(fd), o.level, o.opt, o.v)
			}
		}
	})
	if ctrl != nil {
		return ctrl
	}
	return err
}
