package service

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Strategy is a service's load-balancing strategy (Traefik v3.7 names).
type Strategy uint8

// Strategies served.
const (
	WRR       Strategy = iota // weighted round robin (wrr, RoundRobin; the default)
	P2C                       // power of two choices: the less busy of two random servers
	HRW                       // highest random weight: rendezvous hashing on the client IP
	LeastTime                 // lowest average response time, scaled by requests in flight
)

func (s Strategy) String() string { return [...]string{"wrr", "p2c", "hrw", "leasttime"}[s] }

// Begin and End bracket a request to the server for P2C and LeastTime.
func (sv *Server) Begin() { sv.load.Add(1) }

// End ends what Begin began.
func (sv *Server) End() { sv.load.Add(-1) }

// Observe records a response time for LeastTime: an exponentially
// weighted moving average (1/8 of each new sample).
func (sv *Server) Observe(d time.Duration) {
	for {
		old := sv.rtt.Load()
		next := int64(d)
		if old != 0 {
			next = old + (int64(d)-old)/8
		}
		if sv.rtt.CompareAndSwap(old, max(next, 1)) {
			return
		}
	}
}

// leastTime returns the eligible server with the lowest average response
// time times (requests in flight + 1); servers not yet measured go first,
// in balancer order, so every server gets measured.
func (set *ServerSet) leastTime() int {
	now := set.clock()
	start := set.wrr.Next()
	if start < 0 {
		return -1
	}
	n := len(set.Servers)
	best, bestScore := -1, int64(0)
	for k := 0; k < n; k++ {
		i := (start + k) % n
		if !set.eligible(i, now) {
			continue
		}
		sv := &set.Servers[i]
		score := sv.rtt.Load() * (sv.load.Load() + 1)
		if best < 0 || score < bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// p2c picks two distinct eligible servers at random and returns the one
// with fewer requests in flight.
func (set *ServerSet) p2c() int {
	now := set.clock()
	a := set.randomEligible(-1, now)
	if a < 0 {
		return -1
	}
	b := set.randomEligible(a, now)
	if b >= 0 && set.Servers[b].load.Load() < set.Servers[a].load.Load() {
		return b
	}
	return a
}

// randomEligible returns an eligible server other than skip, starting
// from a random one, or -1.
func (set *ServerSet) randomEligible(skip int, now int64) int {
	n := len(set.Servers)
	if n == 0 {
		return -1
	}
	start := rand.IntN(n)
	for k := 0; k < n; k++ {
		if i := (start + k) % n; i != skip && set.eligible(i, now) {
			return i
		}
	}
	return -1
}

// hrw returns the eligible server with the highest rendezvous score for
// the client IP, so a client keeps its server while the set is unchanged
// and only the clients of a removed server move. The score is Traefik's
// (traefik v3.7 pkg/server/service/loadbalancer/hrw getNodeScore, the
// server named by its URL), so a client reaches the server it would reach
// through Traefik.
func (set *ServerSet) hrw(ip netip.Addr) int {
	best, bestScore := -1, math.Inf(-1)
	now := set.clock()
	var buf [64]byte
	src := ip.AppendTo(buf[:0])
	for i := range set.Servers {
		if !set.eligible(i, now) {
			continue
		}
		if score := hrwScore(src, set.Servers[i].URL, 1); score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// hrwScore is Traefik's rendezvous score of a client (its IP as text)
// and a node: the node's weight over -ln(u), u the FNV-64a hash of the IP
// and the name together, as a fraction of 2^64. It allocates nothing.
func hrwScore(src []byte, name string, weight float64) float64 {
	h := uint64(14695981039346656037)
	for _, c := range src {
		h = (h ^ uint64(c)) * 1099511628211
	}
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	return 1 / -math.Log(float64(h)/math.Pow(2, 64)) * weight
}

// eligible: not fenced and not down at now (see clock).
func (set *ServerSet) eligible(i int, now int64) bool {
	sv := &set.Servers[i]
	return !sv.Fenced && (!set.checked || !sv.down(now))
}

// clock is the time checks are judged at, read once per pick and only
// for sets with checks.
func (set *ServerSet) clock() int64 {
	if !set.checked {
		return 0
	}
	return time.Now().UnixNano()
}

// rendezvous is a highestRandomWeight TraefikService's choice: the child
// with the highest weighted score for the client IP (weight 0 excluded),
// so a client sticks to a child and shares follow the weights; Traefik's
// score, each child named by its Traefik service name (Child.Name).
func (w *Weighted) rendezvous(ip netip.Addr) int {
	best, bestScore := -1, math.Inf(-1)
	var buf [64]byte
	src := ip.AppendTo(buf[:0])
	for i, c := range w.Children {
		if c.Weight <= 0 {
			continue
		}
		if score := hrwScore(src, c.Name, float64(c.Weight)); score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}
