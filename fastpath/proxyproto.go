package fastpath

import (
	"bufio"
	"errors"
	"net"
	"net/netip"

	"github.com/pires/go-proxyproto"
)

// ProxyProtocol is an entry point's proxyProtocol: the PROXY protocol
// header (v1 or v2, github.com/pires/go-proxyproto, as Traefik) that a
// load balancer in front may send before a connection's first byte.
// From a trusted peer (Insecure: any) the header's source address becomes
// the client's; from another it is read and dropped, the socket's address
// kept; a connection without a header is served as it is; a malformed
// header fails the first read (fasthttp answers 400 and closes, as Go's
// server does in Traefik). These are Traefik's USE and IGNORE policies.
type ProxyProtocol struct {
	Insecure   bool
	TrustedIPs []netip.Prefix
}

// trusts reports whether the peer's header is believed.
func (pp *ProxyProtocol) trusts(peer net.Addr) bool {
	if pp.Insecure {
		return true
	}
	ip := addrPort(peer).Addr().Unmap()
	for _, p := range pp.TrustedIPs {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// readProxyHeader reads a PROXY header from c's socket, if one comes
// first, and fills p with the bytes that followed it (the rest kept in
// c.pre). It runs on a connection's first read, bounded by the read
// deadline fasthttp set for the first request (the entry point's
// readTimeout, which Traefik gives the header too).
func (c *spillConn) readProxyHeader(pp *ProxyProtocol, p []byte) (int, error) {
	br := bufio.NewReaderSize(c.Conn, 256)
	h, err := proxyproto.Read(br)
	switch {
	case errors.Is(err, proxyproto.ErrNoProxyProtocol):
	case err != nil:
		return 0, err
	case h.Command.IsProxy() && pp.trusts(c.Conn.RemoteAddr()):
		if src, ok := h.SourceAddr.(*net.TCPAddr); ok {
			c.remote = src
		}
	}
	rest, _ := br.Peek(br.Buffered())
	if len(rest) == 0 {
		return c.Conn.Read(p)
	}
	n := copy(p, rest)
	c.pre = append(c.pre[:0], rest[n:]...)
	return n, nil
}

// RemoteAddr is the client's address: a trusted PROXY header's source,
// else the socket's peer.
func (c *spillConn) RemoteAddr() net.Addr {
	if c.remote != nil {
		return c.remote
	}
	return c.Conn.RemoteAddr()
}
