package fastpath

import (
	"net/netip"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/accesslog"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// reqView is what the access log reads of a request as the client sent
// it, from either front end.
type reqView struct {
	method, uri, proto, host []byte
	peer                     netip.AddrPort
}

// logAccess hands the access log a record of the exchange, when its
// router logs (observability.accessLogs, else the entry point's default)
// and the filters keep it. It allocates nothing once the log's records
// are warm, unless header fields are configured.
func (h *Handler) logAccess(x *pipeline.Exchange, o *observation, v *reqView) {
	l := h.cfg.AccessLog
	if !x.AccessLogs.Metered(h.cfg.AccessLogOff) {
		return
	}
	d := time.Since(o.start)
	status := x.Resp.StatusCode()
	if !l.Keeps(status, x.Retries, d) {
		return
	}
	r := l.Record()
	if r == nil {
		return // the writer is behind: dropped, counted
	}
	r.Start, r.Duration, r.EntryPoint, r.Router = o.start, d, h.cfg.EntryPoint, x.RouterName
	if og := &x.Origin; og.Service != "" {
		r.Service, r.ServiceURL, r.OriginStatus, r.OriginSize, r.OriginDuration = og.Service, og.URL, og.Status, og.Size, og.Duration
	}
	r.Status, r.ReqSize, r.Retries, r.ChildRouter = status, int64(o.bodyBytes(x)), x.Retries, x.ChildRouter
	if user, ok := x.User(); ok {
		r.User, r.UserSet = append(r.User, user...), true
	}
	// the bytes written, as Traefik's capture counts them (a HEAD's too)
	r.Size = int64(max(x.Resp.Header.ContentLength(), 0))
	if !x.Resp.IsBodyStream() {
		r.Size = int64(len(x.Resp.Body()))
	}
	if t := x.TLS; t != nil {
		r.TLSVersion, r.TLSCipher = t.State.Version, t.State.CipherSuite
		if len(t.State.PeerCertificates) > 0 {
			r.ClientCert = t.State.PeerCertificates[0]
		}
	}
	r.Method = append(r.Method, v.method...)
	if t := x.ForwardTarget(); len(t) > 0 {
		r.URI = append(r.URI, t...) // as Traefik's URL after its entry point's sanitizing
	} else {
		r.URI = append(r.URI, v.uri...)
	}
	r.Proto = append(r.Proto, v.proto...)
	r.Host = append(r.Host, v.host...)
	r.ClientIP = v.peer.Addr().AppendTo(r.ClientIP)
	r.ClientPort = int(v.peer.Port())
	r.ForwardedFor = append(r.ForwardedFor, x.PriorForwardedFor()...)
	if l.Headers() {
		pipeline.EachRequestHeader(&x.Out.Header, r.ReqHeaders.Add)
		x.Resp.Header.VisitAll(r.RespHeaders.Add)
	}
	if x.Resp.IsBodyStream() {
		countStream(x.Resp, r, l, o.start)
		return
	}
	l.Submit(r)
}

// countedStream counts a streamed answer's bytes as they are sent and
// hands the access log its record when the stream ends: the size and
// duration of the whole answer, as Traefik's capture has them.
type countedStream struct {
	watched
	rec   *accesslog.Record
	log   *accesslog.Logger
	start time.Time
}

// originCounter is a stream that knows how much of what it gave was the
// server's answer as Traefik counts OriginContentSize (the grpcWeb
// middleware's, whose trailer frame comes after).
type originCounter interface{ OriginBytes() int64 }

var countedStreams = sync.Pool{New: func() any { return new(countedStream) }}

// countStream puts a countedStream around resp's body stream.
func countStream(resp *fasthttp.Response, rec *accesslog.Record, l *accesslog.Logger, start time.Time) {
	size := resp.Header.ContentLength()
	s := countedStreams.Get().(*countedStream)
	s.src, s.rec, s.log, s.start = upstream.TakeBody(resp), rec, l, start
	resp.SetBodyStream(s, size)
}

// Close ends the stream (fasthttp and the HTTP/2 front end close a
// response's stream once written, or abandoned) and submits the record.
func (s *countedStream) Close() error {
	if s.handover() {
		return nil
	}
	src := s.src
	err := src.Close()
	r := s.rec
	r.Size, r.Duration = s.n, time.Since(s.start)
	if r.Service != "" && r.OriginSize == 0 {
		r.OriginSize = s.n // the server's stream, of no declared length
		if o, ok := src.(originCounter); ok {
			r.OriginSize = o.OriginBytes()
		}
	}
	s.log.Submit(r)
	*s = countedStream{}
	countedStreams.Put(s)
	return err
}

var (
	protoHTTP2 = []byte("HTTP/2.0")
	protoHTTP1 = []byte("HTTP/1.1")
	protoHTTP0 = []byte("HTTP/1.0")
)

// view1 is an HTTP/1.x request's reqView.
func view1(ctx *fasthttp.RequestCtx) reqView {
	hd := &ctx.Request.Header
	proto := protoHTTP1
	if !hd.IsHTTP11() {
		proto = protoHTTP0
	}
	v := reqView{method: hd.Method(), uri: hd.RequestURI(), proto: proto, host: hd.Host()}
	if c, ok := ctx.Conn().(*spillConn); ok {
		v.peer = c.peerAddrPort(ctx) // worked out once per connection
	} else {
		v.peer = addrPort(ctx.RemoteAddr())
	}
	return v
}
