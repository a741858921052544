package service

import (
	"hash/fnv"
	"math"
	"net/netip"
	"testing"
	"time"
)

func TestHRWKeepsClientsAndMovesFew(t *testing.T) {
	servers := []Server{{URL: "http://a:1"}, {URL: "http://b:1"}, {URL: "http://c:1"}}
	s := NewLoadBalancer("s", true, servers)
	s.Strategy = HRW
	before := map[netip.Addr]string{}
	count := map[string]int{}
	for i := 0; i < 300; i++ {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i)})
		u := s.PickFor(ip).URL
		if again := s.PickFor(ip).URL; again != u {
			t.Fatalf("client %v moved from %s to %s with no change", ip, u, again)
		}
		before[ip] = u
		count[u]++
	}
	for u, n := range count {
		if n < 60 {
			t.Errorf("server %s got %d of 300 clients: %v", u, n, count)
		}
	}
	s.SetServers([]Server{{URL: "http://a:1"}, {URL: "http://b:1"}}) // c leaves
	for ip, u := range before {
		if now := s.PickFor(ip).URL; u != "http://c:1" && now != u {
			t.Fatalf("client %v of %s moved to %s when only c left", ip, u, now)
		}
	}
}

func TestP2CAvoidsTheBusyServer(t *testing.T) {
	s := NewLoadBalancer("s", true, []Server{{URL: "http://busy:1"}, {URL: "http://b:1"}, {URL: "http://c:1"}})
	s.Strategy = P2C
	busy := &s.Servers().Servers[0]
	for i := 0; i < 10; i++ {
		busy.Begin()
	}
	for i := 0; i < 200; i++ {
		if sv := s.Pick(); sv == busy {
			t.Fatal("p2c picked the server with 10 requests in flight over idle ones")
		}
	}
	for i := 0; i < 10; i++ {
		busy.End()
	}
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		seen[s.Pick().URL] = true
	}
	if len(seen) != 3 {
		t.Errorf("idle servers not all used: %v", seen)
	}
}

// TestHRWService: a highestRandomWeight TraefikService keeps each client
// on one child, never uses a weight-0 child, and picks for each client the
// child Traefik picks: its score, computed here with the standard
// library's FNV-64a as Traefik's getNodeScore does.
func TestHRWService(t *testing.T) {
	a, b, z := &recorder{name: "a"}, &recorder{name: "b"}, &recorder{name: "z"}
	children := []Child{{Weight: 3, Service: a, Name: "ns-a-80"}, {Weight: 1, Service: b, Name: "ns-b-80"}, {Weight: 0, Service: z, Name: "ns-z-80"}}
	g := NewHRW("g", children)
	traefik := func(ip netip.Addr) string {
		best, bestScore := "", math.Inf(-1)
		for _, c := range children[:2] {
			h := fnv.New64a()
			h.Write([]byte(ip.String() + c.Name))
			if score := 1.0 / -math.Log(float64(h.Sum64())/math.Pow(2, 64)) * float64(c.Weight); score > bestScore {
				best, bestScore = c.Name[3:4], score
			}
		}
		return best
	}
	count := map[string]int{}
	for i := 0; i < 800; i++ {
		ip := netip.AddrFrom4([4]byte{172, 16, byte(i / 256), byte(i)})
		first, _ := serveOne(t, g, ip, "")
		if again, _ := serveOne(t, g, ip, ""); again != first {
			t.Fatalf("client %v moved between children", ip)
		}
		if want := traefik(ip); first != want {
			t.Fatalf("client %v: child %s; Traefik's score picks %s", ip, first, want)
		}
		count[first]++
	}
	if count["z"] != 0 || count["a"] <= count["b"] {
		t.Fatalf("shares %v: the weight-3 child must get more than the weight-1 one, the weight-0 none", count)
	}
}

func TestLeastTime(t *testing.T) {
	s := NewLoadBalancer("s", true, []Server{{URL: "http://a:1"}, {URL: "http://b:1"}, {URL: "http://c:1"}})
	s.Strategy = LeastTime
	set := s.Servers().Servers
	a, b, c := &set[0], &set[1], &set[2]
	a.Observe(10 * time.Millisecond)
	c.Observe(5 * time.Millisecond)
	if got := s.Pick(); got != b {
		t.Fatalf("an unmeasured server must be tried first; got %s", got.URL)
	}
	b.Observe(time.Millisecond)
	for i := 0; i < 5; i++ {
		if got := s.Pick(); got != b {
			t.Fatalf("fastest idle server not picked: %s", got.URL)
		}
	}
	for i := 0; i < 20; i++ {
		b.Begin()
	}
	if got := s.Pick(); got != c {
		t.Fatalf("b is fast but has 20 requests in flight; got %s, want c", got.URL)
	}
}
