package service

import (
	"fmt"
	"strings"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// Service is a node of a router's service graph: a handler that serves the
// request itself (LoadBalancer, Internal) or lets its children serve
// (Weighted, Mirroring, Failover). The graph is built once per table.
type Service interface {
	pipeline.Handler
	// Describe writes the node, then its children one level deeper, for
	// `sluice route` and table dumps.
	Describe(b *strings.Builder, indent string)
	// EachLoadBalancer calls f for every load balancer under the node.
	EachLoadBalancer(f func(*LoadBalancer))
}

// Describe renders s as a tree, one node a line.
func Describe(s Service, indent string) string {
	var b strings.Builder
	s.Describe(&b, indent)
	return b.String()
}

// Describe implements Service.
func (lb *LoadBalancer) Describe(b *strings.Builder, indent string) {
	fmt.Fprintf(b, "%sloadBalancer %s passHostHeader=%t", indent, lb.Name, lb.PassHostHeader)
	if lb.Strategy != WRR {
		fmt.Fprintf(b, " strategy=%s", lb.Strategy)
	}
	if st := lb.Sticky; st != nil {
		fmt.Fprintf(b, " sticky=%s(path=%s domain=%s secure=%t httpOnly=%t sameSite=%s maxAge=%d)",
			st.Name, st.Path, st.Domain, st.Secure, st.HTTPOnly, st.SameSite, st.MaxAge)
	}
	for _, s := range lb.Servers().Servers {
		fenced := ""
		if s.Fenced {
			fenced = " (fenced)"
		}
		fmt.Fprintf(b, "\n%s  server %s%s", indent, s.URL, fenced)
	}
}

// EachLoadBalancer implements Service.
func (lb *LoadBalancer) EachLoadBalancer(f func(*LoadBalancer)) { f(lb) }

// Describe implements Service.
func (w *Weighted) Describe(b *strings.Builder, indent string) {
	kind := "weighted"
	if w.HRW {
		kind = "highestRandomWeight"
	}
	fmt.Fprintf(b, "%s%s %s", indent, kind, w.Name)
	if w.Sticky != nil {
		fmt.Fprintf(b, " sticky=%s", w.Sticky.Name)
	}
	for _, c := range w.Children {
		fmt.Fprintf(b, "\n%s  weight=%d %s:\n", indent, c.Weight, c.Name)
		c.Service.Describe(b, indent+"    ")
	}
}

// EachLoadBalancer implements Service.
func (w *Weighted) EachLoadBalancer(f func(*LoadBalancer)) {
	for _, c := range w.Children {
		c.Service.EachLoadBalancer(f)
	}
}

// Describe implements Service.
func (m *Mirroring) Describe(b *strings.Builder, indent string) {
	fmt.Fprintf(b, "%smirroring %s mirrorBody=%t maxBodySize=%d\n%s  main:\n", indent, m.Name, m.MirrorBody, m.MaxBodySize, indent)
	m.Main.Describe(b, indent+"    ")
	for _, mr := range m.Mirrors {
		fmt.Fprintf(b, "\n%s  mirror percent=%d:\n", indent, mr.Percent)
		mr.Service.Describe(b, indent+"    ")
	}
}

// EachLoadBalancer implements Service.
func (m *Mirroring) EachLoadBalancer(f func(*LoadBalancer)) {
	m.Main.EachLoadBalancer(f)
	for _, mr := range m.Mirrors {
		mr.Service.EachLoadBalancer(f)
	}
}

// Describe implements Service.
func (f *Failover) Describe(b *strings.Builder, indent string) {
	fmt.Fprintf(b, "%sfailover %s status=%v maxRequestBodyBytes=%d\n%s  main:\n", indent, f.Name, f.Status, f.MaxBody, indent)
	f.Main.Describe(b, indent+"    ")
	fmt.Fprintf(b, "\n%s  fallback:\n", indent)
	f.Fallback.Describe(b, indent+"    ")
}

// EachLoadBalancer implements Service.
func (f *Failover) EachLoadBalancer(fn func(*LoadBalancer)) {
	f.Main.EachLoadBalancer(fn)
	f.Fallback.EachLoadBalancer(fn)
}

// Internal is one of Traefik's @internal services that Sluice serves
// itself (noop@internal, ping@internal).
type Internal struct {
	Name    string
	Handler pipeline.Handler
}

// Serve implements pipeline.Handler.
func (s *Internal) Serve(x *pipeline.Exchange) { s.Handler.Serve(x) }

// Describe implements Service.
func (s *Internal) Describe(b *strings.Builder, indent string) {
	fmt.Fprintf(b, "%sinternal %s", indent, s.Name)
}

// EachLoadBalancer implements Service: an internal service has none.
func (s *Internal) EachLoadBalancer(func(*LoadBalancer)) {}

// Noop is Traefik's noop@internal: 418 and no body.
var Noop = &Internal{Name: "noop@internal", Handler: pipeline.HandlerFunc(func(x *pipeline.Exchange) {
	x.Resp.SetStatusCode(418)
	x.Resp.Header.SetNoDefaultContentType(true)
})}

// Wrapped is a service with middlewares of its own (a service entry's
// middlewares, Traefik v3.7): they serve in front of it, after the
// router's.
type Wrapped struct {
	Inner       Service
	Middlewares []string // their names, for Describe
	h           pipeline.Handler
}

// Wrap returns inner behind mws (named names), or inner when there are none.
func Wrap(inner Service, names []string, mws []pipeline.Middleware) Service {
	if len(mws) == 0 {
		return inner
	}
	return &Wrapped{Inner: inner, Middlewares: names, h: pipeline.Chain(inner, mws...)}
}

// Serve implements pipeline.Handler.
func (w *Wrapped) Serve(x *pipeline.Exchange) { w.h.Serve(x) }

// Describe implements Service.
func (w *Wrapped) Describe(b *strings.Builder, indent string) {
	fmt.Fprintf(b, "%smiddlewares %s:\n", indent, strings.Join(w.Middlewares, ", "))
	w.Inner.Describe(b, indent+"  ")
}

// EachLoadBalancer implements Service.
func (w *Wrapped) EachLoadBalancer(f func(*LoadBalancer)) { w.Inner.EachLoadBalancer(f) }
