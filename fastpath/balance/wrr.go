package balance

import (
	"math/rand/v2"
	"sync/atomic"
)

// maxPeriod bounds the precomputed schedule; larger weight sums are scaled
// down proportionally (each positive weight keeps at least 1).
const maxPeriod = 4096

// WRR picks indices 0..n-1 in proportion to their weights. The zero value
// picks nothing; Init makes it ready in place (it must not be copied
// afterwards: a short schedule lives inside it, beside the counter, so a
// balancer out of cache costs one cache line).
type WRR struct {
	seq   []uint32
	n     atomic.Uint64
	small [4]uint32
}

// New builds a WRR over weights. Weights <= 0 are never picked. With no
// positive weight, Next returns -1.
func New(weights []int) *WRR {
	b := new(WRR)
	b.Init(weights)
	return b
}

// Init builds the schedule over weights in place, as New does. It is for
// a WRR not yet in use.
func (b *WRR) Init(weights []int) {
	w := normalize(weights)
	total := 0
	for _, x := range w {
		total += x
	}
	seq := b.small[:0]
	if total > len(b.small) {
		seq = make([]uint32, 0, total)
	}
	cur := make([]int, len(w))
	for len(seq) < total {
		best := -1
		for i, x := range w {
			if x <= 0 {
				continue
			}
			cur[i] += x
			if best < 0 || cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		seq = append(seq, uint32(best))
	}
	b.seq = seq
	if len(seq) > 1 {
		// A random phase, as Traefik shuffles a balancer's servers when it
		// builds it: replicas (and tables) do not all send their first
		// requests to the same server. Shares are unchanged.
		b.n.Store(uint64(rand.IntN(len(seq))))
	}
}

func normalize(weights []int) []int {
	w := make([]int, len(weights))
	g, total := 0, 0
	for i, x := range weights {
		if x > 0 {
			w[i] = x
			g = gcd(g, x)
			total += x
		}
	}
	if g > 1 {
		total = 0
		for i := range w {
			w[i] /= g
			total += w[i]
		}
	}
	if total > maxPeriod {
		for i, x := range w {
			if x > 0 {
				w[i] = max(1, x*maxPeriod/total)
			}
		}
	}
	return w
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Next returns the next index in the schedule, or -1 if there is none.
func (b *WRR) Next() int {
	if len(b.seq) == 0 {
		return -1
	}
	i := b.n.Add(1) - 1
	return int(b.seq[i%uint64(len(b.seq))])
}

// Len is the number of distinct indices the schedule may return.
func (b *WRR) Len() int { return len(b.seq) }
