package middleware

import (
	"net/http"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// CircuitBreaker is Traefik's circuitBreaker middleware (oxy's cbreaker):
// every CheckPeriod (100 ms) after a request, Expression is evaluated on
// the last 10 s of answers (latencies: the last minute); when it holds
// the breaker trips and answers ResponseCode (503) with its status text
// for FallbackDuration (10 s), then recovers over RecoveryDuration (10 s),
// letting a growing share of requests through, then serves normally.
type CircuitBreaker struct {
	Expression                                      string
	CheckPeriod, FallbackDuration, RecoveryDuration time.Duration
	ResponseCode                                    int
}

// BreakerState is a breaker's state and metrics (per router, kept across
// tables while the Middleware is unchanged).
type BreakerState struct {
	mu        sync.Mutex
	m         cbMetrics
	state     int // breakerStandby, breakerTripped, breakerRecovering
	until     time.Time
	lastCheck time.Time
	// recovery's ratio controller
	rcStart          time.Time
	allowed, denied  int
	recoveryDuration time.Duration
	// Clock is the time source (tests set a fake one before use).
	Clock func() time.Time
}

const (
	breakerStandby = iota
	breakerTripped
	breakerRecovering
)

// NewBreakerState returns a standing-by breaker on the wall clock.
func NewBreakerState() *BreakerState {
	return &BreakerState{Clock: time.Now, m: cbMetrics{codes: map[int]*rollingCounter{}}}
}

// Middleware builds it on state; the expression is checked now.
func (c CircuitBreaker) Middleware(st *BreakerState) (pipeline.Middleware, error) {
	expr, err := parseCBExpression(c.Expression)
	if err != nil {
		return nil, err
	}
	if c.CheckPeriod <= 0 {
		c.CheckPeriod = 100 * time.Millisecond
	}
	if c.FallbackDuration <= 0 {
		c.FallbackDuration = 10 * time.Second
	}
	if c.RecoveryDuration <= 0 {
		c.RecoveryDuration = 10 * time.Second
	}
	if c.ResponseCode == 0 {
		c.ResponseCode = http.StatusServiceUnavailable
	}
	st.mu.Lock()
	st.recoveryDuration = c.RecoveryDuration
	if expr.latencies && st.m.hist == nil {
		st.m.hist = newRollingHist()
	}
	st.mu.Unlock()
	body := []byte(http.StatusText(c.ResponseCode))
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			if st.fallback() {
				r := x.Resp
				r.SetStatusCode(c.ResponseCode)
				r.Header.SetNoDefaultContentType(true)
				r.SetBodyRaw(body)
				return
			}
			var start time.Time
			if expr.latencies {
				start = st.Clock()
			}
			next.Serve(x)
			st.record(x.Resp.StatusCode(), start, expr, &c)
		})
	}, nil
}

// fallback is oxy's activateFallback: whether this request gets the
// fallback answer.
func (s *BreakerState) fallback() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == breakerStandby {
		return false
	}
	now := s.Clock()
	if s.state == breakerTripped {
		if now.Before(s.until) {
			return true
		}
		s.state, s.until = breakerRecovering, now.Add(s.recoveryDuration)
		s.rcStart, s.allowed, s.denied = now, 0, 0
	}
	if now.After(s.until) {
		s.state, s.until = breakerStandby, now
		return false
	}
	// The ratio controller: let through up to half the requests, growing
	// with the time spent recovering.
	target := 0.5 / float64(s.recoveryDuration) * float64(now.Sub(s.rcStart))
	if float64(s.allowed+1)/float64(s.allowed+1+s.denied) < target {
		s.allowed++
		return false
	}
	s.denied++
	return true
}

// record counts an answer and, once per check period, trips the breaker
// when the expression holds (oxy's serve and checkAndSet).
func (s *BreakerState) record(code int, start time.Time, expr *cbExpr, c *CircuitBreaker) {
	now := s.Clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.record(now, code, expr.codes)
	if expr.latencies {
		s.m.hist.record(now, now.Sub(start))
	}
	if !now.After(s.lastCheck) {
		return
	}
	s.lastCheck = now.Add(c.CheckPeriod)
	if s.state == breakerTripped {
		return
	}
	s.m.now = now
	if !expr.pred(&s.m) {
		return
	}
	s.state, s.until = breakerTripped, now.Add(c.FallbackDuration)
	s.m.reset()
}

// cbMetrics is oxy's RTMetrics: counters over 10 one-second buckets, a
// latency histogram over six ten-second ones.
type cbMetrics struct {
	now          time.Time // when the expression is evaluated
	total, netEr rollingCounter
	codes        map[int]*rollingCounter
	hist         *rollingHist
}

func (m *cbMetrics) record(now time.Time, code int, codes bool) {
	m.total.inc(now)
	if code == http.StatusGatewayTimeout || code == http.StatusBadGateway {
		m.netEr.inc(now)
	}
	if codes {
		c := m.codes[code]
		if c == nil {
			c = &rollingCounter{}
			m.codes[code] = c
		}
		c.inc(now)
	}
}

func (m *cbMetrics) reset() {
	m.total, m.netEr = rollingCounter{}, rollingCounter{}
	clear(m.codes)
	if m.hist != nil {
		m.hist.reset(m.now)
	}
}

func (m *cbMetrics) networkErrorRatio() float64 {
	total := m.total.count(m.now)
	if total == 0 {
		return 0
	}
	return float64(m.netEr.count(m.now)) / float64(total)
}

// responseCodeRatio is the answers with a status in [a, b) over those in
// [c, d).
func (m *cbMetrics) responseCodeRatio(a, b, c, d int) float64 {
	var x, y int64
	for code, n := range m.codes {
		if code >= a && code < b {
			x += n.count(m.now)
		}
		if code >= c && code < d {
			y += n.count(m.now)
		}
	}
	if y == 0 {
		return 0
	}
	return float64(x) / float64(y)
}

func (m *cbMetrics) latencyAtQuantileMS(q float64) int {
	if m.hist == nil {
		return 0
	}
	return m.hist.quantileMS(m.now, q)
}

// rollingCounter counts over the last ten whole seconds: a bucket per
// second, by Unix second modulo 10, stamped with its second.
type rollingCounter struct {
	n   [10]int64
	sec [10]int64
}

func (c *rollingCounter) inc(now time.Time) {
	s := now.Unix()
	i := s % 10
	if c.sec[i] != s {
		c.sec[i], c.n[i] = s, 0
	}
	c.n[i]++
}

func (c *rollingCounter) count(now time.Time) int64 {
	s := now.Unix()
	var out int64
	for i := range c.n {
		if c.sec[i] > s-10 && c.sec[i] <= s {
			out += c.n[i]
		}
	}
	return out
}

// rollingHist is oxy's RollingHDRHistogram: six HDR histograms
// (microseconds, 1 µs to an hour, two significant figures) rolled every
// ten seconds.
type rollingHist struct {
	h        [6]*hdrhistogram.Histogram
	idx      int
	lastRoll time.Time
}

func newRollingHist() *rollingHist {
	r := &rollingHist{}
	for i := range r.h {
		r.h[i] = hdrhistogram.New(1, 3_600_000_000, 2)
	}
	return r
}

func (r *rollingHist) record(now time.Time, d time.Duration) {
	if now.Sub(r.lastRoll) >= 10*time.Second {
		r.idx = (r.idx + 1) % len(r.h)
		r.h[r.idx].Reset()
		r.lastRoll = now
	}
	_ = r.h[r.idx].RecordValue(int64(d / time.Microsecond))
}

func (r *rollingHist) reset(now time.Time) {
	r.idx, r.lastRoll = 0, now
	for _, h := range r.h {
		h.Reset()
	}
}

func (r *rollingHist) quantileMS(_ time.Time, q float64) int {
	merged := hdrhistogram.New(1, 3_600_000_000, 2)
	for _, h := range r.h {
		merged.Merge(h)
	}
	return int(time.Duration(merged.ValueAtQuantile(q)) * time.Microsecond / time.Millisecond)
}
