package fastpath

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/http2"

	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// h2cPreface is what fasthttp has consumed of an HTTP/2 connection preface
// when it hands the "PRI * HTTP/2.0" request to the handler.
const h2cPreface = "PRI * HTTP/2.0\r\n\r\n"

// isH2CPreface: the connection opened with HTTP/2's preface (prior
// knowledge h2c, what gRPC clients send on plain entry points).
func isH2CPreface(ctx *fasthttp.RequestCtx) bool {
	hdr := &ctx.Request.Header
	return string(hdr.Method()) == "PRI" && string(hdr.RequestURI()) == "*"
}

// serveH2C hands the connection, preface restored, to an HTTP/2 server
// whose handler routes through the same table. HTTP/1.1 requests never
// come here, so they pay nothing for it.
func (h *Handler) serveH2C(ctx *fasthttp.RequestCtx) {
	peer := peerIP(ctx)
	sock := socketOf(ctx.Conn())
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		_ = c.SetDeadline(time.Time{}) // no reader yet: the wrappers' own state is cleared too
		hc := &h2Conn{c: c, sock: sock, pre: []byte(h2cPreface)}
		defer hc.finish()
		h.h2.ServeConn(hc, &http2.ServeConnOpts{Handler: h2Handler{h: h, peer: peer}, Context: context.Background()})
	})
}

// h2Handler serves one HTTP/2 connection's requests.
type h2Handler struct {
	h    *Handler
	peer netip.Addr
}

// httpHeaders lets the matchers read a net/http header.
type httpHeaders http.Header

func (hh httpHeaders) PeekAll(key string) [][]byte {
	vs := http.Header(hh).Values(key)
	out := make([][]byte, len(vs))
	for i, v := range vs {
		out[i] = []byte(v)
	}
	return out
}

// httpCookies lets sticky cookies be read from a net/http request.
type httpCookies struct{ r *http.Request }

func (c httpCookies) Cookie(name string) []byte {
	if ck, err := c.r.Cookie(name); err == nil {
		return []byte(ck.Value)
	}
	return nil
}

func (x h2Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := x.h
	var req match.Request
	fwd, ok := match.AppendForwardPath(nil, []byte(r.URL.EscapedPath()), !h.cfg.KeepPath)
	if !ok || !match.ValidHostHeader([]byte(r.Host)) {
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
		return
	}
	req.Path = match.AppendRoutingPath(nil, fwd)
	req.Host = match.AppendCanonicalHost(nil, []byte(r.Host))
	req.Method, req.RawQuery, req.ClientIP = []byte(r.Method), []byte(r.URL.RawQuery), x.peer
	req.Headers = httpHeaders(r.Header)
	var rt *route.Route
	if ix := h.table.Load().Index(h.cfg.Index); ix != nil {
		rt = ix.Lookup(&req)
	}
	if rt == nil {
		http.Error(w, strings.TrimSuffix(string(bodyNotFound), "\n"), http.StatusNotFound)
		return
	}
	var ch route.Choice
	rt.Choose(x.peer, httpCookies{r}, &ch)
	if ch.Server == nil {
		http.Error(w, strings.TrimSuffix(string(bodyNoServer), "\n"), http.StatusServiceUnavailable)
		return
	}
	for _, c := range ch.Set[:ch.NSet] {
		http.SetCookie(w, stickyHTTPCookie(c.Sticky, c.Value))
	}
	x.proxy(w, r, string(fwd), ch.Service, ch.Server)
}

func (x h2Handler) proxy(w http.ResponseWriter, r *http.Request, path string, svc *route.Service, srv *route.Server) {
	h, trusted := x.h, x.h.trusted(x.peer)
	if svc.Strategy == route.P2C || svc.Strategy == route.LeastTime {
		srv.Begin()
		defer srv.End()
	}
	rp := &httputil.ReverseProxy{
		Transport:     srv.Endpoint.RoundTripper(),
		FlushInterval: -1, // gRPC and event streams: every write at once
		Rewrite: func(pr *httputil.ProxyRequest) {
			if !trusted {
				for k := range pr.Out.Header {
					if isManaged([]byte(k)) {
						pr.Out.Header.Del(k)
					}
				}
			} else {
				pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			}
			pr.SetXForwarded()
			if pr.Out.Header.Get("X-Real-Ip") == "" {
				pr.Out.Header.Set("X-Real-Ip", x.peer.String())
			}
			scheme := srv.Endpoint.Scheme
			if scheme == "h2c" {
				scheme = "http"
			}
			pr.Out.URL.Scheme, pr.Out.URL.Host = scheme, srv.Endpoint.Addr
			pr.Out.URL.Path, pr.Out.URL.RawPath = "", path
			if p, err := url.PathUnescape(path); err == nil {
				pr.Out.URL.Path = p
			}
			pr.Out.Host = r.Host
			if !svc.PassHostHeader {
				pr.Out.Host = srv.Endpoint.Addr
			}
		},
		ModifyResponse: grpcTrailersOnly,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			srv.Passive.Fail(time.Now())
			status := http.StatusBadGateway
			if errors.Is(err, context.DeadlineExceeded) || upstream.IsTimeout(err) {
				status = http.StatusGatewayTimeout
			}
			h.log.Debug("upstream error", "entryPoint", h.cfg.EntryPoint, "server", srv.URL, "error", err)
			w.WriteHeader(status)
		},
	}
	rp.ServeHTTP(w, r)
}

// grpcTrailersOnly: a gRPC "trailers-only" answer (status in the only
// HEADERS frame) reaches the proxy as headers; relayed as headers, a flush
// can split them from the end of the stream and the client sees a stream
// without trailers. The status is moved to trailers, which the reverse
// proxy announces and sends last.
func grpcTrailersOnly(resp *http.Response) error {
	if resp.Header.Get("Grpc-Status") == "" || len(resp.Trailer) > 0 {
		return nil
	}
	resp.Trailer = http.Header{}
	for _, k := range []string{"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin"} {
		if v, ok := resp.Header[k]; ok {
			resp.Trailer[k] = v
			delete(resp.Header, k)
		}
	}
	return nil
}

// stickyHTTPCookie is setStickyCookie for net/http responses.
func stickyHTTPCookie(s *route.Sticky, value string) *http.Cookie {
	c := &http.Cookie{Name: s.Name, Value: value, Path: s.Path, Domain: s.Domain, Secure: s.Secure, HttpOnly: s.HTTPOnly}
	switch {
	case s.MaxAge > 0:
		c.MaxAge = s.MaxAge
	case s.MaxAge < 0:
		c.MaxAge = -1
	}
	switch s.SameSite {
	case "none":
		c.SameSite = http.SameSiteNoneMode
	case "lax":
		c.SameSite = http.SameSiteLaxMode
	case "strict":
		c.SameSite = http.SameSiteStrictMode
	}
	return c
}

// forwardNetHTTP forwards an HTTP/1.1 request to a server that speaks only
// HTTP/2 (scheme h2c) through the endpoint's net/http transport, with the
// headers prepare already rewrote; the response body is streamed back.
func (h *Handler) forwardNetHTTP(ctx *fasthttp.RequestCtx, st *state, svc *route.Service, srv *route.Server) {
	req := &ctx.Request
	var body io.Reader
	if bs := req.BodyStream(); bs != nil {
		body = bs
	} else if b := req.Body(); len(b) > 0 {
		body = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(context.Background(), string(req.Header.Method()), "http://"+srv.Endpoint.Addr+string(st.fwd), body)
	if err != nil {
		h.upstreamError(ctx, srv, err)
		return
	}
	for k, v := range req.Header.All() {
		if !bytes.EqualFold(k, []byte("Host")) {
			hr.Header.Add(string(k), string(v))
		}
	}
	hr.Host = string(req.Header.Host())
	if !svc.PassHostHeader {
		hr.Host = srv.Endpoint.Addr
	}
	if n := req.Header.ContentLength(); n >= 0 {
		hr.ContentLength = int64(n)
	}
	resp, err := srv.Endpoint.RoundTripper().RoundTrip(hr)
	if err != nil {
		h.upstreamError(ctx, srv, err)
		return
	}
	out := &ctx.Response
	out.SetStatusCode(resp.StatusCode)
	for k, vs := range resp.Header {
		for _, v := range vs {
			out.Header.Add(k, v)
		}
	}
	stripResponseHopHeaders(&out.Header)
	out.SetBodyStream(resp.Body, -1) // fasthttp closes it when done
}
