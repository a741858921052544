package service

import (
	"net/netip"
	"strings"
	"testing"
)

// TestWeightedChoose: a weighted service splits by weight, never picks a
// weight-0 child, nests, and with a sticky cookie pins a client to the
// child the cookie names (setting it only when it did not).
func TestWeightedChoose(t *testing.T) {
	a, b, z := &recorder{name: "a"}, &recorder{name: "b"}, &recorder{name: "z"}
	inner := NewWeighted("inner", []Child{{Weight: 3, Service: a, Name: "ns-a-80"}, {Weight: 1, Service: b, Name: "ns-b-80"}, {Weight: 0, Service: z, Name: "ns-z-80"}},
		&Sticky{Name: "grp", Path: "/"})
	outer := NewWeighted("outer", []Child{{Weight: 1, Service: inner, Name: "ns-inner"}}, nil)
	counts := map[string]int{}
	for i := 0; i < 400; i++ {
		body, _ := serveOne(t, outer, netip.Addr{}, "")
		counts[body]++
	}
	if counts["a"] != 300 || counts["b"] != 100 || counts["z"] != 0 {
		t.Fatalf("split %v, want 300/100/0", counts)
	}
	pinned, sc := serveOne(t, outer, netip.Addr{}, "")
	if !strings.HasPrefix(sc, "grp=") {
		t.Fatalf("no group cookie set: %q", sc)
	}
	cookie := strings.SplitN(sc, ";", 2)[0]
	for i := 0; i < 20; i++ {
		if body, sc := serveOne(t, outer, netip.Addr{}, cookie); body != pinned || sc != "" {
			t.Fatalf("with the cookie: %s (Set-Cookie %q), want %s and no new cookie", body, sc, pinned)
		}
	}
	body, sc := serveOne(t, outer, netip.Addr{}, "grp="+stickyValue("ns-z-80")) // names the weight-0 child
	if body == "z" || sc == "" {
		t.Fatalf("a cookie naming an excluded child was honoured: %s %q", body, sc)
	}
}
