package route

import (
	"net/netip"
	"testing"
)

// TestMirrorShares: Traefik's counting gives each mirror exactly its
// percent of requests, spread evenly; 0 never mirrors; the main service
// gets every request.
func TestMirrorShares(t *testing.T) {
	main, a, b := leaf("main", "http://m:1"), leaf("a", "http://a:1"), leaf("b", "http://b:1")
	m := NewMirroring("m", Target{Service: main}, []Mirror{{Target: Target{Service: a}, Percent: 10}, {Target: Target{Service: b}, Percent: 0}}, true, -1)
	r := &Route{Targets: []Target{{Weight: 1, Mirroring: m}}}
	var ch Choice
	hits, firstHalf := 0, 0
	for i := 0; i < 100; i++ {
		r.Choose(netip.Addr{}, nil, &ch)
		if ch.Server.URL != "http://m:1" {
			t.Fatalf("main got no request %d", i)
		}
		for _, p := range ch.Mirrors[:ch.NMirrors] {
			if _, sv := p.Server(netip.Addr{}); sv.URL != "http://a:1" {
				t.Fatalf("mirrored to %s", sv.URL)
			}
			hits++
			if i < 50 {
				firstHalf++
			}
		}
	}
	if hits != 10 || firstHalf != 5 {
		t.Fatalf("10%% mirror: %d hits (%d in the first half), want 10 (5)", hits, firstHalf)
	}
}
