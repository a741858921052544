package middleware

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// secureHeaders is the security half of Headers: unrolled/secure v1 as
// Traefik v3.7 configures it (pkg/middlewares/headers/secure.go). Traefik
// passes it neither the SSL redirect fields nor featurePolicy, so those
// do nothing here either.
type secureHeaders struct {
	allowedHosts [][]byte // empty, or in development mode: every host
	hostHeaders  [][]byte // hostsProxyHeaders, canonical
	sslHeaders   []field  // sslProxyHeaders: a request carrying one is "over TLS"
	always       []field  // set on every response
	sts          []byte   // Strict-Transport-Security, or nil
	stsForce     bool     // sts even without TLS
	publicKey    []byte   // Public-Key-Pins over TLS, or nil
	// With a nonce ("$NONCE" or "%[1]s" in a policy) the policies are
	// formatted per request with a fresh one, as unrolled/secure does.
	nonce       bool
	csp, cspRO  string
	badHostBody []byte
}

var (
	hdrCSP   = []byte("Content-Security-Policy")
	hdrCSPRO = []byte("Content-Security-Policy-Report-Only")
	hdrSTS   = []byte("Strict-Transport-Security")
	hdrHPKP  = []byte("Public-Key-Pins")
)

func newSecure(h *Headers) (*secureHeaders, error) {
	s := &secureHeaders{stsForce: h.ForceSTSHeader, badHostBody: []byte("Bad Host\n")}
	if !h.IsDevelopment {
		for _, a := range h.AllowedHosts {
			s.allowedHosts = append(s.allowedHosts, []byte(a))
		}
		if h.STSSeconds != nil && *h.STSSeconds != 0 {
			v := "max-age=" + strconv.FormatInt(*h.STSSeconds, 10)
			if h.STSIncludeSubdomains {
				v += "; includeSubDomains"
			}
			if h.STSPreload {
				v += "; preload"
			}
			s.sts = []byte(v)
		}
		if h.PublicKey != "" {
			s.publicKey = []byte(h.PublicKey)
		}
	}
	for _, n := range h.HostsProxyHeaders {
		s.hostHeaders = append(s.hostHeaders, []byte(textproto.CanonicalMIMEHeaderKey(n)))
	}
	var err error
	if s.sslHeaders, err = headerFields("sslProxyHeaders", h.SSLProxyHeaders); err != nil {
		return nil, err
	}
	s.csp = strings.ReplaceAll(h.ContentSecurityPolicy, "$NONCE", "'nonce-%[1]s'")
	s.cspRO = strings.ReplaceAll(h.ContentSecurityPolicyReportOnly, "$NONCE", "'nonce-%[1]s'")
	s.nonce = strings.Contains(s.csp, "%[1]s") || strings.Contains(s.cspRO, "%[1]s")
	add := func(name, value string) {
		if value != "" {
			s.always = append(s.always, field{[]byte(name), []byte(value)})
		}
	}
	frame := h.CustomFrameOptionsValue
	if frame == "" && h.FrameDeny {
		frame = "DENY"
	}
	add("X-Frame-Options", frame)
	if h.ContentTypeNosniff {
		add("X-Content-Type-Options", "nosniff")
	}
	xss := h.CustomBrowserXSSValue
	if xss == "" && h.BrowserXSSFilter {
		xss = "1; mode=block"
	}
	add("X-Xss-Protection", xss)
	if !s.nonce {
		add("Content-Security-Policy", s.csp)
		add("Content-Security-Policy-Report-Only", s.cspRO)
	}
	add("Referrer-Policy", h.ReferrerPolicy)
	add("Permissions-Policy", h.PermissionsPolicy)
	for _, f := range s.always {
		if !validFieldValue(string(f.value)) {
			return nil, fmt.Errorf("the value of %s holds a control character", f.name)
		}
	}
	return s, nil
}

// secureState is what secureHeaders works out from the request for its
// answer: whether it came over TLS, and the policies with a fresh nonce.
type secureState struct {
	ssl        bool
	csp, cspRO string
}

// before checks the request's host (false: it answered 500) and works
// out the answer's state.
func (s *secureHeaders) before(x *pipeline.Exchange) (secureState, bool) {
	if len(s.allowedHosts) > 0 && !s.goodHost(x) {
		x.Respond(fasthttp.StatusInternalServerError, s.badHostBody)
		return secureState{}, false
	}
	st := secureState{ssl: s.isSSL(x)}
	if s.nonce {
		st.csp, st.cspRO = s.withNonce()
	}
	return st, true
}

// response sets the security fields on the answer; rep is the run's
// SetNames.Repeats.
func (s *secureHeaders) response(x *pipeline.Exchange, st secureState, rep bool) {
	out := &x.Resp.Header
	for _, f := range s.always {
		pipeline.SetResponse(out, f.name, f.value, rep)
	}
	if s.sts != nil && (st.ssl || s.stsForce) {
		pipeline.SetResponse(out, hdrSTS, s.sts, rep)
	}
	if s.publicKey != nil && st.ssl {
		pipeline.SetResponse(out, hdrHPKP, s.publicKey, rep)
	}
	if st.csp != "" {
		pipeline.SetResponse(out, hdrCSP, []byte(st.csp), rep)
	}
	if st.cspRO != "" {
		pipeline.SetResponse(out, hdrCSPRO, []byte(st.cspRO), rep)
	}
}

// names are the response fields s may set.
func (s *secureHeaders) names() [][]byte {
	n := [][]byte{hdrSTS, hdrHPKP, hdrCSP, hdrCSPRO}
	for _, f := range s.always {
		n = append(n, f.name)
	}
	return n
}

// goodHost reports whether the request's host (or the first of
// hostsProxyHeaders it carries) is an allowed host, case aside.
func (s *secureHeaders) goodHost(x *pipeline.Exchange) bool {
	h := &x.Out.Header
	host := h.Host()
	for _, name := range s.hostHeaders {
		if v := h.PeekBytes(name); len(v) > 0 {
			host = v
			break
		}
	}
	for _, a := range s.allowedHosts {
		if bytes.EqualFold(a, host) {
			return true
		}
	}
	return false
}

// isSSL: the connection is TLS, or the request carries one of
// sslProxyHeaders with its value.
func (s *secureHeaders) isSSL(x *pipeline.Exchange) bool {
	if x.TLS != nil {
		return true
	}
	for _, f := range s.sslHeaders {
		if bytes.Equal(x.Out.Header.PeekBytes(f.name), f.value) {
			return true
		}
	}
	return false
}

// withNonce formats the policies with a fresh nonce.
func (s *secureHeaders) withNonce() (csp, cspRO string) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	n := base64.RawStdEncoding.EncodeToString(b[:])
	if s.csp != "" {
		csp = fmt.Sprintf(s.csp, n)
	}
	if s.cspRO != "" {
		cspRO = fmt.Sprintf(s.cspRO, n)
	}
	return csp, cspRO
}
