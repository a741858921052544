package pipeline

import (
	"bytes"
	"io"
	"net/netip"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/h2"
	"github.com/sluiceproxy/sluice/fastpath/match"
)

// BeginHTTP1 fills x from an HTTP/1.1 request: In and Resp are the
// connection's, Out a copy of In's header with the entry point's
// pre-routing steps applied, In's body passed through. client is the
// socket peer and peer its text, which x may keep until Release (nil: x
// formats it). It returns false when the request is malformed (the caller
// answers 400).
func (x *Exchange) BeginHTTP1(ctx *fasthttp.RequestCtx, ep *EntryPoint, client netip.Addr, peer []byte) bool {
	x.ctx, x.In, x.Resp, x.EP = ctx, &ctx.Request, &ctx.Response, ep
	x.Req.ClientIP, x.peer = client, peer
	if peer == nil {
		x.peerBuf = client.AppendTo(x.peerBuf[:0])
		x.peer = x.peerBuf
	}
	in := &x.In.Header
	uri := in.RequestURI()
	hostHdr := in.Host()
	path, authority, abs := splitTarget(uri)
	host := hostHdr
	if abs && len(authority) > 0 {
		host = authority // Go: the absolute-form authority is req.Host
	}
	if len(hostHdr) == 0 && !abs && in.IsHTTP11() {
		return false // HTTP/1.1 without Host
	}
	if !match.ValidHostHeader(host) || !x.target(path, bytes.IndexByte(uri, '?') >= 0) {
		return false
	}
	x.conn = x.conn[:0]
	p := scanRequest(in, &x.conn)
	if p&badName != 0 {
		return false
	}
	if p&badTE != 0 && in.IsHTTP11() { // (HTTP/1.0's is ignored, as Go's server ignores it)
		x.badTE = true
		return false
	}
	out := &x.Out.Header
	in.CopyTo(out)
	if p&repeatedSingle != 0 {
		keepRepeated(in, out)
	}
	if abs && len(authority) > 0 {
		out.SetHostBytes(authority)
	}
	if x.In.IsBodyStream() && in.ContentLength() != 0 {
		// (A declared empty body is none: Traefik's proxy sends such a
		// request with no body, so Content-Length: 0 only for the
		// methods Go's transport sends it with.)
		x.body.r = x.In.BodyStream()
		x.Out.SetBodyStream(&x.body, in.ContentLength())
	}
	if p&anyManaged != 0 && !ep.Trusted(client) {
		x.deleteManaged()
	}
	x.finishBegin(host, p)
	return true
}

// BeginHTTP2 fills x from an HTTP/2 request and its body (In stays nil;
// Resp is x's own, which the front end writes once the handler returns).
// The host is :authority, or the host field without it (RFC 9113 section
// 8.3.1), as Go's server (Traefik's) takes it. The body is passed through
// as a stream. It returns false for a 400.
func (x *Exchange) BeginHTTP2(r *h2.Request, body io.Reader, ep *EntryPoint, client netip.Addr) bool {
	x.Resp, x.EP = &x.own, ep
	x.Req.ClientIP = client
	x.peerBuf = client.AppendTo(x.peerBuf[:0])
	x.peer = x.peerBuf
	x.authority = append(x.authority[:0], r.Authority...)
	host := x.authority
	if !match.ValidHostHeader(host) || !x.target(r.Path, bytes.IndexByte(r.Path, '?') >= 0) {
		return false
	}
	out := &x.Out.Header
	out.SetMethodBytes(r.Method)
	out.SetHostBytes(host)
	trusted := ep.Trusted(client)
	var p present
	crumbs := 0
	x.crumbs = x.crumbs[:0]
	for _, f := range r.Fields {
		if string(f.Name) == "cookie" {
			if crumbs++; crumbs > 1 {
				x.crumbs = append(x.crumbs, "; "...)
			}
			x.crumbs = append(x.crumbs, f.Value...)
			continue
		}
		x.buf = canonical(x.buf[:0], f.Name)
		bit := presentIn(x.buf)
		if bit&anyManaged != 0 && !trusted {
			continue
		}
		switch {
		case bit&p&hasUserAgent != 0:
			continue // Go's transport sends the first
		case bit&p&hasContentType != 0:
			addRawLine(out, x.buf, f.Value) // the first stays fasthttp's own
			continue
		}
		p |= bit
		out.AddBytesKV(x.buf, f.Value)
	}
	if crumbs > 0 {
		addRawLine(out, hdrCookie, x.crumbs)
	}
	if r.HasBody {
		x.body.r = body
		x.Out.SetBodyStream(&x.body, int(r.ContentLength))
	}
	x.finishBegin(host, p)
	return true
}

// An HTTP/2 request's cookie fields are given as Go's server (Traefik's)
// gives them to its handler: one Cookie line, the crumbs joined with "; "
// (RFC 9113 section 8.2.3), added raw (addRawLine).

// addRawLine adds a header line fasthttp would otherwise take apart: a
// Cookie added the usual way goes into its cookie jar and is forwarded
// re-serialised (pipeline/cookies.go), a second Content-Type replaces the
// first. With its special headers off for the call, fasthttp keeps the
// line among the others, as it keeps a line it parsed.
func addRawLine(out *fasthttp.RequestHeader, name, value []byte) {
	was := out.DisableSpecialHeader()
	out.AddBytesKV(name, value)
	if !was {
		out.EnableSpecialHeader()
	}
}

// canonical appends a lower-case field name in fasthttp's spelling
// (Content-Type), so presentIn finds it.
func canonical(dst, name []byte) []byte {
	up := true
	for _, c := range name {
		if up && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = c == '-'
		dst = append(dst, c)
	}
	return dst
}

// target computes the forward path (sanitised unless the entry point keeps
// it), the query with its semicolons rewritten, and the routing path, from
// a request path (query split off, as in path?query) and whether a '?'
// was present. It returns false for a path Traefik answers 400.
func (x *Exchange) target(pathQuery []byte, hasQuery bool) bool {
	return x.targetWith(pathQuery, hasQuery, !x.EP.KeepPath, true)
}

// targetWith is target with the entry point's choices given: sanitize the
// path, and rewrite the query's semicolons (else keep them).
func (x *Exchange) targetWith(pathQuery []byte, hasQuery, sanitize, semicolons bool) bool {
	path, query := pathQuery, []byte(nil)
	if i := bytes.IndexByte(pathQuery, '?'); i >= 0 {
		path, query = pathQuery[:i], pathQuery[i+1:]
	}
	var ok bool
	x.fwd, ok = match.AppendForwardPath(x.fwd[:0], path, sanitize)
	if !ok {
		return false
	}
	pathLen := len(x.fwd)
	x.semi = x.semi[:0]
	if semicolons && !x.EP.EncodeQuerySemicolons && bytes.IndexByte(query, ';') >= 0 {
		x.semi = append(x.semi, query...) // Traefik's RequestURI keeps them (RequestURIForMiddlewares)
	}
	if len(query) > 0 || hasQuery {
		x.fwd = append(x.fwd, '?')
		for _, c := range query {
			switch {
			case c != ';' || !semicolons:
				x.fwd = append(x.fwd, c)
			case x.EP.EncodeQuerySemicolons:
				x.fwd = append(x.fwd, "%3B"...)
			default:
				x.fwd = append(x.fwd, '&')
			}
		}
	}
	x.rpath = match.AppendRoutingPath(x.rpath[:0], x.fwd[:pathLen])
	x.Req.RawQuery = nil
	if pathLen < len(x.fwd) {
		x.Req.RawQuery = x.fwd[pathLen+1:]
	}
	return true
}

// splitTarget splits an origin-form or absolute-form request target.
func splitTarget(uri []byte) (path, authority []byte, abs bool) {
	i := bytes.Index(uri, []byte("://"))
	if i <= 0 || bytes.IndexByte(uri[:i], '/') >= 0 || uri[0] == '/' {
		return uri, nil, false
	}
	rest := uri[i+3:]
	end := bytes.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, path = rest[:end], rest[end:]
	if at := bytes.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	return path, authority, true
}

// finishBegin sets the routing view and Out's request line, and applies the
// forwarded headers (p: the headers present) for a request to host.
func (x *Exchange) finishBegin(host []byte, p present) {
	out := &x.Out.Header
	x.host = match.AppendCanonicalHost(x.host[:0], host)
	x.Req.Host, x.Req.Path, x.Req.Method = x.host, x.rpath, out.Method()
	x.Req.Headers = out
	x.forwarded(p, host)
	x.gzip = p&hasRange == 0 && !out.IsHead() && (p&hasAcceptEncoding == 0 || len(out.Peek("Accept-Encoding")) == 0)
	out.ResetConnectionClose()
	out.SetNoDefaultContentType(true) // no Content-Type the client did not send
	if !out.IsHTTP11() {
		out.SetProtocol("HTTP/1.1") // what Traefik sends any server, whatever the client spoke
	}
	x.Out.SetRequestURIBytes(x.fwd)
	x.Out.UseHostHeader = true
}

// Reroute recomputes the routing view from Out, as middlewares left it:
// a child router (multi-layer routing) matches the request its parent's
// middlewares passed on. It returns false for a path that is now invalid.
func (x *Exchange) Reroute() bool {
	out := &x.Out.Header
	x.buf = append(x.buf[:0], out.RequestURI()...)
	// Out's target is a forward path already: sanitised as the entry point
	// wants and its semicolons rewritten; only a middleware's own change
	// is new, and it is taken as the middleware wrote it.
	if !x.targetWith(x.buf, bytes.IndexByte(x.buf, '?') >= 0, false, false) {
		return false
	}
	x.host = match.AppendCanonicalHost(x.host[:0], out.Host())
	x.Req.Host, x.Req.Path, x.Req.Method = x.host, x.rpath, out.Method()
	return true
}
