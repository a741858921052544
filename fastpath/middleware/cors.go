package middleware

import (
	"bytes"
	"regexp"
	"slices"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// customHeaders is the custom-headers-and-CORS half of Headers (Traefik's
// Header handler): it answers CORS preflights, edits the request before
// the rest of the chain and the response after it.
type customHeaders struct {
	req, resp []field // custom headers; an empty value removes
	reqXFF    []int   // indexes in req whose name was X-Forwarded-For exactly

	cors, creds                bool
	allowHeaders, allowMethods []byte
	headersStar, methodsStar   bool
	origins                    [][]byte
	originREs                  []*regexp.Regexp
	expose                     []byte // nil: no Access-Control-Expose-Headers
	maxAge                     []byte
	vary                       bool
}

// Header names the CORS half writes, canonical.
var (
	hdrACAC   = []byte("Access-Control-Allow-Credentials")
	hdrACAH   = []byte("Access-Control-Allow-Headers")
	hdrACAM   = []byte("Access-Control-Allow-Methods")
	hdrACAO   = []byte("Access-Control-Allow-Origin")
	hdrACMA   = []byte("Access-Control-Max-Age")
	hdrACEH   = []byte("Access-Control-Expose-Headers")
	hdrACRM   = []byte("Access-Control-Request-Method")
	hdrACRH   = []byte("Access-Control-Request-Headers")
	hdrOrigin = []byte("Origin")
	hdrVary   = []byte("Vary")
	hdrXFF    = []byte("X-Forwarded-For")
	valTrue   = []byte("true")
)

func newCustom(h *Headers) (*customHeaders, error) {
	c := &customHeaders{cors: h.hasCORS(), creds: h.AccessControlAllowCredentials, vary: h.AddVaryHeader, maxAge: maxAge(h.AccessControlMaxAge)}
	var err error
	if c.req, err = headerFields("customRequestHeaders", h.CustomRequestHeaders); err != nil {
		return nil, err
	}
	if c.resp, err = headerFields("customResponseHeaders", h.CustomResponseHeaders); err != nil {
		return nil, err
	}
	for i, f := range c.req {
		if _, exact := h.CustomRequestHeaders["X-Forwarded-For"]; exact && bytes.Equal(f.name, hdrXFF) {
			c.reqXFF = append(c.reqXFF, i)
		}
	}
	if c.originREs, err = compileOrigins(h.AccessControlAllowOriginListRegex); err != nil {
		return nil, err
	}
	for _, o := range h.AccessControlAllowOriginList {
		c.origins = append(c.origins, []byte(o))
	}
	c.allowHeaders, c.headersStar = joinHeader(h.AccessControlAllowHeaders)
	c.allowMethods, c.methodsStar = joinHeader(h.AccessControlAllowMethods)
	if exp, star := joinHeader(h.AccessControlExposeHeaders); len(h.AccessControlExposeHeaders) > 0 && !(star && c.creds) {
		c.expose = exp
	}
	return c, nil
}

// names are the response fields c may set.
func (c *customHeaders) names() [][]byte {
	n := [][]byte{hdrACAO, hdrACAC, hdrACEH, hdrVary}
	for _, f := range c.resp {
		n = append(n, f.name)
	}
	return n
}

// preflight answers a CORS preflight request (OPTIONS with Origin and
// Access-Control-Request-Method): 200, no body, the CORS headers.
func (c *customHeaders) preflight(x *pipeline.Exchange) bool {
	in := &x.Out.Header
	acrm, origin := in.PeekBytes(hdrACRM), in.PeekBytes(hdrOrigin)
	if len(acrm) == 0 || len(origin) == 0 || !in.IsOptions() {
		return false
	}
	out := &x.Resp.Header
	if c.creds {
		out.SetCanonical(hdrACAC, valTrue)
	}
	if c.headersStar && c.creds {
		if acrh := in.PeekBytes(hdrACRH); len(acrh) > 0 {
			out.SetCanonical(hdrACAH, acrh)
		}
	} else if len(c.allowHeaders) > 0 {
		out.SetCanonical(hdrACAH, c.allowHeaders)
	}
	if c.methodsStar && c.creds {
		out.SetCanonical(hdrACAM, acrm)
	} else if len(c.allowMethods) > 0 {
		out.SetCanonical(hdrACAM, c.allowMethods)
	}
	if m, ok := c.matchOrigin(origin); ok {
		out.SetCanonical(hdrACAO, m)
	}
	if c.maxAge != nil {
		out.SetCanonical(hdrACMA, c.maxAge)
	}
	if c.expose != nil {
		out.SetCanonical(hdrACEH, c.expose)
	}
	x.Resp.SetStatusCode(200)
	out.SetNoDefaultContentType(true)
	x.Resp.ResetBody()
	out.SetContentLength(0)
	return true
}

// request applies the custom request headers: an empty value removes
// the header (X-Forwarded-For, named exactly so, then is not sent at
// all), Host sets the request's host, a value replaces the header.
// X-Forwarded-For is Sluice's already: what Go's reverse proxy would make
// of it (the value, then the client) is written here.
func (c *customHeaders) request(x *pipeline.Exchange) {
	h := &x.Out.Header
	for i, f := range c.req {
		switch {
		case bytes.Equal(f.name, hdrXFF):
			c.forwardedFor(x, i, f.value)
		case len(f.value) == 0:
			h.DelBytes(f.name)
		case bytes.EqualFold(f.name, []byte("Host")):
			h.SetHostBytes(f.value)
		default:
			pipeline.SetRequest(h, f.name, f.value)
		}
	}
}

// forwardedFor is a custom X-Forwarded-For: removed (nil in Go's header,
// which its proxy leaves out), or the value and the client.
func (c *customHeaders) forwardedFor(x *pipeline.Exchange, i int, v []byte) {
	h := &x.Out.Header
	if len(v) == 0 {
		if slices.Contains(c.reqXFF, i) {
			h.DelBytes(hdrXFF)
			return
		}
		h.SetCanonical(hdrXFF, x.Peer())
		return
	}
	buf := append(append(append((*x.Scratch(bufHeader))[:0], v...), ", "...), x.Peer()...)
	*x.Scratch(bufHeader) = buf
	h.SetCanonical(hdrXFF, buf)
}

// response applies the custom response headers and the CORS ones, to
// whatever answered: a server, or a middleware after this one.
func (c *customHeaders) response(x *pipeline.Exchange, rep bool) {
	out := &x.Resp.Header
	for _, f := range c.resp {
		if len(f.value) == 0 {
			out.DelBytes(f.name)
		} else {
			pipeline.SetResponse(out, f.name, f.value, rep)
		}
	}
	if len(c.origins) > 0 || len(c.originREs) > 0 {
		if m, ok := c.matchOrigin(peekCanonical(&x.Out.Header, hdrOrigin)); ok {
			pipeline.SetResponse(out, hdrACAO, m, rep)
		}
	}
	if c.creds {
		pipeline.SetResponse(out, hdrACAC, valTrue, rep)
	}
	if c.expose != nil {
		pipeline.SetResponse(out, hdrACEH, c.expose, rep)
	}
	if !c.vary {
		return
	}
	v := out.PeekBytes(hdrVary)
	if string(v) == "Origin" {
		return
	}
	buf := append((*x.Scratch(bufHeader))[:0], v...)
	if len(v) > 0 {
		buf = append(buf, ',')
	}
	buf = append(buf, "Origin"...)
	*x.Scratch(bufHeader) = buf
	pipeline.SetResponse(out, hdrVary, buf, rep)
}

// matchOrigin is Traefik's: the first listed origin equal to the
// request's, or "*" (the request's origin when credentials are allowed),
// else the request's origin if a regex matches it.
func (c *customHeaders) matchOrigin(origin []byte) ([]byte, bool) {
	for _, o := range c.origins {
		switch {
		case bytes.Equal(o, origin):
			return o, true
		case string(o) == "*":
			if c.creds {
				return origin, true
			}
			return o, true
		}
	}
	for _, re := range c.originREs {
		if re.Match(origin) {
			return origin, true
		}
	}
	return nil, false
}
