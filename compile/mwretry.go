package compile

import (
	"fmt"
	"strconv"
	"strings"

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
