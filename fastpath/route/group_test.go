package route

import (
	"net/netip"
	"testing"
)

type cookieJar map[string]string

func (j cookieJar) Cookie(k string) []byte {
	if v, ok := j[k]; ok {
		return []byte(v)
	}
	return nil
}

func leaf(name string, urls ...string) *Service {
	var s []Server
	for _, u := range urls {
		s = append(s, Server{URL: u})
	}
	return NewService(name, true, s)
}

// TestGroupChoose: a weighted TraefikService splits by weight, never
// picks a weight-0 child, nests, and with a sticky cookie pins a client to
// the child the cookie names (setting it only when it did not).
func TestGroupChoose(t *testing.T) {
	a, b, z := leaf("a", "http://a:1"), leaf("b", "http://b:1"), leaf("z", "http://z:1")
	inner := NewGroup("inner", []Target{{Weight: 3, Service: a, Name: "ns-a-80"}, {Weight: 1, Service: b, Name: "ns-b-80"}, {Weight: 0, Service: z, Name: "ns-z-80"}},
		&Sticky{Name: "grp", Path: "/"})
	outer := NewGroup("outer", []Target{{Weight: 1, Group: inner, Name: "ns-inner"}}, nil)
	r := &Route{Targets: []Target{{Weight: 1, Group: outer}}}
	counts := map[string]int{}
	var ch Choice
	for i := 0; i < 400; i++ {
		r.Choose(netip.Addr{}, nil, &ch)
		counts[ch.Server.URL]++
	}
	if counts["http://a:1"] != 300 || counts["http://b:1"] != 100 || counts["http://z:1"] != 0 {
		t.Fatalf("split %v, want 300/100/0", counts)
	}
	r.Choose(netip.Addr{}, cookieJar{}, &ch)
	if ch.NSet != 1 || ch.Set[0].Sticky.Name != "grp" {
		t.Fatalf("no group cookie set: %+v", ch)
	}
	pinned, value := ch.Server.URL, ch.Set[0].Value
	for i := 0; i < 20; i++ {
		r.Choose(netip.Addr{}, cookieJar{"grp": value}, &ch)
		if ch.Server.URL != pinned || ch.NSet != 0 {
			t.Fatalf("with the cookie: %s (set %d), want %s and no new cookie", ch.Server.URL, ch.NSet, pinned)
		}
	}
	r.Choose(netip.Addr{}, cookieJar{"grp": stickyValue("ns-z-80")}, &ch) // names the weight-0 child
	if ch.Server.URL == "http://z:1" || ch.NSet != 1 {
		t.Fatalf("a cookie naming an excluded child was honoured: %+v", ch)
	}
}
