package pipeline

import (
	"bytes"
)

// forwarded applies, to Out, what Traefik's entry point
// (middlewares/forwardedheaders) and reverse proxy (net/http/httputil) do
// to a request's headers, in one pass: the headers named in Connection and
// the hop-by-hop set removed (an upgrade's Connection and Upgrade kept, Te
// kept as "trailers" when it holds it), X-Forwarded-For joined and the
// peer appended, X-Real-Ip, -Proto, -Host, -Port set where absent or
// empty, and X-Forwarded-Server. p says which of the headers it touches
// the request carries; headers it does not carry are neither looked up nor
// deleted. Managed headers of untrusted peers are already gone.
//
// Traefik appends the peer to X-Forwarded-For and drops hop-by-hop headers
// in its reverse proxy, after the middlewares; without middlewares that
// touch them the result is the same. The headers Connection names that the
// entry point keeps (forwardedHeaders.connection) stay for the router's
// rule and the middlewares, and go just before the request is sent
// (DropKeptConnection), as in Traefik.
func (x *Exchange) forwarded(p present, host []byte) {
	hdr := &x.Out.Header
	x.upgrade = x.upgrade[:0]
	teTrailers := p&hasTe != 0 && bytes.Contains(hdr.Peek("Te"), []byte("trailers"))
	if p&hasConnection != 0 {
		// Headers named in Connection go, then the hop-by-hop set. An
		// upgrade (WebSocket) survives, as in Go's reverse proxy: its
		// protocol is kept in x.upgrade and restored below.
		conn := x.conn // every line, as received (scanRequest)
		if x.In == nil {
			conn = hdr.Peek("Connection")
		}
		for tok, rest := nextToken(conn); tok != nil; tok, rest = nextToken(rest) {
			if len(x.upgrade) == 0 && bytes.EqualFold(tok, []byte("upgrade")) {
				x.upgrade = append(x.upgrade, hdr.Peek("Upgrade")...)
			}
			switch {
			case isManaged(tok):
				// Connection cannot remove the X- headers the entry
				// point manages (Traefik, after RFC 9110 section 7.6.1).
			case x.EP.keepsConnection(tok):
				x.kept = append(append(x.kept, tok...), ',')
			default:
				hdr.DelBytes(tok)
			}
		}
	}
	for i, k := range hopHeaders {
		if p&(1<<i) != 0 {
			hdr.Del(k)
		}
	}
	if teTrailers {
		hdr.SetCanonical(strTe, strTrailers)
	}
	x.setForwarded(p, host)
}

// setForwarded sets X-Forwarded-For (repeated lines joined, then the peer
// appended), X-Real-Ip, -Proto, -Host, -Port where absent or empty, and
// X-Forwarded-Server, restoring an upgrade's Connection and Upgrade.
func (x *Exchange) setForwarded(p present, host []byte) {
	hdr := &x.Out.Header
	x.buf = x.buf[:0]
	x.priorXFF = x.priorXFF[:0]
	if p&hasXFF != 0 {
		x.priorXFF = append(x.priorXFF, hdr.Peek("X-Forwarded-For")...)
		lines := 0
		for _, v := range hdr.PeekAll("X-Forwarded-For") {
			x.buf = append(append(x.buf, v...), ", "...)
			lines++
		}
		if lines > 1 { // SetCanonical replaces the first line only
			hdr.DelBytes(strXFF)
		}
	}
	switch {
	case !x.EP.NotAppendXFF:
		x.buf = append(x.buf, x.peer...)
		hdr.SetCanonical(strXFF, x.buf)
	case len(x.buf) > 0:
		hdr.SetCanonical(strXFF, x.buf[:len(x.buf)-len(", ")])
	}
	if p&hasXRealIP == 0 || len(hdr.Peek("X-Real-Ip")) == 0 {
		hdr.SetCanonical(strXRealIP, x.peer)
	}
	if len(x.upgrade) > 0 {
		hdr.Set("Connection", "Upgrade")
		hdr.SetBytesV("Upgrade", x.upgrade)
	}
	var proto []byte
	if p&hasXFProto != 0 {
		proto = hdr.Peek("X-Forwarded-Proto")
	}
	if len(proto) == 0 {
		ws := hasToken(x.upgrade, "websocket") // Traefik's scheme for WebSocket requests
		switch {
		case ws && x.TLS != nil:
			proto = strWSS
		case ws:
			proto = strWS
		case x.TLS != nil:
			proto = strHTTPS
		default:
			proto = strHTTP
		}
		hdr.SetCanonical(strXFProto, proto)
	}
	if (p&hasXFHost == 0 || len(hdr.Peek("X-Forwarded-Host")) == 0) && len(host) > 0 {
		hdr.SetCanonical(strXFHost, host)
	}
	if p&hasXFPort == 0 || len(hdr.Peek("X-Forwarded-Port")) == 0 {
		hdr.SetCanonical(strXFPort, x.forwardedPort(host, proto))
	}
	hdr.SetCanonical(strXFServer, x.EP.ServerName)
}

// forwardedPort is Traefik's X-Forwarded-Port: the Host's port, else 443
// for an https or wss request (its X-Forwarded-Proto, or TLS), else 80.
func (x *Exchange) forwardedPort(host, proto []byte) []byte {
	if p := hostPort(host); p != nil {
		return p
	}
	if string(proto) == "https" || string(proto) == "wss" || x.TLS != nil {
		return port443
	}
	return port80
}

// deleteManaged removes every managed header from Out, in any spelling.
// Names are collected first: fasthttp forbids deleting while visiting.
func (x *Exchange) deleteManaged() {
	hdr := &x.Out.Header
	x.buf = x.buf[:0]
	n := 0
	for k := range hdr.AllInOrder() {
		if isManaged(k) {
			x.buf = append(append(x.buf, k...), 0)
			n++
		}
	}
	for b := x.buf; n > 0; n-- {
		i := bytes.IndexByte(b, 0)
		hdr.DelBytes(b[:i])
		b = b[i+1:]
	}
}

// keepsConnection reports whether the entry point lets a header named in
// Connection through the middlewares (forwardedHeaders.connection).
func (ep *EntryPoint) keepsConnection(name []byte) bool {
	for _, k := range ep.KeepConnection {
		if len(k) == len(name) && bytes.EqualFold([]byte(k), name) {
			return true
		}
	}
	return false
}

// KeptConnection lists, comma-terminated, the headers the client's
// Connection named that the entry point kept for the middlewares; they
// are not the server's to see (DropKeptConnection).
func (x *Exchange) KeptConnection() []byte { return x.kept }

// DropKeptConnection removes from Out the headers kept by
// forwardedHeaders.connection: what Traefik's reverse proxy does with the
// Connection header its entry point left. Every send calls it.
func (x *Exchange) DropKeptConnection() {
	for tok, rest := nextToken(x.kept); tok != nil; tok, rest = nextToken(rest) {
		x.Out.Header.DelBytes(tok)
	}
}
