package middleware

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// Retry is Traefik's retry middleware (pkg/middlewares/retry): up to
// Attempts tries. A try is repeated when the request never reached a
// server (the connection could not be made; unless
// DisableRetryOnNetworkError), or when the answer's status is in Status
// and the method is idempotent (or RetryNonIdempotentMethod) and the body,
// held for the replays, is at most MaxRequestBodyBytes. The last try's
// answer is the client's; so is any answer once Timeout has passed since
// the first try. Tries wait an exponential backoff from InitialInterval
// (cenkalti/backoff's, randomised by half; none when 0). Each try goes
// through the rest of the chain again, so the balancer may pick another
// server.
type Retry struct {
	Attempts                   int
	InitialInterval, Timeout   time.Duration
	MaxRequestBodyBytes        int64 // Traefik's default 2 MiB; -1 no limit
	Status                     [][2]int
	DisableRetryOnNetworkError bool
	RetryNonIdempotentMethod   bool
}

// Middleware builds it, with Traefik's validation.
func (r Retry) Middleware() (pipeline.Middleware, error) {
	if len(r.Status) == 0 && r.DisableRetryOnNetworkError {
		return nil, errors.New("retry middleware requires at least HTTP status codes or retry on TCP")
	}
	if r.Attempts <= 0 {
		return nil, fmt.Errorf("incorrect (or empty) value for attempt (%d)", r.Attempts)
	}
	return r.wrap, nil
}

func (r Retry) wrap(next pipeline.Handler) pipeline.Handler {
	if r.Attempts == 1 {
		return next
	}
	return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
		// Traefik's retry writer drops a try's informational answers (103
		// Early Hints): a later try may answer otherwise.
		upstream.SetInterim(&x.Out, nil)
		var status [][2]int
		m := x.Out.Header.Method()
		if idempotent := string(m) != "POST" && string(m) != "PATCH" && string(m) != "LOCK"; idempotent || r.RetryNonIdempotentMethod {
			status = r.Status
		}
		if len(status) > 0 && !x.HoldBody(r.MaxRequestBodyBytes) {
			status = nil // sent once, as it streams
		}
		// Each try starts from the request as it is here: the middlewares
		// after this one change it (Traefik clones it per try).
		saved := savedHeaders.Get().(*fasthttp.RequestHeader)
		defer savedHeaders.Put(saved)
		x.Out.Header.CopyTo(saved)
		start := time.Now()
		interval := r.InitialInterval
		for attempt := 1; ; attempt++ {
			x.MarkUnsent(false)
			next.Serve(x)
			if attempt == r.Attempts || x.Resp.StatusCode() == 101 {
				return
			}
			timedOut := r.Timeout > 0 && time.Since(start) >= r.Timeout
			again := !r.DisableRetryOnNetworkError && x.Unsent() || inRanges(status, x.Resp.StatusCode())
			if timedOut || !again {
				return
			}
			x.Resp.Reset() // this try's answer is not the client's
			x.Retries++
			x.ObsService.Retried()
			saved.CopyTo(&x.Out.Header)
			x.Out.SetRequestURIBytes(x.Out.Header.RequestURI())
			x.HeadersEdited()
			if interval > 0 {
				time.Sleep(randomized(interval))
				interval = time.Duration(min(float64(interval)*r.multiplier(), float64(time.Minute)))
			}
		}
	})
}

// savedHeaders hold a request's headers for its tries.
var savedHeaders = sync.Pool{New: func() any { return new(fasthttp.RequestHeader) }}

// multiplier is Traefik's 2^(1/(attempts-1)).
func (r Retry) multiplier() float64 { return math.Pow(2, 1/float64(r.Attempts-1)) }

// randomized is cenkalti/backoff's randomised interval, factor 0.5.
func randomized(d time.Duration) time.Duration {
	delta := 0.5 * float64(d)
	lo, hi := float64(d)-delta, float64(d)+delta
	return time.Duration(lo + rand.Float64()*(hi-lo+1))
}

// inRanges reports whether code is in one of the inclusive ranges.
func inRanges(ranges [][2]int, code int) bool {
	for _, r := range ranges {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}
