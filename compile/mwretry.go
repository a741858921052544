package compile

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/middleware"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// retry builds a retry middleware as Traefik's provider reads it
// (createRetryMiddleware): maxRequestBodyBytes 2 MiB unless set.
func retry(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
	s := m.Spec.Retry
	r := middleware.Retry{Attempts: s.Attempts, MaxRequestBodyBytes: 2 << 20,
		DisableRetryOnNetworkError: s.DisableRetryOnNetworkError, RetryNonIdempotentMethod: s.RetryNonIdempotentMethod}
	var err error
	if r.InitialInterval, err = duration(s.InitialInterval, 0); err != nil {
		return nil, err
	}
	if r.Timeout, err = duration(s.Timeout, 0); err != nil {
		return nil, err
	}
	if s.MaxRequestBodyBytes != nil {
		r.MaxRequestBodyBytes = *s.MaxRequestBodyBytes
	}
	if len(s.Status) > 0 {
		if r.Status, err = httpCodeRanges(s.Status); err != nil {
			return nil, fmt.Errorf("creating HTTP code ranges: %w", err)
		}
	}
	return r.Middleware()
}

// httpCodeRanges is Traefik's NewHTTPCodeRanges: "500-599" or "502", as
// given (no bounds checked).
func httpCodeRanges(blocks []string) ([][2]int, error) {
	var out [][2]int
	for _, b := range blocks {
		codes := strings.Split(b, "-")
		if len(codes) == 1 {
			codes = append(codes, codes[0])
		}
		lo, err := strconv.Atoi(codes[0])
		if err != nil {
			return nil, err
		}
		hi, err := strconv.Atoi(codes[1])
		if err != nil {
			return nil, err
		}
		out = append(out, [2]int{lo, hi})
	}
	return out, nil
}

// errors is registered here: its service builds through the kinds table,
// which a literal entry would make an initialization cycle.
func init() { kindBuilders["errors"] = errorPage }

// errorPage builds an errors middleware: its status ranges and rewrites
// (sorted by range, where Traefik takes a map's random order), and its
// service, built like a route's (a Service or a TraefikService of the
// Middleware's namespace). Built per router, as the service records what
// the router depends on.
func errorPage(c *compiler, m *model.Middleware) (pipeline.Middleware, error) {
	s := m.Spec.Errors
	e := middleware.ErrorPage{Query: s.Query, RequestHeaders: s.ErrorRequestHeaders,
		LogName: Normalize(m.Meta.Namespace+"-"+m.Meta.Name) + "-errorpage-service" + Provider}
	var err error
	if e.Status, err = httpCodeRanges(s.Status); err != nil {
		return nil, err
	}
	froms := make([]string, 0, len(s.StatusRewrites))
	for k := range s.StatusRewrites {
		froms = append(froms, k)
	}
	sort.Strings(froms)
	for _, k := range froms {
		r, err := httpCodeRanges([]string{k})
		if err != nil {
			return nil, err
		}
		e.Rewrites = append(e.Rewrites, middleware.StatusRewrite{From: r, To: s.StatusRewrites[k]})
	}
	spec := s.Service
	if spec.Name == "" {
		return nil, errors.New("errors: a service is required")
	}
	parent := owner{obj: objName("Middleware", m.Meta.Namespace, m.Meta.Name), ns: m.Meta.Namespace}
	name := Normalize(nsOr(spec.Namespace, m.Meta.Namespace)+"-"+spec.Name+"-"+spec.Port.String()) + Provider
	ch, serr := c.target(parent, "spec.errors.service", name, &spec, nil)
	if serr != nil {
		return nil, fmt.Errorf("%s: %s", serr.field, serr.msg)
	}
	e.Service = ch.Service
	return e.Middleware()
}

// circuitBreaker builds a circuitBreaker on its state, kept per router
// as Traefik keeps a breaker's windows per router.
func circuitBreaker(c *compiler, m *model.Middleware) (pipeline.Middleware, error) {
	s := m.Spec.CircuitBreaker
	cb := middleware.CircuitBreaker{Expression: s.Expression, ResponseCode: s.ResponseCode}
	var err error
	if cb.CheckPeriod, err = duration(s.CheckPeriod, 100*time.Millisecond); err != nil {
		return nil, err
	}
	if cb.FallbackDuration, err = duration(s.FallbackDuration, 10*time.Second); err != nil {
		return nil, err
	}
	if cb.RecoveryDuration, err = duration(s.RecoveryDuration, 10*time.Second); err != nil {
		return nil, err
	}
	st := c.state(m, func() any { return middleware.NewBreakerState() }).(*middleware.BreakerState)
	return cb.Middleware(st)
}
