package service

import (
	"bytes"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// forward sends Out to srv over the endpoint's pooled connections and
// relays the answer into Resp.
func forward(x *pipeline.Exchange, lb *LoadBalancer, srv *Server) {
	out, resp, e := &x.Out, x.Resp, srv.Endpoint
	host := x.SetServerHost(lb.PassHostHeader, e.Addr)
	if e.Client.IsTLS {
		out.URI().SetSchemeBytes(schemeHTTPS) // the HostClient refuses a request whose scheme differs from its own
	}
	if e.AbsoluteForm() { // through an HTTP proxy (upstream/proxy.go)
		x.ProxyForm(e.Addr, e.ProxyAuthorization())
	}
	gz := askGzip(x)
	err := e.Do(out, resp)
	if e.AbsoluteForm() {
		x.UndoProxyForm(e.ProxyAuthorization())
	}
	x.RestoreHost(host)
	if err != nil {
		resp.Reset()
		upstreamError(x, srv, err)
		return
	}
	// fasthttp's parser drops a server's Date; HTTP servers with a clock
	// must send one (RFC 9110 section 6.6.1).
	x.MarkServerDate(true)
	if relayed(x) && gz {
		gunzipResponse(x)
	}
}

// relayed readies an upstream answer in Resp for the client: no
// Content-Type is added where the server sent none (Traefik adds none),
// hop-by-hop headers go, the status line is Sluice's own HTTP/1.1 (an intermediary
// sends its own version, RFC 9110 section 6.2; Traefik answers HTTP/1.1
// whatever the server spoke), the server's Connection: close stays with
// the server. It reports whether the answer has a Content-Encoding.
func relayed(x *pipeline.Exchange) (encoded bool) {
	h := &x.Resp.Header
	h.SetNoDefaultContentType(true) // a server that sent no Content-Type gets none invented
	encoded = pipeline.StripResponseHopHeaders(h)
	if !bytes.Equal(h.Protocol(), strHTTP11) {
		h.SetProtocol(strHTTP11)
	}
	h.ResetConnectionClose()
	return encoded
}

var (
	schemeHTTPS = []byte("https")
	strHTTP11   = []byte("HTTP/1.1")
)

// upstreamError answers 504 for a timeout, else 502, and counts the
// failure for the server's passive health check.
func upstreamError(x *pipeline.Exchange, srv *Server, err error) {
	srv.Passive.Fail(time.Now())
	x.MarkServerDate(false)
	x.MarkUnsent(upstream.NotSent(err))
	if upstream.IsTimeout(err) {
		x.RespondStatusText(fasthttp.StatusGatewayTimeout, pipeline.BodyGatewayTimeout)
	} else {
		x.RespondStatusText(fasthttp.StatusBadGateway, pipeline.BodyBadGateway)
	}
	x.EP.Log.Debug("upstream error", "entryPoint", x.EP.Name, "server", srv.URL, "error", err)
}
