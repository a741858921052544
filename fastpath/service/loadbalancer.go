package service

import (
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/balance"
	"github.com/sluiceproxy/sluice/fastpath/obs"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
	"github.com/valyala/fasthttp"
)

// LoadBalancer is a Kubernetes service's load balancer (Traefik's
// loadBalancer service): it picks a server, honouring its sticky cookie
// and strategy, and forwards the request to it. Its server set is swapped
// atomically when endpoints change; everything else is immutable once its
// table is published.
type LoadBalancer struct {
	Name           string
	PassHostHeader bool
	Sticky         *Sticky  // nil: not sticky
	Strategy       Strategy // set before the table is published
	// Obs is the service's metrics handle (nil: off), counting the
	// requests it sends to a server, as Traefik's service metrics wrap
	// each server. Set before the table is published; a load balancer a
	// later table reuses keeps the same handle.
	Obs     *obs.Handle
	servers atomic.Pointer[ServerSet]
	// lean: SetServers derives only what Sticky and Strategy use (cookie
	// values for sticky, load counters for p2c and leasttime);
	// PERF.md has what that saved at 100k services.
	lean bool
	// first is the first server set, kept inside the LoadBalancer so that
	// one out of cache and its balancer are neighbouring lines; later sets
	// are allocated (requests in flight may still read this one).
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
// is better than a 503 (Traefik answers 503 there).
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

// Up reports whether sv passes its health checks now (always, without).
func (sv *Server) Up() bool { return !sv.down(time.Now().UnixNano()) }

// Server is one endpoint of a load balancer.
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

// NewLoadBalancer returns a load balancer over servers, ready for any
// stickiness or strategy set on it afterwards.
func NewLoadBalancer(name string, passHost bool, servers []Server) *LoadBalancer {
	lb := &LoadBalancer{Name: name, PassHostHeader: passHost}
	lb.SetServers(servers)
	return lb
}

// NewLoadBalancerWith returns a load balancer whose stickiness and
// strategy are known now and never change: its server sets carry only
// what those use.
func NewLoadBalancerWith(name string, passHost bool, sticky *Sticky, strategy Strategy, servers []Server) *LoadBalancer {
	lb := &LoadBalancer{Name: name, PassHostHeader: passHost, Sticky: sticky, Strategy: strategy, lean: true}
	lb.SetServers(servers)
	return lb
}

// SetServers publishes a new server set; requests in flight keep the old one.
func (lb *LoadBalancer) SetServers(servers []Server) {
	w, fw := make([]int, len(servers)), make([]int, len(servers))
	checked, anyFenced := false, false
	cookies := !lb.lean || lb.Sticky != nil
	loads := !lb.lean || lb.Strategy == P2C || lb.Strategy == LeastTime
	if cookies || loads {
		servers = slices.Clone(servers) // the caller's list may be shared with other load balancers
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
	set := &lb.first
	if lb.servers.Load() != nil {
		set = new(ServerSet)
	}
	set.Servers, set.checked = servers, checked
	set.wrr.Init(w)
	if anyFenced {
		set.fenced = balance.New(fw)
	}
	lb.servers.Store(set)
}

// Servers returns the current server set.
func (lb *LoadBalancer) Servers() *ServerSet { return lb.servers.Load() }

// Pick returns the next server, or nil when none is available (503).
func (lb *LoadBalancer) Pick() *Server { return lb.PickFor(netip.Addr{}) }

// PickFor is Pick for a client (the hrw strategy hashes its IP).
func (lb *LoadBalancer) PickFor(client netip.Addr) *Server {
	set := lb.servers.Load()
	i := -1
	switch lb.Strategy {
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

// Serve picks a server (the one the request's sticky cookie names, if it
// is up) and forwards the request to it; a response not routed by a valid
// cookie gets one naming the server (Traefik sets it on every such
// response). No server available: 503.
func (lb *LoadBalancer) Serve(x *pipeline.Exchange) {
	var srv *Server
	fresh := false
	if lb.Sticky == nil {
		srv = lb.PickFor(x.Req.ClientIP)
	} else {
		v, _ := pipeline.RequestCookie(&x.Out.Header, lb.Sticky.Name)
		srv, fresh = lb.PickSticky(v)
	}
	if srv == nil {
		x.Respond(503, pipeline.BodyNoServer)
		return
	}
	if lb.Obs != nil {
		x.ObsService = lb.Obs
	}
	if x.Logged || x.Trace != nil {
		lb.observedSend(x, srv)
	} else {
		lb.send(x, srv)
	}
	if fresh {
		setStickyCookie(&x.Resp.Header, lb.Sticky, srv.cookie)
	}
}

// send forwards to srv the way the request needs (an upgrade, net/http for
// h2c servers, else the fasthttp pool), counting it in flight for the
// strategies that weigh load. Headers the middlewares could still see
// though Connection named them go first.
func (lb *LoadBalancer) send(x *pipeline.Exchange, srv *Server) {
	x.DropKeptConnection()
	x.MarkBodyRead() // the server gets it
	switch lb.Strategy {
	case P2C:
		srv.Begin()
		defer srv.End()
	case LeastTime:
		srv.Begin()
		start := time.Now()
		defer func() {
			srv.Observe(time.Since(start))
			srv.End()
		}()
	}
	switch {
	case x.Upgrade() != nil:
		upgrade(x, lb, srv)
	case srv.Endpoint.Scheme == "h2c":
		forwardNetHTTP(x, lb, srv)
	default:
		forward(x, lb, srv)
	}
}

// observedSend is send noted for the access log (the origin fields) and
// the trace (the Service and ReverseProxy spans, the traceparent sent
// to the server).
func (lb *LoadBalancer) observedSend(x *pipeline.Exchange, srv *Server) {
	tr := x.Trace
	var start time.Time // the wall clock, for the spans only
	if tr != nil {
		start = time.Now()
		x.Out.Header.SetBytesV("Traceparent", tr.ServiceStart(lb.Name, srv.URL, start))
	}
	mono := time.Since(monoBase)
	lb.send(x, srv)
	d := time.Since(monoBase) - mono
	if tr != nil {
		tr.ServiceEnd(x.Resp.StatusCode(), start.Add(d))
	}
	if x.Logged {
		x.Origin = pipeline.Origin{Service: lb.Name, URL: srv.URL, Status: x.Resp.StatusCode(), Size: responseSize(x.Resp), Duration: d}
	}
}

// monoBase is the origin of the monotonic readings observedSend takes
// for the origin's duration: time.Since reads one clock where time.Now
// reads two.
var monoBase = time.Now()

// responseSize is the body size of an answer: its length, or its
// Content-Length when it is streamed (0 when unknown).
func responseSize(r *fasthttp.Response) int64 {
	if r.IsBodyStream() {
		return int64(max(r.Header.ContentLength(), 0))
	}
	return int64(len(r.Body()))
}
