package balance

import (
	"sync"
	"testing"
)

// TestWRRSmoothSequence: the picks are the smooth schedule (nginx's),
// from a random phase: some rotation of it, repeated.
func TestWRRSmoothSequence(t *testing.T) {
	f := func(weights []int, period []int) {
		t.Helper()
		b := New(weights)
		got := make([]int, 2*len(period))
		for i := range got {
			got[i] = b.Next()
		}
		for k := range period {
			ok := true
			for i, g := range got {
				ok = ok && g == period[(i+k)%len(period)]
			}
			if ok {
				return
			}
		}
		t.Fatalf("unexpected picks for %v; got %v; want a rotation of %v, repeated", weights, got, period)
	}
	// nginx's documented smooth sequence for 5,1,1: a a b a c a a.
	f([]int{5, 1, 1}, []int{0, 0, 1, 0, 2, 0, 0})
	f([]int{1, 1, 1}, []int{0, 1, 2})
	f([]int{0, 2}, []int{1})
	f([]int{3, 0, 0}, []int{0})
	f([]int{0, 0}, []int{-1})
	f(nil, []int{-1})
}

// TestWRRRandomPhase: balancers over the same weights do not all start
// with the same index (Traefik shuffles its servers for the same reason).
func TestWRRRandomPhase(t *testing.T) {
	first := map[int]bool{}
	for i := 0; i < 60; i++ {
		first[New([]int{1, 1, 1}).Next()] = true
	}
	if len(first) != 3 {
		t.Fatalf("60 balancers over 3 equal weights started with %v; want every index", first)
	}
}

func TestWRRConcurrentShares(t *testing.T) {
	b := New([]int{3, 1})
	var mu sync.Mutex
	counts := [2]int{}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := [2]int{}
			for i := 0; i < 1000; i++ {
				local[b.Next()]++
			}
			mu.Lock()
			counts[0] += local[0]
			counts[1] += local[1]
			mu.Unlock()
		}()
	}
	wg.Wait()
	if counts[0] != 3000 || counts[1] != 1000 {
		t.Fatalf("unexpected shares; got %v; want [3000 1000]", counts)
	}
}

func TestWRRLargeWeights(t *testing.T) {
	w := make([]int, 100)
	for i := range w {
		w[i] = 1000 + i
	}
	b := New(w)
	if b.Len() > maxPeriod+len(w) {
		t.Fatalf("schedule too long: %d", b.Len())
	}
	seen := map[int]bool{}
	for i := 0; i < b.Len(); i++ {
		seen[b.Next()] = true
	}
	if len(seen) != 100 {
		t.Fatalf("unexpected number of picked indices; got %d; want 100", len(seen))
	}
}
