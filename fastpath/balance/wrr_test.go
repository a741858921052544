package balance

import (
	"sync"
	"testing"
)

func TestWRRSmoothSequence(t *testing.T) {
	f := func(weights []int, want []int) {
		t.Helper()
		b := New(weights)
		for i, w := range want {
			if got := b.Next(); got != w {
				t.Fatalf("unexpected pick %d for %v; got %d; want %d", i, weights, got, w)
			}
		}
	}
	// nginx's documented smooth sequence for 5,1,1: a a b a c a a.
	f([]int{5, 1, 1}, []int{0, 0, 1, 0, 2, 0, 0, 0, 0, 1})
	f([]int{1, 1, 1}, []int{0, 1, 2, 0, 1, 2})
	f([]int{0, 2}, []int{1, 1, 1})
	f([]int{3, 0, 0}, []int{0, 0})
	f([]int{0, 0}, []int{-1, -1})
	f(nil, []int{-1})
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
