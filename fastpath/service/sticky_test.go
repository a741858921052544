package service

import (
	"net/netip"
	"testing"
)

// TestStickyNamesAndValues are crd.md 7.3's examples of Traefik's output.
func TestStickyNamesAndValues(t *testing.T) {
	if got := StickyCookieName("", "default-whoami-80@kubernetescrd"); got != "_9fb22" {
		t.Errorf("generated name %q, want _9fb22", got)
	}
	if got := StickyCookieName("a b;c\"d", "x"); got != "a_b_c_d" {
		t.Errorf("sanitized %q", got)
	}
	if got := stickyValue("http://10.10.0.1:80"); got != "30a57488489b105c" {
		t.Errorf("value %q, want 30a57488489b105c", got)
	}
}

func TestPickSticky(t *testing.T) {
	s := NewLoadBalancer("s", true, []Server{{URL: "http://a:1"}, {URL: "http://b:1"}, {URL: "http://c:1", Fenced: true}})
	set := s.Servers().Servers
	for _, tc := range []struct {
		value string
		want  string
		fresh bool
	}{
		{set[1].CookieValue(), "http://b:1", false},
		{"http://a:1", "http://a:1", false},              // legacy raw URL
		{legacyValue("http://b:1"), "http://b:1", false}, // legacy FNV-64
		{set[2].CookieValue(), "", true},                 // fenced: rebalanced
		{"gone", "", true},
		{"", "", true},
	} {
		sv, fresh := s.PickSticky([]byte(tc.value))
		if fresh != tc.fresh || tc.want != "" && sv.URL != tc.want || sv.Fenced {
			t.Errorf("value %q: got %s fresh=%t", tc.value, sv.URL, fresh)
		}
	}
}

// TestFencedServersAreALastResort: terminating-but-serving servers take
// no new requests while another server is up, and take them rather than
// answer 503 when none is.
func TestFencedServersAreALastResort(t *testing.T) {
	s := NewLoadBalancer("s", true, []Server{{URL: "http://a:1"}, {URL: "http://t:1", Fenced: true}})
	for i := 0; i < 10; i++ {
		if sv := s.Pick(); sv.URL != "http://a:1" {
			t.Fatalf("picked %s while a:1 is up", sv.URL)
		}
	}
	s.SetServers([]Server{{URL: "http://t:1", Fenced: true}, {URL: "http://u:1", Fenced: true}})
	seen := map[string]bool{}
	for i := 0; i < 4; i++ {
		sv := s.Pick()
		if sv == nil {
			t.Fatal("503 with terminating servers still serving")
		}
		seen[sv.URL] = true
	}
	if len(seen) != 2 {
		t.Errorf("fenced servers not balanced: %v", seen)
	}
	s.SetServers(nil)
	if s.Pick() != nil {
		t.Error("a server from nothing")
	}
}

// TestLeanServiceDerivesWhatItUses: a service built with its stickiness
// and strategy known derives cookie values only for sticky and hrw, and
// load counters only for p2c and leasttime.
func TestLeanServiceDerivesWhatItUses(t *testing.T) {
	for _, tc := range []struct {
		name           string
		sticky         *Sticky
		strategy       Strategy
		keys, counters bool
	}{
		{"wrr", nil, WRR, false, false},
		{"sticky wrr", &Sticky{Name: "s"}, WRR, true, false},
		{"hrw", nil, HRW, false, false}, // Traefik's score names a server by its URL
		{"p2c", nil, P2C, false, true},
		{"leasttime", nil, LeastTime, false, true},
	} {
		s := NewLoadBalancerWith("s", true, tc.sticky, tc.strategy, []Server{{URL: "http://a:1"}, {URL: "http://b:1"}})
		sv := s.Servers().Servers[0]
		if (sv.cookie != "") != tc.keys || (sv.load != nil) != tc.counters {
			t.Errorf("%s: cookie %q, counters %v; want keys %v, counters %v", tc.name, sv.cookie, sv.load != nil, tc.keys, tc.counters)
		}
		if s.PickFor(netip.MustParseAddr("192.0.2.1")) == nil {
			t.Errorf("%s: no server picked", tc.name)
		}
	}
}
