package middleware

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// ForwardAuth is Traefik's forwardAuth middleware (pkg/middlewares/auth/
// forward.go): each request is first asked of an authentication server
// (GET Address, or the request's method with PreserveRequestMethod), with
// the request's headers and X-Forwarded-Method, -Proto, -Host, -Uri and
// -For as Traefik writes them. A 2xx lets the request go on, carrying
// AuthResponseHeaders (and those matching AuthResponseHeadersRegex) of the
// answer; anything else is the answer to the client, as the server wrote
// it (its Location made absolute unless PreserveLocationHeader; a 401
// becomes a 302 to AuthSigninURL when one is set). An unreachable server
// is a 500. Client is the HTTP client (its transport pools connections to
// the server, and holds the TLS settings).
type ForwardAuth struct {
	Address                  string
	TrustForwardHeader       *bool // nil: Traefik's older header handling
	AuthResponseHeaders      []string
	AuthResponseHeadersRegex string
	AuthRequestHeaders       []string
	AddAuthCookiesToResponse []string
	ForwardBody              bool
	MaxBodySize              int64 // -1: no limit (Traefik's default)
	MaxResponseBodySize      int64 // -1: no limit
	PreserveLocationHeader   bool
	PreserveRequestMethod    bool
	AuthSigninURL            string
	Client                   *http.Client
}

// forwardAuth is a built ForwardAuth.
type forwardAuth struct {
	ForwardAuth
	respRE      *regexp.Regexp
	cookies     map[string]bool
	reqHeaders  []string // AuthRequestHeaders, with Traefik's X- headers when trusted
	respHeaders []string // canonical AuthResponseHeaders
	logAddress  string   // Address without its password, for logs
	url         *url.URL // Address, parsed once (read-only: shared by requests)
}

// Middleware builds it, with Traefik's validation.
func (f ForwardAuth) Middleware() (pipeline.Middleware, error) {
	a, err := f.build()
	if err != nil {
		return nil, err
	}
	return a.wrap, nil
}

func (f ForwardAuth) build() (*forwardAuth, error) {
	if f.Address == "" {
		return nil, errors.New("forward authentication requires an address")
	}
	if f.Client == nil {
		return nil, errors.New("no client")
	}
	a := &forwardAuth{ForwardAuth: f, cookies: map[string]bool{}, reqHeaders: f.AuthRequestHeaders, logAddress: "(unparsable)"}
	if u, err := url.Parse(f.Address); err == nil {
		a.logAddress, a.url = u.Redacted(), u
	}
	if f.AuthResponseHeadersRegex != "" {
		re, err := regexp.Compile(f.AuthResponseHeadersRegex)
		if err != nil {
			return nil, fmt.Errorf("error compiling regular expression %s: %w", f.AuthResponseHeadersRegex, err)
		}
		a.respRE = re
	}
	for _, c := range f.AddAuthCookiesToResponse {
		a.cookies[c] = true
	}
	if f.TrustForwardHeader != nil && *f.TrustForwardHeader && len(a.reqHeaders) > 0 {
		a.reqHeaders = append(slices.Clone(a.reqHeaders), managedXHeaders...)
	}
	for _, h := range f.AuthResponseHeaders {
		a.respHeaders = append(a.respHeaders, http.CanonicalHeaderKey(h))
	}
	return a, nil
}

// managedXHeaders are the X- headers Traefik manages
// (forwardedheaders.XHeadersSet).
var managedXHeaders = []string{"X-Forwarded-Proto", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Port",
	"X-Forwarded-Server", "X-Forwarded-Uri", "X-Forwarded-Method", "X-Forwarded-Prefix",
	"X-Forwarded-Tls-Client-Cert", "X-Forwarded-Tls-Client-Cert-Info", "X-Real-Ip"}

// hopByHop are the headers Traefik leaves out of the auth request and of
// an auth answer passed to the client.
var hopByHop = []string{"Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (a *forwardAuth) wrap(next pipeline.Handler) pipeline.Handler {
	return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
		req, ok := a.authRequest(x)
		if !ok {
			return
		}
		resp, err := a.Client.Do(req)
		if err != nil {
			x.EP.Log.Error("forwardAuth: error calling the authentication server", "address", a.logAddress, "error", redactedErr(err, a.Address, a.logAddress))
			answerEmpty(x, 500)
			return
		}
		body, err := readLimited(resp.Body, a.MaxResponseBodySize)
		resp.Body.Close()
		switch {
		case errors.Is(err, errTooLarge):
			answerEmpty(x, 401)
			return
		case err != nil:
			answerEmpty(x, 500)
			return
		}
		if a.AuthSigninURL != "" && resp.StatusCode == 401 {
			answerRedirect(x, a.AuthSigninURL, 302)
			return
		}
		if resp.StatusCode < 200 || resp.StatusCode >= 300 {
			a.answerAsServer(x, resp, body)
			return
		}
		a.pass(x, resp)
		next.Serve(x)
		if len(resp.Header["Set-Cookie"]) > 0 {
			if cookies := resp.Cookies(); len(cookies) > 0 {
				a.mergeCookies(x, cookies)
			}
		}
	})
}

var errTooLarge = errors.New("body too large")

// redactedErr is err's text with the address's password taken out (Go's
// client errors quote the URL).
func redactedErr(err error, address, redacted string) string {
	return strings.ReplaceAll(err.Error(), address, redacted)
}

// readLimited reads r whole, up to max bytes (negative: any); more is
// errTooLarge. Empty is nil.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	if max < 0 {
		b, err := io.ReadAll(r)
		if len(b) == 0 {
			b = nil
		}
		return b, err
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if int64(len(b)) > max {
		return nil, errTooLarge
	}
	if len(b) == 0 {
		b = nil
	}
	return b, err
}

// answerEmpty is Traefik's rw.WriteHeader(code) alone.
func answerEmpty(x *pipeline.Exchange, code int) {
	r := x.Resp
	r.Reset()
	r.SetStatusCode(code)
	r.Header.SetNoDefaultContentType(true)
}

// answerRedirect is Go's http.Redirect under Traefik (which marks the
// answer's Content-Type as set, so that no body is written): a relative
// URL made absolute against the request's path.
func answerRedirect(x *pipeline.Exchange, to string, code int) {
	answerEmpty(x, code)
	if u, err := url.Parse(to); err == nil && u.Scheme == "" && u.Host == "" {
		old := string(x.Out.Header.RequestURI())
		if i := strings.IndexByte(old, '?'); i >= 0 {
			old = old[:i]
		}
		if old == "" {
			old = "/"
		}
		if to == "" || to[0] != '/' {
			dir, _ := path.Split(old)
			to = dir + to
		}
		var query string
		if i := strings.Index(to, "?"); i != -1 {
			to, query = to[:i], to[i:]
		}
		trailing := strings.HasSuffix(to, "/")
		to = path.Clean(to)
		if trailing && !strings.HasSuffix(to, "/") {
			to += "/"
		}
		to += query
	}
	x.Resp.Header.Set("Location", to)
}

// answerAsServer gives the client the auth server's answer: its headers
// but the hop-by-hop ones, its status and body, its Location resolved
// against the auth URL (or as it was, with PreserveLocationHeader).
func (a *forwardAuth) answerAsServer(x *pipeline.Exchange, resp *http.Response, body []byte) {
	answerEmpty(x, resp.StatusCode)
	h := &x.Resp.Header
	for k, vs := range resp.Header {
		if slices.Contains(hopByHop, k) {
			continue
		}
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	var loc *url.URL
	var err error
	if a.PreserveLocationHeader {
		if lv := resp.Header.Get("Location"); lv != "" {
			loc, err = url.Parse(lv)
		} else {
			err = http.ErrNoLocation
		}
	} else {
		loc, err = resp.Location()
	}
	switch {
	case err != nil && !errors.Is(err, http.ErrNoLocation):
		answerEmpty(x, 500)
		return
	case err == nil && loc.String() != "":
		h.Set("Location", loc.String())
	}
	x.Resp.SetBody(body)
}

// pass copies the auth answer's headers Traefik copies into the request.
func (a *forwardAuth) pass(x *pipeline.Exchange, resp *http.Response) {
	h := &x.Out.Header
	for _, k := range a.respHeaders {
		h.Del(k)
		for _, v := range resp.Header[k] {
			h.Add(k, v)
		}
	}
	if a.respRE == nil {
		return
	}
	var drop []string
	pipeline.EachRequestHeader(h, func(k, _ []byte) {
		if a.respRE.Match(k) {
			drop = append(drop, string(k))
		}
	})
	for _, k := range drop {
		h.Del(k)
	}
	for k, vs := range resp.Header {
		if a.respRE.MatchString(k) {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
	}
	x.HeadersEdited()
}

// mergeCookies is Traefik's response modifier: the server's cookies but
// those named in AddAuthCookiesToResponse, then the auth server's ones
// that are.
func (a *forwardAuth) mergeCookies(x *pipeline.Exchange, auth []*http.Cookie) {
	h := &x.Resp.Header
	var server []*http.Cookie
	for _, v := range h.PeekAll("Set-Cookie") {
		if c, err := http.ParseSetCookie(string(v)); err == nil {
			server = append(server, c)
		}
	}
	h.Del("Set-Cookie")
	for _, c := range server {
		if !a.cookies[c.Name] {
			h.Add("Set-Cookie", c.String())
		}
	}
	for _, c := range auth {
		if a.cookies[c.Name] {
			h.Add("Set-Cookie", c.String())
		}
	}
}

// authRequest is the request to the auth server; false when x has been
// answered instead (a body over MaxBodySize: 401; a bad address: 500).
func (a *forwardAuth) authRequest(x *pipeline.Exchange) (*http.Request, bool) {
	out := &x.Out.Header
	method := http.MethodGet
	if a.PreserveRequestMethod {
		method = string(out.Method())
	}
	var body io.Reader
	length, chunked := int64(0), false
	if a.ForwardBody && !(out.IsConnect() && out.ContentLength() < 0) {
		cl := out.ContentLength()
		if !x.HoldBody(a.MaxBodySize) {
			answerEmpty(x, 401)
			return nil, false
		}
		if b := x.Out.Body(); len(b) > 0 {
			body = bytes.NewReader(append([]byte(nil), b...))
		}
		length, chunked = int64(cl), cl == -1
	}
	if a.url == nil || a.url.Host == "" { // what http.NewRequest refuses, or Do cannot send
		answerEmpty(x, 500)
		return nil, false
	}
	// http.NewRequest's request, with the address parsed once.
	req := &http.Request{Method: method, URL: a.url, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header, 16), Host: a.url.Host}
	if body != nil {
		req.Body, req.ContentLength = io.NopCloser(body), length
		if chunked {
			req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
		}
	}
	a.authHeaders(x, req)
	return req, true
}
