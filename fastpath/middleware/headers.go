package middleware

import (
	"errors"
	"fmt"
	"net/textproto"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// Headers is Traefik's headers middleware (traefik v3.7
// pkg/middlewares/headers): custom request and response headers, CORS
// (the preflight answered here) and the security headers of
// github.com/unrolled/secure as Traefik configures it. Everything a
// request needs is computed when it is built: header names canonical,
// values joined, regexes compiled.
type Headers struct {
	CustomRequestHeaders, CustomResponseHeaders map[string]string // "" removes

	AccessControlAllowCredentials     bool
	AccessControlAllowHeaders         []string
	AccessControlAllowMethods         []string
	AccessControlAllowOriginList      []string
	AccessControlAllowOriginListRegex []string
	AccessControlExposeHeaders        []string
	AccessControlMaxAge               *int64
	AddVaryHeader                     bool

	AllowedHosts                                     []string
	HostsProxyHeaders                                []string
	SSLProxyHeaders                                  map[string]string
	STSSeconds                                       *int64
	STSIncludeSubdomains, STSPreload, ForceSTSHeader bool
	FrameDeny                                        bool
	CustomFrameOptionsValue                          string
	ContentTypeNosniff                               bool
	BrowserXSSFilter                                 bool
	CustomBrowserXSSValue                            string
	ContentSecurityPolicy                            string
	ContentSecurityPolicyReportOnly                  string
	PublicKey                                        string
	ReferrerPolicy                                   string
	PermissionsPolicy                                string
	IsDevelopment                                    bool
	// Deprecated is set when one of the fields Traefik v3 keeps but no
	// longer applies (sslRedirect, sslHost, featurePolicy, ...) is: it
	// counts as a security header being defined, and does nothing.
	Deprecated bool
}

func (h *Headers) hasCustom() bool {
	return len(h.CustomRequestHeaders) > 0 || len(h.CustomResponseHeaders) > 0
}

func (h *Headers) hasCORS() bool {
	return h.AccessControlAllowCredentials || len(h.AccessControlAllowHeaders) > 0 || len(h.AccessControlAllowMethods) > 0 ||
		len(h.AccessControlAllowOriginList) > 0 || len(h.AccessControlAllowOriginListRegex) > 0 ||
		len(h.AccessControlExposeHeaders) > 0 || h.AccessControlMaxAge != nil || h.AddVaryHeader
}

func (h *Headers) hasSecure() bool {
	return len(h.AllowedHosts) > 0 || len(h.HostsProxyHeaders) > 0 || len(h.SSLProxyHeaders) > 0 || h.STSSeconds != nil ||
		h.STSIncludeSubdomains || h.STSPreload || h.ForceSTSHeader || h.FrameDeny || h.CustomFrameOptionsValue != "" ||
		h.ContentTypeNosniff || h.BrowserXSSFilter || h.CustomBrowserXSSValue != "" || h.ContentSecurityPolicy != "" ||
		h.ContentSecurityPolicyReportOnly != "" || h.PublicKey != "" || h.ReferrerPolicy != "" || h.PermissionsPolicy != "" ||
		h.IsDevelopment || h.Deprecated
}

// Middleware builds it. As in Traefik, a headers middleware that defines
// nothing is an error, and so is an origin regex that does not compile;
// so, unlike Traefik (whose requests then fail one by one), is a header
// name or value that no request may carry.
func (h Headers) Middleware() (pipeline.Middleware, error) {
	secure, custom, cors := h.hasSecure(), h.hasCustom(), h.hasCORS()
	if !secure && !custom && !cors {
		return nil, errors.New("headers configuration not valid")
	}
	var sec *secureHeaders
	if secure {
		var err error
		if sec, err = newSecure(&h); err != nil {
			return nil, err
		}
	}
	var hdr *customHeaders
	if custom || cors {
		var err error
		if hdr, err = newCustom(&h); err != nil {
			return nil, err
		}
	}
	var names [][]byte
	if sec != nil {
		names = append(names, sec.names()...)
	}
	if hdr != nil {
		names = append(names, hdr.names()...)
	}
	set := pipeline.NewSetNames(names...)
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			serveHeaders(x, next, sec, hdr, &set)
		})
	}, nil
}

// serveHeaders is Traefik's order: the custom half (CORS preflight,
// request fields) around the security half (host check) around the rest
// of the chain; on the way back the security fields, then the custom
// ones. Sets make no repeats and deletions remove them, so whether the
// answer repeats one of the names is found once for both halves.
func serveHeaders(x *pipeline.Exchange, next pipeline.Handler, sec *secureHeaders, hdr *customHeaders, set *pipeline.SetNames) {
	if hdr != nil {
		if hdr.cors && hdr.preflight(x) {
			return
		}
		hdr.request(x)
	}
	var st secureState
	served := true
	if sec != nil {
		st, served = sec.before(x)
	}
	if served {
		next.Serve(x)
	}
	rep := set.Repeats(&x.Resp.Header)
	if served && sec != nil {
		sec.response(x, st, rep)
	}
	if hdr != nil {
		hdr.response(x, rep)
	}
}

// field is a canonical header name and a value, as bytes.
type field struct{ name, value []byte }

// headerFields turns a header map into fields sorted by name (Traefik
// applies them in map order, which is random; sorted is one of its
// orders, and the same every time), checking names and values.
func headerFields(what string, m map[string]string) ([]field, error) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	fs := make([]field, 0, len(m))
	for _, k := range names {
		if !validFieldName(k) {
			return nil, fmt.Errorf("%s: %q is not a valid header name", what, k)
		}
		if !validFieldValue(m[k]) {
			return nil, fmt.Errorf("%s: the value of %s holds a control character", what, k)
		}
		fs = append(fs, field{[]byte(textproto.CanonicalMIMEHeaderKey(k)), []byte(m[k])})
	}
	return fs, nil
}

func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func validFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// joinHeader is strings.Join(list, ","), and whether the list holds "*".
func joinHeader(list []string) ([]byte, bool) {
	return []byte(strings.Join(list, ",")), slices.Contains(list, "*")
}

// compileOrigins compiles the CORS origin regexes.
func compileOrigins(exps []string) ([]*regexp.Regexp, error) {
	res := make([]*regexp.Regexp, len(exps))
	for i, e := range exps {
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, fmt.Errorf("error occurred during origin parsing: %w", err)
		}
		res[i] = re
	}
	return res, nil
}

// maxAge is the Access-Control-Max-Age value, or nil.
func maxAge(p *int64) []byte {
	if p == nil {
		return nil
	}
	return strconv.AppendInt(nil, *p, 10)
}
