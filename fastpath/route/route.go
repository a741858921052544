package route

import (
	"net/netip"
	"slices"
	"sync/atomic"

	"github.com/sluiceproxy/sluice/fastpath/balance"
	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// Route is one router. Immutable once its Table is published.
type Route struct {
	Name        string   // Traefik router name, e.g. default-web-6b204d94623b3df4370c@kubernetescrd
	Rule        string   // rule as written
	Priority    int64    // effective priority
	EntryPoints []string // entry points it is attached to
	Source      string   // where it came from, e.g. default/web#routes[0]
	Service     string   // Traefik service name the router points at
	Targets     []Target // weighted services (one for a single-service route)
	Rank        int      // position in priority order (0 first)
	Entries     []Entry  // the rule as indexed conjunctions

	wrr *balance.WRR
}

// Target is one weighted child of a route or Group: a Service, or a
// Group (a weighted TraefikService). Its pointers come first, in the order
// a choice tests them.
type Target struct {
	Failover  *Failover
	Mirroring *Mirroring
	Group     *Group
	Service   *Service // nil when Group or Mirroring is set
	Weight    int
	Name      string // the child's name, which a group's sticky value hashes
}

// Service is a load balancer over servers. Its server set is swapped
// atomically when endpoints change; everything else is immutable.
type Service struct {
	Name           string
	PassHostHeader bool
	Sticky         *Sticky  // nil: not sticky
	Strategy       Strategy // set before the table is published
	servers        atomic.Pointer[ServerSet]
	// lean: SetServers derives only what Sticky and Strategy use (cookie
	// values for sticky and hrw, load counters for p2c and leasttime);
	// PERF.md has what that saved at 100k services.
	lean bool
	// first is the first server set, kept inside the Service so that a
	// service out of cache and its balancer are neighbouring lines; later
	// sets are allocated (requests in flight may still read this one).
	first ServerSet
}

// ServerSet is an immutable list of servers with its balancer (whose
// counter is the one thing that changes).
type ServerSet struct {
	wrr     balance.WRR
	checked bool // some server has a health check
	Servers []Server
	fenced  *balance.WRR // over the terminating-but-serving servers, used when no other is up
}

// next returns the balancer's next server that is up, or -1.
// When every other server is gone or down, a terminating-but-serving one
// is better than a 503 (Traefik answers 503 there; users.md).
func (set *ServerSet) next() int {
	if i := set.up(&set.wrr); i >= 0 {
		return i
	}
	if set.fenced != nil {
		return set.up(set.fenced)
	}
	return -1
}

func (set *ServerSet) up(b *balance.WRR) int {
	i := b.Next()
	if !set.checked || i < 0 {
		return i
	}
	now := set.clock()
	if !set.Servers[i].down(now) {
		return i
	}
	for range b.Len() {
		if i = b.Next(); !set.Servers[i].down(now) {
			return i
		}
	}
	return -1
}

// down: its active check failed, or passive checks took it out until after now.
func (sv *Server) down(now int64) bool { return sv.Health.Down() || sv.Passive.Down(now) }

// Server is one endpoint of a service.
type Server struct {
	URL      string // scheme://host:port, as Traefik names it
	Endpoint *upstream.Endpoint
	Fenced   bool              // terminating but serving: never picked for new requests
	Health   *upstream.Health  // active health check; nil: always up
	Passive  *upstream.Passive // passive health check; nil: none
	cookie   string            // sticky cookie value naming this server (set by SetServers)
	legacy   string            // its FNV-64 form, still accepted
	load     *atomic.Int64     // requests in flight (p2c, leasttime), set by SetServers
	rtt      *atomic.Int64     // average response time in ns (leasttime), set by SetServers
}

// NewService returns a service with the given servers, ready for any
// stickiness or strategy set on it afterwards.
func NewService(name string, passHost bool, servers []Server) *Service {
	s := &Service{Name: name, PassHostHeader: passHost}
	s.SetServers(servers)
	return s
}

// NewServiceWith returns a service whose stickiness and strategy are known
// now and never change: its server sets carry only what those use.
func NewServiceWith(name string, passHost bool, sticky *Sticky, strategy Strategy, servers []Server) *Service {
	s := &Service{Name: name, PassHostHeader: passHost, Sticky: sticky, Strategy: strategy, lean: true}
	s.SetServers(servers)
	return s
}

// SetServers publishes a new server set; requests in flight keep the old one.
func (s *Service) SetServers(servers []Server) {
	w, fw := make([]int, len(servers)), make([]int, len(servers))
	checked, anyFenced := false, false
	cookies := !s.lean || s.Sticky != nil || s.Strategy == HRW
	loads := !s.lean || s.Strategy == P2C || s.Strategy == LeastTime
	if cookies || loads {
		servers = slices.Clone(servers) // the caller's list may be shared with other services
	}
	for i := range servers {
		sv := &servers[i]
		if !sv.Fenced {
			w[i] = 1
		} else {
			fw[i], anyFenced = 1, true
		}
		if cookies {
			sv.cookie, sv.legacy = stickyValue(sv.URL), legacyValue(sv.URL)
		}
		if loads {
			sv.load, sv.rtt = new(atomic.Int64), new(atomic.Int64)
		}
		checked = checked || sv.Health != nil || sv.Passive != nil
	}
	set := &s.first
	if s.servers.Load() != nil {
		set = new(ServerSet)
	}
	set.Servers, set.checked = servers, checked
	set.wrr.Init(w)
	if anyFenced {
		set.fenced = balance.New(fw)
	}
	s.servers.Store(set)
}

// Servers returns the current server set.
func (s *Service) Servers() *ServerSet { return s.servers.Load() }

// Pick returns the next server, or nil when none is available (503).
func (s *Service) Pick() *Server { return s.PickFor(netip.Addr{}) }

// PickFor is Pick for a client (the hrw strategy hashes its IP).
func (s *Service) PickFor(client netip.Addr) *Server {
	set := s.servers.Load()
	i := -1
	switch s.Strategy {
	case P2C:
		i = set.p2c()
	case HRW:
		i = set.hrw(client)
	case LeastTime:
		i = set.leastTime()
	}
	if i < 0 {
		i = set.next() // wrr, or the fenced fallback
	}
	if i < 0 {
		return nil
	}
	return &set.Servers[i]
}

// Pick chooses without cookies: a service by weight, then a server in it.
// It returns a nil server when nothing is available (503).
func (r *Route) Pick() (*Service, *Server) {
	var ch Choice
	r.Choose(netip.Addr{}, nil, &ch)
	return ch.Service, ch.Server
}

// Lit is one literal of a conjunction: a matcher, possibly negated.
type Lit struct {
	M   *match.Matcher
	Neg bool
}

// Expr is a rule tree for rules too large to expand into conjunctions.
type Expr struct {
	Op          uint8 // 0 leaf, 1 and, 2 or, 3 not
	M           *match.Matcher
	Left, Right *Expr
}

// Expr operators.
const (
	ExprLeaf uint8 = iota
	ExprAnd
	ExprOr
	ExprNot
)

// Eval evaluates the tree.
func (e *Expr) Eval(r *match.Request) bool {
	switch e.Op {
	case ExprAnd:
		return e.Left.Eval(r) && e.Right.Eval(r)
	case ExprOr:
		return e.Left.Eval(r) || e.Right.Eval(r)
	case ExprNot:
		return !e.Left.Eval(r)
	}
	return e.M.Match(r)
}

// Cand is a candidate in a trie node: a route with the predicates that must
// still hold for it to match.
type Cand struct {
	Route *Route
	Lits  []Lit // conjunction; ignored when Tree is set
	Tree  *Expr

	// check is Lits without the literals the entry's index keys already
	// prove for a request that reaches this candidate (set by Builder.Add).
	// The Host literal is only proven when the request host does not end
	// in "..", so such requests check all of Lits.
	check []Lit
}

func (c *Cand) match(r *match.Request, full bool) bool {
	if c.Tree != nil {
		return c.Tree.Eval(r)
	}
	lits := c.check
	if full {
		lits = c.Lits
	}
	for i := range lits {
		if lits[i].M.Match(r) == lits[i].Neg {
			return false
		}
	}
	return true
}

// setCheck derives e.Cand.check: it drops the Host literal the exact host
// key came from (Host(`k`) holds for hosts k and k.; Host(`k.`) also for
// k..) and the Path/PathPrefix literals the path key implies.
func (e *Entry) setCheck() {
	c := &e.Cand
	c.check = make([]Lit, 0, len(c.Lits))
	hostDone := false
	for _, l := range c.Lits {
		if !l.Neg && !hostDone && e.HostKind == HostExact && l.M.Kind == match.Host && (l.M.A == e.HostKey || l.M.A == e.HostKey+".") {
			hostDone = true
			continue
		}
		if !l.Neg && e.pathImplies(l.M) {
			continue
		}
		c.check = append(c.check, l)
	}
}

// pathImplies reports whether reaching the entry's trie node proves m.
func (e *Entry) pathImplies(m *match.Matcher) bool {
	switch {
	case m.Kind == match.Path:
		return e.PathKind == PathExact && m.A == e.PathKey
	case m.Kind == match.PathPrefix:
		return e.PathKind != PathAny && len(m.A) <= len(e.PathKey) && e.PathKey[:len(m.A)] == m.A
	}
	return false
}
