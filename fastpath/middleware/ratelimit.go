package middleware

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// RateLimit is Traefik's rateLimit middleware with its in-memory limiter
// (pkg/middlewares/ratelimiter): a token bucket per source, Average
// requests per Period (0: 1 s) and Burst (at least 1), golang.org/x/time/
// rate's arithmetic. A request that would wait for a token waits, up to
// half the interval between two tokens (500 ms when that is over a
// second); one that would wait longer is answered 429 with Retry-After
// and X-Retry-In, and takes no token. Average 0 is no limit.
type RateLimit struct {
	Average int64
	Period  time.Duration
	Burst   int64
	Source  *SourceCriterion // nil: the client's address
	// Shared, when set, keeps the buckets in Redis (the redis block) in
	// place of the state: every replica counts against the same ones.
	Shared *RedisLimiter
}

// rateLimitSources is Traefik's bound on the sources one limiter tracks;
// past it, the source whose entry expires first is dropped.
const rateLimitSources = 65536

// RateLimitState is a RateLimit's buckets, by source. It outlives a table
// that keeps the same Middleware object.
type RateLimitState struct {
	mu       sync.Mutex
	items    map[string]*bucket
	expiries bucketHeap
	// Clock is the time source (tests set a fake one before use).
	Clock func() time.Time
}

// NewRateLimitState returns empty buckets on the wall clock.
func NewRateLimitState() *RateLimitState {
	return &RateLimitState{items: map[string]*bucket{}, Clock: time.Now}
}

// Len is the number of sources tracked.
func (s *RateLimitState) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// bucket is one source's tokens, and its place in the expiry heap.
type bucket struct {
	key    string
	tokens float64
	last   time.Time
	expiry int64 // Unix seconds: Traefik's ttlmap granularity
	index  int
}

// limits is a built RateLimit.
type limits struct {
	rate     float64 // tokens per second; +Inf: no limit
	burst    float64
	maxDelay time.Duration
	ttl      int64 // seconds a source is kept after its last request
}

// Middleware builds it on state, with Traefik's validation.
func (r RateLimit) Middleware(state *RateLimitState) (pipeline.Middleware, error) {
	src, err := r.Source.source(false)
	if err != nil {
		return nil, fmt.Errorf("getting source extractor: %w", err)
	}
	l, err := r.limits()
	if err != nil {
		return nil, err
	}
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			buf := x.Scratch(bufTmp)
			*buf = src(x, (*buf)[:0])
			var delay time.Duration
			var ok bool
			if r.Shared != nil {
				if delay, ok = r.sharedAllow(x, *buf, &l); !ok {
					return
				}
			} else if delay, ok = state.allow(*buf, &l); !ok {
				answerTooMany(x, delay)
				return
			}
			if delay > 0 {
				time.Sleep(delay) // at most maxDelay, as Traefik waits
			}
			next.Serve(x)
		})
	}, nil
}

// sharedAllow asks Redis, and answers x itself when the request does not
// go on: 500 when Redis cannot be asked (as Traefik answers; logged at
// most once a second), 429 past the wait bound.
func (r RateLimit) sharedAllow(x *pipeline.Exchange, source []byte, l *limits) (time.Duration, bool) {
	delay, ok, err := r.Shared.allow(context.Background(), source, l)
	switch {
	case err != nil:
		if now := time.Now().Unix(); r.Shared.lastLog.Swap(now) != now {
			x.EP.Log.Error("rateLimit: could not insert/update bucket in Redis", "error", err)
		}
		x.Respond(500, bodyBucketError)
		return 0, false
	case !ok:
		x.Respond(429, bodyNoBurst)
		return 0, false
	case delay > l.maxDelay:
		answerTooMany(x, delay)
		return 0, false
	}
	return delay, true
}

var (
	bodyBucketError = []byte("Could not insert/update bucket\n")
	bodyNoBurst     = []byte("No bursty traffic allowed\n")
)

// limits computes Traefik's rate, delay bound and source lifetime.
func (r RateLimit) limits() (limits, error) {
	period := r.Period
	if period < 0 {
		return limits{}, fmt.Errorf("negative value not valid for period: %v", period)
	}
	if period == 0 {
		period = time.Second
	}
	l := limits{rate: math.Inf(1), burst: float64(max(r.Burst, 1))}
	if r.Average > 0 {
		l.rate = float64(r.Average*int64(time.Second)) / float64(period)
		if l.rate < 1 {
			l.maxDelay = 500 * time.Millisecond
		} else {
			l.maxDelay = time.Second / (time.Duration(l.rate) * 2)
		}
	}
	l.ttl = 1
	if l.rate >= 1 {
		l.ttl++
	} else if l.rate > 0 {
		l.ttl += int64(1 / l.rate)
	}
	return l, nil
}

// allow takes a token of source's bucket, reporting how long the request
// waits for it; false (no token taken) when that is over maxDelay.
func (s *RateLimitState) allow(source []byte, l *limits) (time.Duration, bool) {
	now := s.Clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.items[string(source)]
	if b != nil && b.expiry <= now.Unix() {
		s.remove(b)
		b = nil
	}
	if b == nil {
		if len(s.items) >= rateLimitSources {
			s.remove(s.expiries[0])
		}
		b = &bucket{key: string(source), tokens: l.burst, last: now}
		s.items[b.key] = b
		heap.Push(&s.expiries, b)
	}
	b.expiry = now.Unix() + l.ttl
	heap.Fix(&s.expiries, b.index)
	if math.IsInf(l.rate, 1) {
		return 0, true
	}
	// x/time/rate's advance and reserveN, then Cancel when refused.
	last := b.last
	if now.Before(last) {
		last = now
	}
	tokens := b.tokens + now.Sub(last).Seconds()*l.rate
	tokens = min(tokens, l.burst)
	b.last = now
	var wait time.Duration
	if tokens-1 < 0 {
		wait = time.Duration(float64(time.Second) * ((1 - tokens) / l.rate))
	}
	if wait > l.maxDelay {
		// Reserve then Cancel: the token taken and given back, in the
		// same floating-point steps.
		b.tokens = min((tokens-1)+1, l.burst)
		return wait, false
	}
	b.tokens = tokens - 1
	return wait, true
}

func (s *RateLimitState) remove(b *bucket) {
	heap.Remove(&s.expiries, b.index)
	delete(s.items, b.key)
}

// answerTooMany is Traefik's serveDelayError.
func answerTooMany(x *pipeline.Exchange, delay time.Duration) {
	r := x.Resp
	r.SetStatusCode(429)
	r.Header.Set("Retry-After", strconv.FormatFloat(math.Ceil(delay.Seconds()), 'f', 0, 64))
	r.Header.Set("X-Retry-In", delay.String())
	r.Header.SetNoDefaultContentType(true) // Traefik's answers are not sniffed
	r.SetBodyRaw(bodyTooMany)
}

var bodyTooMany = []byte("Too Many Requests")

// bucketHeap orders buckets by expiry (container/heap).
type bucketHeap []*bucket

func (h bucketHeap) Len() int           { return len(h) }
func (h bucketHeap) Less(i, j int) bool { return h[i].expiry < h[j].expiry }
func (h bucketHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *bucketHeap) Push(v any) {
	b := v.(*bucket)
	b.index = len(*h)
	*h = append(*h, b)
}
func (h *bucketHeap) Pop() any {
	old := *h
	b := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	b.index = -1
	return b
}
