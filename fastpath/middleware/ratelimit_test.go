package middleware

import (
	"context"
	"math/rand"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// TestRateLimitMatchesXTimeRate: random request times against Traefik's
// in-memory limiter as it drives golang.org/x/time/rate (a limiter per
// source kept for its TTL in whole seconds, Reserve, Delay, Cancel past
// maxDelay): the same decisions and the same delays, for several
// averages, periods and bursts.
func TestRateLimitMatchesXTimeRate(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	for _, rl := range []RateLimit{
		{Average: 1, Burst: 1}, {Average: 10, Burst: 5}, {Average: 100, Period: time.Minute, Burst: 3},
		{Average: 3, Period: 2 * time.Second, Burst: 1}, {Average: 1000, Burst: 20}, {Average: 0, Burst: 1},
	} {
		l, err := rl.limits()
		if err != nil {
			t.Fatal(err)
		}
		limit := rate.Limit(l.rate)
		if l.rate > 1e300 {
			limit = rate.Inf
		}
		var ref *rate.Limiter
		var expiry int64 // Traefik's ttlmap: a source is dropped once its TTL (whole seconds) has passed
		now := time.Unix(1_700_000_000, 0)
		st := NewRateLimitState()
		st.Clock = func() time.Time { return now }
		for i := 0; i < 2000; i++ {
			now = now.Add(time.Duration(rnd.Int63n(int64(3 * time.Second / time.Duration(max(1, int(min(l.rate, 1e6))))))))
			if ref == nil || expiry <= now.Unix() {
				ref = rate.NewLimiter(limit, int(l.burst))
			}
			expiry = now.Unix() + l.ttl
			r := ref.ReserveN(now, 1)
			want := r.DelayFrom(now)
			wantOK := want <= l.maxDelay
			if !wantOK {
				r.CancelAt(now)
			}
			got, ok := st.allow([]byte("src"), &l)
			if ok != wantOK || got != want {
				t.Fatalf("%+v request %d: got %v %v, x/time/rate %v %v", rl, i, got, ok, want, wantOK)
			}
		}
	}
}

// TestRateLimitSourcesBounded: sources expire after their TTL, and past
// Traefik's 65,536 the one expiring first is dropped.
func TestRateLimitSourcesBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	st := NewRateLimitState()
	st.Clock = func() time.Time { return now }
	l, _ := RateLimit{Average: 10, Burst: 1}.limits()
	for i := 0; i < rateLimitSources+100; i++ {
		if i%1000 == 0 {
			now = now.Add(time.Millisecond)
		}
		st.allow([]byte(strconv.Itoa(i)), &l)
	}
	if n := st.Len(); n != rateLimitSources {
		t.Fatalf("%d sources kept, want the cap %d", n, rateLimitSources)
	}
	now = now.Add(3 * time.Second) // past the 2 s TTL of a rate of 10/s
	st.allow([]byte("late"), &l)
	if _, ok := st.allow([]byte("0"), &l); !ok {
		t.Fatal("an expired source was still limited")
	}
}

// TestRateLimitAnswers: the 429's headers and body, as Traefik writes
// them, and a wait within maxDelay served late rather than refused.
func TestRateLimitAnswers(t *testing.T) {
	mw, err := RateLimit{Average: 1, Burst: 1}.Middleware(NewRateLimitState())
	if err != nil {
		t.Fatal(err)
	}
	served := 0
	h := mw(pipeline.HandlerFunc(func(x *pipeline.Exchange) { served++ }))
	for i := 0; i < 2; i++ {
		x, _ := begin(t, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", "10.0.0.1")
		h.Serve(x)
		if i == 1 {
			r := x.Resp
			if r.StatusCode() != 429 || string(r.Header.Peek("Retry-After")) != "1" || len(r.Header.Peek("X-Retry-In")) == 0 ||
				string(r.Body()) != "Too Many Requests" || len(r.Header.Peek("Content-Type")) != 0 {
				t.Fatalf("second request: %d %q", r.StatusCode(), r.String())
			}
		}
		pipeline.Release(x)
	}
	if served != 1 {
		t.Fatalf("%d served, want 1", served)
	}
	if _, err := (RateLimit{Period: -time.Second}).Middleware(NewRateLimitState()); err == nil {
		t.Fatal("a negative period was accepted")
	}
}

// BenchmarkRateLimit is one request's bucket work (the source's text
// taken, the bucket found or made, a token taken) with 1 source and with
// 100,000 distinct ones in turn (past Traefik's cap of 65,536, so the
// oldest are evicted as new ones come); inFlightReq's slot taken and
// given back. Reports the heap per tracked source.
func BenchmarkRateLimit(b *testing.B) {
	for _, n := range []int{1, 100_000} {
		b.Run(strconv.Itoa(n)+" sources", func(b *testing.B) {
			keys := make([][]byte, n)
			for i := range keys {
				keys[i] = []byte("10.0." + strconv.Itoa(i/256%256) + "." + strconv.Itoa(i%256) + "-" + strconv.Itoa(i))
			}
			st := NewRateLimitState()
			l, _ := RateLimit{Average: 1 << 40, Burst: 1 << 20}.limits()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for _, k := range keys { // every source known before timing
				st.allow(k, &l)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			perSource := float64(after.HeapAlloc-before.HeapAlloc) / float64(st.Len())
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				st.allow(keys[i%n], &l)
			}
			b.ReportMetric(perSource, "heapB/source")
		})
	}
	b.Run("inFlightReq slot", func(b *testing.B) {
		c := NewInFlightCounts()
		src := []byte("a.example")
		b.ReportAllocs()
		for range b.N {
			c.acquire(src, 10).End()
		}
	})
}

// BenchmarkRateLimitRedis is one request's bucket through a real Redis
// (redis-server on loopback, started here; skipped without it), beside
// BenchmarkRateLimit's in-memory buckets: the same token bucket, one
// script run per request.
func BenchmarkRateLimitRedis(b *testing.B) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		b.Skip("redis-server not installed (make tools)")
	}
	ln, _ := net.Listen("tcp4", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", b.TempDir())
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp4", addr); err == nil {
			c.Close()
			break
		}
		if i > 200 {
			b.Fatal("redis-server did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	lim := NewRedisLimiter("bench-rl@kubernetescrd", RedisOptions{Endpoints: []string{addr}, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	defer lim.Close()
	l, _ := RateLimit{Average: 1 << 40, Burst: 1 << 20}.limits()
	src := []byte("10.0.0.1")
	b.ReportAllocs()
	for range b.N {
		if _, ok, err := lim.allow(context.Background(), src, &l); err != nil || !ok {
			b.Fatal(err)
		}
	}
}
