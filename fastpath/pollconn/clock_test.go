package pollconn

import (
	"testing"
	"time"
)

var (
	sinkDur  time.Duration
	sinkTime time.Time
)

// BenchmarkClock: the reading await takes twice per proxied request
// (monoNow, the monotonic clock alone) against time.Now (the wall clock
// as well).
func BenchmarkClock(b *testing.B) {
	b.Run("monoNow", func(b *testing.B) {
		for b.Loop() {
			sinkDur = monoNow()
		}
	})
	b.Run("time.Now", func(b *testing.B) {
		for b.Loop() {
			sinkTime = time.Now()
		}
	})
}

// TestMonoNowFollowsTheClock: monoNow advances with time, so the probe and
// watchdog decisions made with it see a quiet connection as quiet.
func TestMonoNowFollowsTheClock(t *testing.T) {
	a, start := monoNow(), time.Now()
	time.Sleep(20 * time.Millisecond)
	b, elapsed := monoNow(), time.Since(start)
	if d := b - a; d < 20*time.Millisecond || d > elapsed+time.Millisecond {
		t.Fatalf("monoNow advanced %v over a %v sleep", d, elapsed)
	}
}
