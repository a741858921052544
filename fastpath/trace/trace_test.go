package trace

import (
	"testing"
	"time"
)

// W3C traceparent: the valid forms and the ones to ignore.
func TestParseTraceparent(t *testing.T) {
	for v, ok := range map[string]bool{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":        true,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00":        true,
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future": true, // a later version may add fields
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x":      false,
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":        false,
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01":        false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01":        false,
		"00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01":        false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7":           false,
		"": false,
	} {
		if _, _, _, got := parseTraceparent([]byte(v)); got != ok {
			t.Errorf("%q: %v, want %v", v, got, ok)
		}
	}
}

// Begin samples as OTel's ParentBased(TraceIDRatioBased(rate)).
func TestSampling(t *testing.T) {
	sampled := []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	unsampled := []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	for _, c := range []struct {
		rate     float64
		min, max int // of 10,000 roots sampled
	}{{0, 0, 0}, {1, 10000, 10000}, {0.25, 2300, 2700}} {
		tr := New(Config{SampleRate: c.rate, Endpoint: "http://127.0.0.1:1/v1/traces"})
		n := 0
		for range 10000 {
			if r := tr.Begin(nil, time.Now()); r != nil {
				n++
				tr.Discard(r)
			}
		}
		if n < c.min || n > c.max {
			t.Errorf("rate %v: %d of 10,000 sampled", c.rate, n)
		}
		if r := tr.Begin(sampled, time.Now()); r == nil || r.TraceID[0] != 0x4b {
			t.Errorf("rate %v: a sampled parent is not followed", c.rate)
		}
		if tr.Begin(unsampled, time.Now()) != nil {
			t.Errorf("rate %v: an unsampled parent is traced", c.rate)
		}
	}
}
