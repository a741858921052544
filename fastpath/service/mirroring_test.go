package service

import (
	"net/netip"
	"testing"
	"time"
)

// TestMirrorShares: Traefik's counting gives each mirror exactly its
// percent of requests, spread evenly; 0 never mirrors; the main service
// gets every request, and the copies arrive after it.
func TestMirrorShares(t *testing.T) {
	main, a, b := &recorder{name: "main"}, &recorder{name: "a"}, &recorder{name: "b"}
	m := NewMirroring("m", main, []Mirror{{Service: a, Percent: 10}, {Service: b, Percent: 0}}, true, -1, make(chan struct{}, 256))
	firstHalf := 0
	for i := 0; i < 100; i++ {
		if body, _ := serveOne(t, m, netip.Addr{}, ""); body != "main" {
			t.Fatalf("request %d answered by %q", i, body)
		}
		if i == 49 {
			waitCount(t, &a.n, 5)
			firstHalf = int(a.n.Load())
		}
	}
	waitCount(t, &a.n, 10)
	if main.n.Load() != 100 || a.n.Load() != 10 || b.n.Load() != 0 || firstHalf != 5 {
		t.Fatalf("main %d, 10%% mirror %d (%d in the first half), 0%% mirror %d; want 100, 10 (5), 0",
			main.n.Load(), a.n.Load(), firstHalf, b.n.Load())
	}
}

// waitCount waits until n equals want or a second passes: mirror copies
// are sent in the background.
func waitCount(t *testing.T, n interface{ Load() int64 }, want int64) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); n.Load() != want && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
}
