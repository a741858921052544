package main

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"
)

// After a burst of connections Go keeps what the burst used. Nothing
// allocates per request, so no GC runs to find that the connections'
// buffers and contexts are garbage, and the heap goal the burst set lets
// whatever allocates next (new connections' objects) grow the heap on top
// of them instead of reusing their memory: 1,000 connections and then a
// load of short connections took the 1-route RSS from 41 to 51 MB (PERF.md).
// So when the open client connections have stayed at or below half of a
// peak of at least trimMinPeak for trimSettle, Sluice collects the burst's
// garbage (twice: sync.Pool keeps its objects for one more cycle) and gives
// the freed memory back to the system, at most once per trimEvery.
//
// trimSettle outlasts the idle fasthttp workers (fastpath: gone within two
// seconds): a GC halves the stacks of idle goroutines, and halving a
// thousand 8 KiB stacks first allocates 4 MB of new ones, so collecting
// before the workers leave raised the peak it was meant to lower.
const (
	trimMinPeak = 256
	trimSettle  = 2500 * time.Millisecond
	trimEvery   = 10 * time.Second
	trimPoll    = 250 * time.Millisecond
)

// burstTrim follows the open connection count.
type burstTrim struct {
	minPeak      int
	settle, poll time.Duration
	every        time.Duration
	trim         func(peak, open int) // the collection

	peak  int
	since time.Time // when the count fell to half the peak; zero: it has not
	last  time.Time // the last trim
}

func newBurstTrim(log *slog.Logger) *burstTrim {
	return &burstTrim{minPeak: trimMinPeak, settle: trimSettle, poll: trimPoll, every: trimEvery,
		trim: func(peak, open int) { collect(log, peak, open) }}
}

// collect runs the GC twice, returns the freed memory to the system and
// logs what it took back.
func collect(log *slog.Logger, peak, open int) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	runtime.GC()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&after)
	releaseImage(log)
	held := func(m *runtime.MemStats) uint64 { return m.HeapSys - m.HeapReleased + m.StackSys }
	log.Debug("connection burst over: memory returned to the system", "peakConnections", peak,
		"openConnections", open, "heapLiveBefore", before.HeapAlloc, "heapLiveAfter", after.HeapAlloc,
		"heldBefore", held(&before), "heldAfter", held(&after))
}

// observe takes the open connection count at now, and the most open since
// the last observation, and says whether it trimmed.
func (b *burstTrim) observe(open, peak int, now time.Time) bool {
	b.peak = max(b.peak, peak, open)
	if b.peak < b.minPeak || open > b.peak/2 {
		b.since = time.Time{}
		return false
	}
	if b.since.IsZero() {
		b.since = now
	}
	if now.Sub(b.since) < b.settle || (!b.last.IsZero() && now.Sub(b.last) < b.every) {
		return false
	}
	b.trim(b.peak, open)
	b.peak, b.since, b.last = open, time.Time{}, now
	return true
}

// run polls conns until done is closed.
func (b *burstTrim) run(conns func() (open, peak int), done <-chan struct{}) {
	t := time.NewTicker(b.poll)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			open, peak := conns()
			b.observe(open, peak, now)
		}
	}
}
