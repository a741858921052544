package pipeline

import (
	"bytes"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/obs"
	"github.com/sluiceproxy/sluice/fastpath/trace"
)

// EntryPoint is what the pipeline needs of one entry point, set once when
// it is opened. It is read concurrently and never written afterwards.
type EntryPoint struct {
	Name       string
	Index      int            // its index in route.Table
	TrustedIPs []netip.Prefix // peers whose X-Forwarded-* headers are kept
	Insecure   bool           // trust every peer's X-Forwarded-* headers
	// NotAppendXFF: X-Forwarded-For is passed as it came (its lines joined),
	// without the peer; absent, it stays absent (Traefik's
	// forwardedHeaders.notAppendXForwardedFor).
	NotAppendXFF bool
	// KeepConnection names the headers that a request's Connection header
	// may list and that still reach the router's rule and the middlewares
	// (forwardedHeaders.connection); they go before the request is sent.
	KeepConnection []string
	KeepPath       bool // http.sanitizePath=false
	// EncodeQuerySemicolons turns ';' in the query into %3B instead of '&'.
	EncodeQuerySemicolons bool
	ServerName            []byte       // X-Forwarded-Server
	Log                   *slog.Logger // never nil once the entry point serves
}

// Trusted reports whether ip's X-Forwarded-* headers are kept.
func (ep *EntryPoint) Trusted(ip netip.Addr) bool {
	if ep.Insecure {
		return true
	}
	for _, p := range ep.TrustedIPs {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ConnTLS is what a TLS connection's handshake decided, kept with the
// connection (one per connection, read by each of its requests).
type ConnTLS struct {
	// Option is the name of the TLS option the handshake used (Traefik's
	// TLS options name in the connection's context): a TLS router whose
	// own option differs answers 421.
	Option     string
	ServerName string // the SNI, as the client sent it
	State      tls.ConnectionState
}

// Exchange is one request's state: see the package documentation. The
// zero value is not usable; take one with Acquire.
type Exchange struct {
	In   *fasthttp.Request  // as the client sent it; read-only after Begin
	Out  fasthttp.Request   // the request to forward
	Resp *fasthttp.Response // the response to the client
	Req  match.Request      // the routing view; Headers is &Out.Header
	EP   *EntryPoint
	// TLS is the connection's TLS, or nil for a plain connection; set by
	// the front end before Begin, valid until Release.
	TLS *ConnTLS

	ctx *fasthttp.RequestCtx // the HTTP/1.1 connection's; nil otherwise
	own fasthttp.Response    // Resp when the front end has no response of its own

	peer      []byte // the client IP as text: the connection's, or peerBuf
	peerBuf   []byte
	host      []byte // the canonical host (Req.Host)
	fwd       []byte // the forward path, '?' and query
	rpath     []byte // the routing path (Req.Path)
	buf       []byte // scratch
	hostBuf   []byte // Out's Host while a send replaces it
	authority []byte // an HTTP/2 request's :authority
	crumbs    []byte // an HTTP/2 request's cookie fields, joined
	badTE     bool   // BeginHTTP1 refused a Transfer-Encoding (UnsupportedTE)
	conn      []byte // an HTTP/1.1 request's Connection lines, comma-joined
	uriBuf    []byte // Out's request URI while ProxyForm replaces it
	pathBuf   []byte // scratch of SetRequestPath
	priorXFF  []byte // the first X-Forwarded-For line the client sent (PriorForwardedFor)
	scratch   [6][]byte
	upgrade   []byte // the Upgrade protocol of a Connection: Upgrade request
	kept      []byte // headers Connection named that the entry point keeps (KeptConnection)
	semi      []byte // the client's query when it held ';' that fwd turned into '&' (RequestURIForMiddlewares)
	semiURI   []byte // RequestURIForMiddlewares' answer with semi

	gzip      bool    // Go's transport would ask the server for gzip (AsksGzip)
	gzipAdded bool    // Out carries the Accept-Encoding: gzip a send added (GzipAdded)
	decoded   bool    // Resp's body was decoded from the server's gzip (BodyDecoded)
	sniff     bool    // a contentType middleware lets Content-Type be sniffed (ContentSniffing)
	date      bool    // Resp is a server's answer that carried a Date (ServerDate)
	unsent    bool    // Resp is an error answered before the request reached a server (Unsent)
	routed    Handler // the matched router's handler, for entry point middlewares (Routed)
	ends      []Ender // run once the exchange is over (AtEnd)

	// ObsRouter and ObsService are the metrics handles of the router that
	// served and its service (nil: metrics off), counted by the front end
	// once the answer is made.
	ObsRouter, ObsService *obs.Handle
	// Metrics is the served router's switch (Off also for the internal
	// routers Traefik does not meter); AccessLogs and Tracing its access
	// log and tracing switches.
	Metrics, AccessLogs, Tracing obs.Toggle
	// Trace is the request's trace when it is traced (nil: not).
	Trace *trace.Request
	// RouterName is the router that served ("": none), and ChildRouter
	// its child router that did (multi-layer routing), for the access log.
	RouterName, ChildRouter string
	// Logged: the access log wants Origin, which load balancers fill
	// with the server that answered. Retries counts the retry
	// middleware's extra tries.
	Logged  bool
	Origin  Origin
	Retries int
	user    []byte // the name basicAuth read (ClientUsername), when userSet
	userSet bool
	// bodyRead: the request body was read (MarkBodyRead)
	bodyRead bool

	body     streamView // Out's body stream: In's, without its Close
	held     []byte     // a body read whole by HoldBody (or an HTTP/2 body)
	heldDone bool       // HoldBody ran: held (or Out's raw body) is the whole body

}

// Origin is the server that answered an exchange, as the access log
// names it (Traefik's ServiceName, ServiceURL, Origin* fields).
type Origin struct {
	Service, URL string
	Status       int
	Size         int64
	Duration     time.Duration
}

var exchanges = sync.Pool{New: func() any { return new(Exchange) }}

// Acquire returns an empty Exchange from the pool.
func Acquire() *Exchange { return exchanges.Get().(*Exchange) }

// Release returns x to the pool. Nothing of x may be used afterwards.
func Release(x *Exchange) {
	if len(x.ends) > 0 {
		x.endsAfterAnswer()
	}
	x.Out.Reset()
	x.own.Reset()
	x.Req.Reset()
	x.In, x.Resp, x.EP, x.ctx, x.TLS = nil, nil, nil, nil, nil
	x.peer, x.upgrade, x.kept, x.body, x.semi = nil, x.upgrade[:0], x.kept[:0], streamView{}, x.semi[:0]
	x.held, x.heldDone, x.gzip, x.gzipAdded, x.decoded, x.sniff = x.held[:0], false, false, false, false, false
	x.routed, x.date, x.unsent, x.badTE = nil, false, false, false
	x.ObsRouter, x.ObsService, x.Metrics, x.AccessLogs, x.RouterName, x.ChildRouter = nil, nil, obs.Inherit, obs.Inherit, "", ""
	x.Logged, x.Origin, x.Retries, x.user, x.userSet, x.bodyRead = false, Origin{}, 0, x.user[:0], false, false
	x.Tracing, x.Trace = obs.Inherit, nil
	exchanges.Put(x)
}

// streamView reads a body stream without passing Close on: the stream is
// its owner's (fasthttp closes a request's when the request ends). failed
// records a read that ended in an error other than EOF (a malformed chunk,
// a client gone): the connection's framing is then unknown, and it must
// not carry another request. n counts the bytes read through it.
type streamView struct {
	r      io.Reader
	failed bool
	n      int64
}

func (s *streamView) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if err != nil && err != io.EOF {
		s.failed = true
	}
	return n, err
}

// BodyLen is how much of the request body went on: the bytes read from
// Out's stream (fasthttp drops a stream from the request once sent), or
// the length of the body Out holds. The access log and metrics count it
// for a body of no declared length (chunked, or HTTP/2 without
// content-length), as Traefik counts the bytes read.
func (x *Exchange) BodyLen() int64 {
	if x.body.n > 0 {
		return x.body.n
	}
	return int64(len(x.Out.Body()))
}

// SetUser records the user name an auth middleware read from the
// request (the access log's ClientUsername; "" when it had none).
func (x *Exchange) SetUser(name []byte) { x.user, x.userSet = append(x.user[:0], name...), true }

// User is the name SetUser recorded, and whether one was.
func (x *Exchange) User() ([]byte, bool) { return x.user, x.userSet }

// MarkBodyRead records that the request body was read: sent to a server,
// or read by a middleware (to hold it, or to send it elsewhere),
// whatever the answer.
func (x *Exchange) MarkBodyRead() { x.bodyRead = true }

// BodyRead reports whether MarkBodyRead was called. Traefik's access log
// and metrics count the body bytes its handlers read, so an answer given
// before that (a redirect, a refusal, a 413 on the declared length)
// counts none.
func (x *Exchange) BodyRead() bool { return x.bodyRead }

// ForwardTarget is the request target as the entry point forwards it,
// before any middleware: the path sanitized (unless the entry point
// keeps it) and the query with its semicolons rewritten.
func (x *Exchange) ForwardTarget() []byte { return x.fwd }

// RequestURIForMiddlewares is the request URI as Traefik's middlewares
// read it (req.RequestURI, what its redirects rebuild): Out's, but with
// the query's semicolons as the client sent them, since Traefik turns them
// into '&' only in the URL it forwards (with encodeQuerySemicolons, the
// %3B is in both). It is Out's own bytes unless the query held a ';'
// (then a buffer of x's), valid until Out's URI or x changes.
func (x *Exchange) RequestURIForMiddlewares() []byte {
	uri := x.Out.Header.RequestURI()
	if len(x.semi) == 0 {
		return uri
	}
	i := bytes.IndexByte(uri, '?')
	if i < 0 {
		return uri
	}
	x.semiURI = append(append(x.semiURI[:0], uri[:i+1]...), x.semi...)
	return x.semiURI
}

// Ctx is the HTTP/1.1 connection's request context, or nil.
func (x *Exchange) Ctx() *fasthttp.RequestCtx { return x.ctx }

// Peer is the client IP as text (X-Forwarded-For, X-Real-Ip).
func (x *Exchange) Peer() []byte { return x.peer }

// PriorForwardedFor is the first X-Forwarded-For line of the request as
// Traefik's middlewares see it: the client's (a trusted peer's), before
// the proxy appends the peer; empty when there is none.
func (x *Exchange) PriorForwardedFor() []byte { return x.priorXFF }

// Upgrade is the protocol of a Connection: Upgrade request (WebSocket),
// or nil.
func (x *Exchange) Upgrade() []byte {
	if len(x.upgrade) == 0 {
		return nil
	}
	return x.upgrade
}

// Hijack hands the client connection to fn after the response is written
// (HTTP/1.1 only: an upgrade). It reports false where the front end
// cannot.
func (x *Exchange) Hijack(fn func(net.Conn)) bool {
	if x.ctx == nil {
		return false
	}
	if len(x.ends) > 0 {
		x.endsAtClose()
	}
	x.ctx.Hijack(func(c net.Conn) {
		// The request's read deadline (the entry point's readTimeout)
		// must not cut the upgraded connection, as Traefik's does not.
		_ = c.SetDeadline(time.Time{})
		fn(c)
	})
	return true
}

// CloseAfter closes the client connection after this response (HTTP/1.1).
func (x *Exchange) CloseAfter() {
	if x.ctx != nil {
		x.ctx.SetConnectionClose()
	}
}

// SetServerHost gives Out the Host to send to one server: the server's
// address when passHost is off, or when the request has no Host (an
// HTTP/1.0 request, which Go's transport, and so Traefik, sends with the
// server's address). It reports whether RestoreHost must put Out's own
// back after the send.
func (x *Exchange) SetServerHost(passHost bool, addr string) bool {
	h := &x.Out.Header
	if passHost && len(h.Host()) > 0 {
		return false
	}
	x.hostBuf = append(x.hostBuf[:0], h.Host()...)
	h.SetHost(addr)
	return true
}

// RestoreHost undoes SetServerHost when it reported true.
func (x *Exchange) RestoreHost(set bool) {
	if set {
		x.Out.Header.SetHostBytes(x.hostBuf)
	}
}

// ProxyForm puts Out's request line in absolute form for an HTTP proxy
// ("GET http://addr/path"), with auth, if not empty, as its
// Proxy-Authorization, for the time of one send; UndoProxyForm puts it
// back.
func (x *Exchange) ProxyForm(addr, auth string) {
	x.uriBuf = append(x.uriBuf[:0], x.Out.Header.RequestURI()...)
	x.buf = append(append(append(x.buf[:0], "http://"...), addr...), x.uriBuf...)
	x.Out.SetRequestURIBytes(x.buf)
	if auth != "" {
		x.Out.Header.Set("Proxy-Authorization", auth)
	}
}

// UndoProxyForm undoes ProxyForm.
func (x *Exchange) UndoProxyForm(auth string) {
	x.Out.SetRequestURIBytes(x.uriBuf)
	if auth != "" {
		x.Out.Header.Del("Proxy-Authorization")
	}
}

// AsksGzip reports whether a send of Out would carry Accept-Encoding: gzip
// through Go's transport (Traefik's): the request names no encoding (an
// empty one counts as none), no Range, and is not a HEAD. It is decided
// from the headers as Begin found them; HeadersEdited decides again.
func (x *Exchange) AsksGzip() bool { return x.gzip }

// GzipAdded reports whether Out carries an Accept-Encoding: gzip that a
// send added (MarkGzipAdded), not the client: its answers are decoded.
func (x *Exchange) GzipAdded() bool { return x.gzipAdded }

// MarkGzipAdded records that a send added Accept-Encoding: gzip to Out.
// It stays for later sends (a replay, a mirror), which Go's transport
// would each ask gzip for too; middlewares, which run before the first
// send, never see it.
func (x *Exchange) MarkGzipAdded() { x.gzipAdded = true }

// BodyDecoded reports whether Resp's body is the server's gzip answer
// decoded (MarkBodyDecoded): Traefik's transport then reports its length
// as unknown, whatever Resp holds, and its proxy flushes as it writes.
func (x *Exchange) BodyDecoded() bool { return x.decoded }

// MarkBodyDecoded records that Resp's body was decoded.
func (x *Exchange) MarkBodyDecoded() { x.decoded = true }

// Routed is the handler of the router the request matched, which an
// entry point's middlewares serve in front of (SetRouted).
func (x *Exchange) Routed() Handler { return x.routed }

// SetRouted records the matched router's handler.
func (x *Exchange) SetRouted(h Handler) { x.routed = h }

// ContentSniffing reports whether a contentType middleware serves this
// request (EnableContentSniffing): Traefik otherwise marks every answer's
// Content-Type as "not to be sniffed", which middlewares that would set
// a sniffed one (compress's gzhttp) respect.
func (x *Exchange) ContentSniffing() bool { return x.sniff }

// EnableContentSniffing records that a contentType middleware serves
// the request.
func (x *Exchange) EnableContentSniffing() { x.sniff = true }

// ServerDate reports whether Resp is a server's answer with a Date
// header (MarkServerDate). Sluice's answers carry the front end's Date
// (fasthttp drops a server's when it parses it), where Traefik's proxy
// passes the server's on: a middleware that lists the answer's header
// names (grpcWeb) asks this.
func (x *Exchange) ServerDate() bool { return x.date }

// Unsent reports whether Resp is the error answer to a request that never
// reached a server (the connection could not be made): what Traefik's
// retry middleware retries on a network error.
func (x *Exchange) Unsent() bool { return x.unsent }

// MarkUnsent records whether Resp answers a request that was not sent.
func (x *Exchange) MarkUnsent(v bool) { x.unsent = v }

// MarkServerDate records whether the server's answer carried a Date.
func (x *Exchange) MarkServerDate(sent bool) { x.date = sent }

// HeadersEdited tells x that Out's headers were changed (a middleware, or
// retry putting them back as they were before a try): what Begin found
// of them is found again, and an Accept-Encoding a send added and that is
// gone is added again by the next send.
func (x *Exchange) HeadersEdited() {
	h := &x.Out.Header
	ae := len(h.Peek("Accept-Encoding")) > 0
	if x.gzipAdded && !ae {
		x.gzipAdded = false
	}
	if x.gzipAdded {
		return // the gzip is ours: the client asked none
	}
	x.gzip = !ae && len(h.Peek("Range")) == 0 && !h.IsHead()
}
