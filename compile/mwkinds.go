package compile

import (
	"errors"
	"strings"
	"time"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/middleware"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// kindBuilder builds the handler of one middleware kind from its spec.
type kindBuilder func(c *compiler, m *model.Middleware) (pipeline.Middleware, error)

// kindBuilders are the kinds Sluice serves, by their JSON names.
var kindBuilders = map[string]kindBuilder{
	"addPrefix": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		return middleware.AddPrefix{Prefix: m.Spec.AddPrefix.Prefix}.Middleware()
	},
	"stripPrefix": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		s := m.Spec.StripPrefix
		return middleware.StripPrefix{Prefixes: s.Prefixes, ForceSlash: s.ForceSlash != nil && *s.ForceSlash}.Middleware()
	},
	"stripPrefixRegex": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		return middleware.StripPrefixRegex{Regex: m.Spec.StripPrefixRegex.Regex}.Middleware()
	},
	"replacePath": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		return middleware.ReplacePath{Path: m.Spec.ReplacePath.Path}.Middleware()
	},
	"replacePathRegex": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		s := m.Spec.ReplacePathRegex
		return middleware.ReplacePathRegex{Regex: s.Regex, Replacement: s.Replacement}.Middleware()
	},
	"redirectScheme": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		s := m.Spec.RedirectScheme
		return middleware.RedirectScheme{Scheme: s.Scheme, Port: s.Port, Permanent: s.Permanent}.Middleware()
	},
	"redirectRegex": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		s := m.Spec.RedirectRegex
		return middleware.RedirectRegex{Regex: s.Regex, Replacement: s.Replacement, Permanent: s.Permanent}.Middleware()
	},
	"headers": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		return headersOf(m.Spec.Headers).Middleware()
	},
	"ipAllowList": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		return ipAllowListOf(m.Spec.IPAllowList).Middleware()
	},
	"ipWhiteList": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		mw, err := ipAllowListOf(&model.IPAllowList{SourceRange: m.Spec.IPWhiteList.SourceRange, IPStrategy: m.Spec.IPWhiteList.IPStrategy}).Middleware()
		if err != nil {
			err = errors.New(strings.ReplaceAll(err.Error(), "IPAllowLister", "IPWhiteLister"))
		}
		return mw, err
	},
	"basicAuth":  basicAuth,
	"digestAuth": digestAuth,
	"encodedCharacters": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		e := m.Spec.EncodedCharacters
		return middleware.EncodedCharacters{AllowEncodedSlash: e.AllowEncodedSlash, AllowEncodedBackSlash: e.AllowEncodedBackSlash,
			AllowEncodedNullCharacter: e.AllowEncodedNullCharacter, AllowEncodedSemicolon: e.AllowEncodedSemicolon,
			AllowEncodedPercent: e.AllowEncodedPercent, AllowEncodedQuestionMark: e.AllowEncodedQuestionMark, AllowEncodedHash: e.AllowEncodedHash}.Middleware()
	},
	"grpcWeb": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		return middleware.GrpcWeb{AllowOrigins: m.Spec.GrpcWeb.AllowOrigins}.Middleware()
	},
	"rateLimit":      rateLimit,
	"forwardAuth":    forwardAuth,
	"retry":          retry,
	"circuitBreaker": circuitBreaker,
	"inFlightReq":    inFlightReq,
	"contentType": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		return middleware.ContentType{AutoDetect: m.Spec.ContentType.AutoDetect}.Middleware()
	},
	"compress": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		s := m.Spec.Compress
		c := middleware.Compress{ExcludedContentTypes: s.ExcludedContentTypes, IncludedContentTypes: s.IncludedContentTypes,
			Encodings: []string{"gzip", "br", "zstd"}} // Traefik's defaults
		if s.MinResponseBodyBytes != nil {
			c.MinResponseBodyBytes = *s.MinResponseBodyBytes
		}
		if s.Encodings != nil {
			c.Encodings = s.Encodings
		}
		if s.DefaultEncoding != nil {
			c.DefaultEncoding = *s.DefaultEncoding
		}
		return c.Middleware()
	},
	"passTLSClientCert": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		return passTLSOf(m.Spec.PassTLSClientCert).Middleware()
	},
	"buffering": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		b := m.Spec.Buffering
		return middleware.Buffering{MaxRequestBodyBytes: b.MaxRequestBodyBytes, MemRequestBodyBytes: b.MemRequestBodyBytes,
			MaxResponseBodyBytes: b.MaxResponseBodyBytes, MemResponseBodyBytes: b.MemResponseBodyBytes,
			RetryExpression: b.RetryExpression}.Middleware()
	},
	"plugin": plugin,
}

// headersOf is a headers spec in the middleware's terms.
func headersOf(h *model.Headers) middleware.Headers {
	return middleware.Headers{
		CustomRequestHeaders: h.CustomRequestHeaders, CustomResponseHeaders: h.CustomResponseHeaders,
		AccessControlAllowCredentials:     h.AccessControlAllowCredentials,
		AccessControlAllowHeaders:         h.AccessControlAllowHeaders,
		AccessControlAllowMethods:         h.AccessControlAllowMethods,
		AccessControlAllowOriginList:      h.AccessControlAllowOriginList,
		AccessControlAllowOriginListRegex: h.AccessControlAllowOriginListRegex,
		AccessControlExposeHeaders:        h.AccessControlExposeHeaders,
		AccessControlMaxAge:               h.AccessControlMaxAge,
		AddVaryHeader:                     h.AddVaryHeader,
		AllowedHosts:                      h.AllowedHosts, HostsProxyHeaders: h.HostsProxyHeaders, SSLProxyHeaders: h.SSLProxyHeaders,
		STSSeconds: h.STSSeconds, STSIncludeSubdomains: h.STSIncludeSubdomains, STSPreload: h.STSPreload, ForceSTSHeader: h.ForceSTSHeader,
		FrameDeny: h.FrameDeny, CustomFrameOptionsValue: h.CustomFrameOptionsValue, ContentTypeNosniff: h.ContentTypeNosniff,
		BrowserXSSFilter: h.BrowserXSSFilter, CustomBrowserXSSValue: h.CustomBrowserXSSValue,
		ContentSecurityPolicy: h.ContentSecurityPolicy, ContentSecurityPolicyReportOnly: h.ContentSecurityPolicyReportOnly,
		PublicKey: h.PublicKey, ReferrerPolicy: h.ReferrerPolicy, PermissionsPolicy: h.PermissionsPolicy, IsDevelopment: h.IsDevelopment,
		Deprecated: h.FeaturePolicy != nil && *h.FeaturePolicy != "" || h.SSLRedirect != nil && *h.SSLRedirect ||
			h.SSLTemporaryRedirect != nil && *h.SSLTemporaryRedirect || h.SSLHost != nil && *h.SSLHost != "" ||
			h.SSLForceHost != nil && *h.SSLForceHost,
	}
}

// ipAllowListOf is an ipAllowList spec in the middleware's terms.
func ipAllowListOf(a *model.IPAllowList) middleware.IPAllowList {
	out := middleware.IPAllowList{SourceRange: a.SourceRange, RejectStatusCode: a.RejectStatusCode}
	if s := a.IPStrategy; s != nil {
		out.Strategy = &middleware.IPStrategy{Depth: s.Depth, ExcludedIPs: s.ExcludedIPs, IPv6Subnet: s.IPv6Subnet}
	}
	return out
}

// passTLSOf is a passTLSClientCert spec in the middleware's terms.
func passTLSOf(p *model.PassTLSClientCert) middleware.PassTLSClientCert {
	out := middleware.PassTLSClientCert{PEM: p.PEM}
	if i := p.Info; i != nil {
		dn := func(d *model.TLSClientCertDNInfo) *middleware.DNInfo {
			if d == nil {
				return nil
			}
			return &middleware.DNInfo{Country: d.Country, Province: d.Province, Locality: d.Locality, Organization: d.Organization,
				OrganizationalUnit: d.OrganizationalUnit, CommonName: d.CommonName, SerialNumber: d.SerialNumber, DomainComponent: d.DomainComponent}
		}
		out.Info = &middleware.CertInfo{NotAfter: i.NotAfter, NotBefore: i.NotBefore, Sans: i.Sans, SerialNumber: i.SerialNumber,
			Subject: dn(i.Subject), Issuer: dn(i.Issuer)}
	}
	return out
}

// rateLimit builds a rateLimit on its state, kept per router (mwstate.go).
func rateLimit(c *compiler, m *model.Middleware) (pipeline.Middleware, error) {
	s := m.Spec.RateLimit
	r := middleware.RateLimit{Burst: 1, Source: sourceOf(s.SourceCriterion)} // Traefik's defaults
	if s.Redis != nil {
		shared, err := c.redisLimiter(m, s.Redis)
		if err != nil {
			return nil, err
		}
		r.Shared = shared
	}
	if s.Average != nil {
		r.Average = *s.Average
	}
	if s.Burst != nil {
		r.Burst = *s.Burst
	}
	period, err := duration(s.Period, time.Second)
	if err != nil {
		return nil, err
	}
	r.Period = period
	st := c.state(m, func() any { return middleware.NewRateLimitState() }).(*middleware.RateLimitState)
	return r.Middleware(st)
}

// inFlightReq builds an inFlightReq on its counts, kept per router.
func inFlightReq(c *compiler, m *model.Middleware) (pipeline.Middleware, error) {
	s := m.Spec.InFlightReq
	counts := c.state(m, func() any { return middleware.NewInFlightCounts() }).(*middleware.InFlightCounts)
	return middleware.InFlightReq{Amount: s.Amount, Source: sourceOf(s.SourceCriterion)}.Middleware(counts)
}

// sourceOf is a sourceCriterion in the middleware's terms.
func sourceOf(s *model.SourceCriterion) *middleware.SourceCriterion {
	if s == nil {
		return nil
	}
	out := &middleware.SourceCriterion{RequestHeaderName: s.RequestHeaderName, RequestHost: s.RequestHost}
	if i := s.IPStrategy; i != nil {
		out.IPStrategy = &middleware.IPStrategy{Depth: i.Depth, ExcludedIPs: i.ExcludedIPs, IPv6Subnet: i.IPv6Subnet}
	}
	return out
}
