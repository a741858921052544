package route

import (
	"net/netip"

	"github.com/sluiceproxy/sluice/fastpath/balance"
)

// Group is a weighted TraefikService: a weighted round robin over
// children, each a Service or another Group, optionally with its own
// sticky cookie whose value names the child. Immutable once published.
type Group struct {
	Name    string
	Targets []Target
	Sticky  *Sticky
	HRW     bool // highestRandomWeight: rendezvous hashing on the client IP, not round robin
	wrr     *balance.WRR
	values  []string // sticky value per target
}

// NewGroup returns a group over targets; a weight of 0 excludes a child.
func NewGroup(name string, targets []Target, sticky *Sticky) *Group {
	g := &Group{Name: name, Targets: targets, Sticky: sticky}
	w := make([]int, len(targets))
	g.values = make([]string, len(targets))
	for i, t := range targets {
		w[i] = t.Weight
		g.values[i] = stickyValue(t.Name)
	}
	g.wrr = balance.New(w)
	return g
}

// Cookies gives a request's cookie by name (*fasthttp.RequestHeader).
type Cookies interface {
	Cookie(key string) []byte
}

// MaxStickyLevels bounds the sticky cookies one choice can set: a sticky
// leaf under sticky groups, nested this deep.
const MaxStickyLevels = 4

// Choice is the outcome of choosing for one request: the leaf service and
// its server (nil: 503), and the sticky cookies the response must carry.
type Choice struct {
	Service  *Service
	Server   *Server
	Set      [MaxStickyLevels]CookieSet
	NSet     int
	Mirrors  [MaxMirrors]MirrorPick // mirror copies to send
	NMirrors int
	Failover *Failover // set when the choice went through a failover service
	client   netip.Addr
}

// CookieSet is one sticky cookie to set.
type CookieSet struct {
	Sticky *Sticky
	Value  string
}

// reset clears what a choice reads; the arrays are valid only up to their
// counts.
func (ch *Choice) reset(client netip.Addr) {
	ch.Service, ch.Server, ch.NSet, ch.NMirrors, ch.Failover, ch.client = nil, nil, 0, 0, nil, client
}

func (ch *Choice) set(s *Sticky, v string) {
	if ch.NSet < MaxStickyLevels {
		ch.Set[ch.NSet] = CookieSet{s, v}
		ch.NSet++
	}
}

// Choose picks for a request: a target of the route by weight, down any
// groups (honouring their sticky cookies), then a server of the leaf
// service (honouring its sticky cookie). cookies may be nil.
func (r *Route) Choose(client netip.Addr, cookies Cookies, ch *Choice) {
	ch.reset(client)
	if len(r.Targets) == 0 {
		return
	}
	t := &r.Targets[0]
	if len(r.Targets) > 1 {
		i := r.wrr.Next()
		if i < 0 {
			return
		}
		t = &r.Targets[i]
	}
	t.choose(cookies, ch, 0)
}

func (t *Target) choose(cookies Cookies, ch *Choice, depth int) {
	if f := t.Failover; f != nil {
		if depth > 16 {
			return
		}
		ch.Failover = f
		f.Main.choose(cookies, ch, depth+1)
		return
	}
	if m := t.Mirroring; m != nil {
		if depth > 16 {
			return
		}
		m.active(ch)
		m.Main.choose(cookies, ch, depth+1)
		return
	}
	if t.Group != nil {
		if depth > 16 {
			return // the compiler rejects cycles; this only bounds a bug
		}
		i := t.Group.pick(cookies, ch)
		if i < 0 {
			return
		}
		t.Group.Targets[i].choose(cookies, ch, depth+1)
		return
	}
	t.Service.choose(cookies, ch)
}

// choose picks a server of s, honouring its sticky cookie.
func (s *Service) choose(cookies Cookies, ch *Choice) {
	ch.Service = s
	if s.Sticky == nil || cookies == nil {
		ch.Server = s.PickFor(ch.client)
		return
	}
	srv, fresh := s.PickSticky(cookies.Cookie(s.Sticky.Name))
	ch.Server = srv
	if fresh && srv != nil {
		ch.set(s.Sticky, srv.cookie)
	}
}

// pick returns the index of the child to use, or -1.
func (g *Group) pick(cookies Cookies, ch *Choice) int {
	if g.HRW {
		return g.rendezvous(ch.client)
	}
	if g.Sticky != nil && cookies != nil {
		if v := cookies.Cookie(g.Sticky.Name); len(v) > 0 {
			for i, val := range g.values {
				if g.Targets[i].Weight > 0 && (string(v) == val || string(v) == g.Targets[i].Name) {
					return i
				}
			}
		}
	}
	i := g.wrr.Next()
	if i >= 0 && g.Sticky != nil {
		ch.set(g.Sticky, g.values[i])
	}
	return i
}
