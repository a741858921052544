package route

import (
	"time"

	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/obs"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/service"
)

// Route is one router. Immutable once its Table is published.
type Route struct {
	Name string // Traefik router name, e.g. default-web-6b204d94623b3df4370c@kubernetescrd
	Rule string // rule as written
	// ReadAs is, for a rule in Traefik v2's syntax, the v3 rule it is
	// matched as (explanations); "" for a v3 rule.
	ReadAs      string
	Priority    int64    // effective priority
	EntryPoints []string // entry points it is attached to
	Source      string   // where it came from, e.g. default/web#routes[0]
	Service     string   // Traefik service name the router points at
	// Middlewares names the router's middlewares, in order (explanations).
	Middlewares []string
	// Handler serves a request the router matched: its middlewares, then
	// Target (or, for a parent router, its children's Index).
	Handler pipeline.Handler
	// Target is the router's service graph; nil for a parent router
	// (multi-layer routing), whose Children route instead.
	Target service.Service
	// Children are a parent router's child routers, in priority order
	// (SetChildren); nil otherwise.
	Children []*Route
	Rank     int     // position in priority order (0 first)
	Entries  []Entry // the rule as indexed conjunctions
	// TLS is a TLS router's TLS block: it serves only TLS connections
	// (the table's TLS indexes); nil: only plain ones.
	TLS *TLS

	// Obs is the router's metrics handle (nil: off), set when the table
	// is built; its services' load balancers carry theirs.
	Obs *obs.Handle
	// Metrics is the router's observability.metrics (a child router's is
	// its parent's), Off for one to an @internal service unless
	// --metrics.addInternals.
	Metrics obs.Toggle
	// AccessLogs and Tracing are observability.accessLogs and .tracing,
	// as Metrics is metrics.
	AccessLogs, Tracing obs.Toggle
	// TraceDetailed is observability.traceVerbosity: detailed (the
	// router's, else its entry point's): Router, middleware and Service
	// spans too.
	TraceDetailed bool

	children *Index // Children, indexed by Build
}

// TLS is a router's TLS block, resolved as Traefik resolves it.
type TLS struct {
	// Option is the TLS option the router serves with: "default", or a
	// TLSOption's qualified name ("ns-name@kubernetescrd"). A request on
	// a connection whose handshake chose another option is answered 421
	// (Traefik's snicheck: domain fronting).
	Option string
	// Domains are the Host names of the rule, lower case: the server
	// names that select Option at the handshake.
	Domains []string
	// CertResolver names the ACME resolver that gets the router's
	// certificate: one for CertDomains' each entry (tls.domains: the main
	// name, then the SANs), or, without them, one for Domains.
	CertResolver string
	CertDomains  [][]string
	SecretName   string // namespace/name of the IngressRoute's tls.secretName, if any
}

// Serve lets the router's handler serve x.
func (r *Route) Serve(x *pipeline.Exchange) {
	r.mark(x)
	r.Handler.Serve(x)
}

// mark notes on x the router serving it, for metrics and the access log.
func (r *Route) mark(x *pipeline.Exchange) {
	x.ObsRouter, x.Metrics, x.AccessLogs = r.Obs, r.Metrics, r.AccessLogs
	switch {
	case x.RouterName == "":
		x.RouterName = r.Name
	case x.RouterName != r.Name:
		x.ChildRouter = r.Name // a parent's child router: "parent -> child", as Traefik's
	}
	if x.Trace != nil {
		x.Tracing = r.Tracing
		x.Trace.Router(r.Name, r.Rule, r.Service, r.TraceDetailed, time.Now())
	}
}

// Child is the child router that would serve r, routed as it arrives
// (before any middleware of the parent), or nil (404, or not a parent).
func (r *Route) Child(req *Request) *Route {
	if r.children == nil {
		return nil
	}
	return r.children.Lookup(req)
}

// ChildRouter is a parent router's next handler (after its
// middlewares): it routes the request, as the middlewares left it, among
// the parent's children, as Traefik's child muxer does; when none
// matches, 404.
func ChildRouter(parent *Route) pipeline.Handler { return childRouter{parent} }

type childRouter struct{ parent *Route }

func (c childRouter) Serve(x *pipeline.Exchange) {
	if !x.Reroute() {
		x.Respond(400, pipeline.BodyBadRequest)
		return
	}
	c.parent.children.Serve(x)
}

// direct is the load balancer that serves the router's requests when its
// handler is that load balancer itself (no middleware, one service), so
// that a hit need not read the route (hostSlot.lb).
func (r *Route) direct() *service.LoadBalancer {
	lb, _ := r.Handler.(*service.LoadBalancer)
	return lb
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

// LoadBalancer is the router's service when it is one load balancer, or
// nil (a TraefikService, several services, a parent router).
func (r *Route) LoadBalancer() *service.LoadBalancer {
	lb, _ := r.Target.(*service.LoadBalancer)
	return lb
}
