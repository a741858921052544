package middleware

import (
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// TestCBExpressions: what oxy's predicate parser accepts and refuses.
func TestCBExpressions(t *testing.T) {
	for expr, ok := range map[string]bool{
		"NetworkErrorRatio() > 0.5":                  true,
		"NetworkErrorRatio() > 1":                    false, // a ratio against an int
		"LatencyAtQuantileMS(50.0) > 100":            true,
		"LatencyAtQuantileMS(50) > 100":              false, // the quantile is a float64
		"LatencyAtQuantileMS(50.0) > 100.0":          false, // a latency against a float
		"ResponseCodeRatio(500, 600, 0, 600) > 0.25": true,
		"ResponseCodeRatio(500, 600) > 0.5":          false,
		"Foo() > 1":                                  false,
		"":                                           false,
		"!(NetworkErrorRatio() > 0.5)":               false,
		"0.5 < NetworkErrorRatio()":                  false,
		"NetworkErrorRatio() > 0.5 && (ResponseCodeRatio(500, 600, 0, 600) > 0.1 || LatencyAtQuantileMS(99.0) >= 50)": true,
		"NetworkErrorRatio() == 0.0 || NetworkErrorRatio() != 0.5 || NetworkErrorRatio() <= 0.3":                      true,
	} {
		if _, err := parseCBExpression(expr); (err == nil) != ok {
			t.Errorf("%q: error %v, want accepted %v", expr, err, ok)
		}
	}
}

// TestBreakerStates: on a fake clock, two network errors trip the breaker
// (checked after each request, at most every check period); it answers
// the response code for the fallback duration, then lets a growing share
// through while recovering, then serves all.
func TestBreakerStates(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	st := NewBreakerState()
	st.Clock = func() time.Time { return now }
	mw, err := CircuitBreaker{Expression: "NetworkErrorRatio() > 0.5", FallbackDuration: time.Second, RecoveryDuration: time.Second,
		ResponseCode: 418}.Middleware(st)
	if err != nil {
		t.Fatal(err)
	}
	status := 502
	served := 0
	h := mw(pipeline.HandlerFunc(func(x *pipeline.Exchange) { served++; x.Resp.SetStatusCode(status) }))
	do := func() int {
		x, _ := begin(t, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", "10.0.0.1")
		defer pipeline.Release(x)
		h.Serve(x)
		if x.Resp.StatusCode() == 418 && string(x.Resp.Body()) != "I'm a teapot" {
			t.Fatalf("fallback body %q", x.Resp.Body())
		}
		return x.Resp.StatusCode()
	}
	if got := do(); got != 502 {
		t.Fatalf("first: %d", got)
	}
	if got := do(); got != 418 {
		t.Fatalf("after a tripping check: %d, want the fallback", got)
	}
	now = now.Add(999 * time.Millisecond)
	if got := do(); got != 418 {
		t.Fatalf("within the fallback duration: %d", got)
	}
	status = 200
	now = now.Add(2 * time.Millisecond) // recovering starts
	passed := 0
	for i := 0; i < 20; i++ {
		now = now.Add(40 * time.Millisecond)
		if do() == 200 {
			passed++
		}
	}
	if passed == 0 || passed == 20 {
		t.Fatalf("recovering let %d of 20 through, want some", passed)
	}
	now = now.Add(time.Second)
	for i := 0; i < 5; i++ {
		if got := do(); got != 200 {
			t.Fatalf("after recovery: %d", got)
		}
	}
}

// BenchmarkBreaker is the breaker's cost on the success path: a standing
// by check and the answer counted (no latency recorded for an expression
// without LatencyAtQuantileMS).
func BenchmarkBreaker(b *testing.B) {
	st := NewBreakerState()
	expr, _ := parseCBExpression("NetworkErrorRatio() > 0.5")
	c := CircuitBreaker{CheckPeriod: 100 * time.Millisecond}
	b.ReportAllocs()
	for range b.N {
		if st.fallback() {
			b.Fatal("tripped")
		}
		st.record(200, time.Time{}, expr, &c)
	}
}

// TestBufferingRetryExpressions: oxy's buffer predicates, accepted and
// refused, and what they decide.
func TestBufferingRetryExpressions(t *testing.T) {
	for expr, ok := range map[string]bool{
		"IsNetworkError() && Attempts() < 2":                             true,
		`RequestMethod() == "GET" || ResponseCode() >= 500`:              true,
		"(IsNetworkError()) && Attempts() <= 3 && ResponseCode() != 504": true,
		"Attempts() < 2.5":        false,
		`RequestMethod() > "GET"`: false,
		"IsNetworkError":          false,
		"Other() == 1":            false,
		"Attempts() < 2 &&":       false,
	} {
		if _, err := parseBufExpression(expr); (err == nil) != ok {
			t.Errorf("%q: %v, want accepted %v", expr, err, ok)
		}
	}
	p, _ := parseBufExpression(`IsNetworkError() && Attempts() < 2 && RequestMethod() == "POST"`)
	for _, c := range []struct {
		method        string
		attempt, code int
		want          bool
	}{{"POST", 1, 502, true}, {"POST", 1, 504, true}, {"POST", 2, 502, false}, {"POST", 1, 500, false}, {"GET", 1, 502, false}} {
		if got := p([]byte(c.method), c.attempt, c.code); got != c.want {
			t.Errorf("%+v: %v", c, got)
		}
	}
}
