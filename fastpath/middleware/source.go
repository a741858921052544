package middleware

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// SourceCriterion is Traefik's sourceCriterion (rateLimit, inFlightReq):
// what tells one source of requests from another. At most one is set;
// none is the middleware's default (the client's address for rateLimit,
// the request's host for inFlightReq).
type SourceCriterion struct {
	IPStrategy        *IPStrategy
	RequestHeaderName string
	RequestHost       bool
}

// sourceFunc appends the source of a request to dst, as Traefik's
// extractor names it (GetSourceExtractor).
type sourceFunc func(x *pipeline.Exchange, dst []byte) []byte

// source builds the extractor, with Traefik's errors; hostDefault says
// which default an empty criterion takes.
func (s *SourceCriterion) source(hostDefault bool) (sourceFunc, error) {
	if s != nil {
		switch {
		case s.IPStrategy != nil && s.RequestHeaderName != "":
			return nil, errors.New("iPStrategy and RequestHeaderName are mutually exclusive")
		case s.IPStrategy != nil && s.RequestHost:
			return nil, errors.New("iPStrategy and RequestHost are mutually exclusive")
		case s.RequestHeaderName != "" && s.RequestHost:
			return nil, errors.New("requestHost and RequestHeaderName are mutually exclusive")
		}
	}
	if s == nil || s.IPStrategy == nil && s.RequestHeaderName == "" && !s.RequestHost {
		s = &SourceCriterion{IPStrategy: &IPStrategy{}}
		if hostDefault {
			s = &SourceCriterion{RequestHost: true}
		}
	}
	switch {
	case s.IPStrategy != nil:
		return s.IPStrategy.text()
	case s.RequestHeaderName != "":
		name := []byte(http.CanonicalHeaderKey(s.RequestHeaderName))
		return func(x *pipeline.Exchange, dst []byte) []byte {
			return append(dst, x.Out.Header.PeekBytes(name)...)
		}, nil
	}
	return func(x *pipeline.Exchange, dst []byte) []byte { // Go's Request.Host
		return append(dst, x.Out.Header.Host()...)
	}, nil
}

// text is the strategy's GetIP: the address as text, as Traefik keys
// sources by it (an X-Forwarded-For field is taken as it is written).
func (s *IPStrategy) text() (sourceFunc, error) {
	if _, err := s.getter(); err != nil { // the same validation
		return nil, err
	}
	switch {
	case s.Depth > 0:
		depth, subnet := s.Depth, s.IPv6Subnet
		return func(x *pipeline.Exchange, dst []byte) []byte {
			xff := x.PriorForwardedFor()
			n := bytes.Count(xff, []byte(",")) + 1
			if n < depth {
				return dst
			}
			return append(dst, withSubnet(nthField(xff, n-depth), subnet)...)
		}, nil
	case len(s.ExcludedIPs) > 0:
		excluded, _ := newIPChecker(s.ExcludedIPs)
		return func(x *pipeline.Exchange, dst []byte) []byte {
			fields := x.PriorForwardedFor()
			for end := len(fields); end >= 0; {
				start := bytes.LastIndexByte(fields[:end], ',') + 1
				v := bytes.TrimSpace(fields[start:end])
				if len(v) > 0 && !excluded.containsText(v) {
					return append(dst, v...)
				}
				end = start - 1
			}
			return dst
		}, nil
	}
	remote := remoteIP(s.IPv6Subnet)
	return func(x *pipeline.Exchange, dst []byte) []byte {
		if a, ok := remote(x); ok {
			return a.AppendTo(dst)
		}
		return dst
	}, nil
}
