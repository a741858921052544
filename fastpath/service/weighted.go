package service

import (
	"github.com/sluiceproxy/sluice/fastpath/balance"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// Child is one weighted child of a Weighted service.
type Child struct {
	Service Service
	Weight  int    // 0 excludes the child
	Name    string // the child's name, which the sticky value hashes
}

// Weighted chooses one of its children per request and lets it serve:
// Traefik's weighted service (a weighted TraefikService, or a route with
// several services) by smooth weighted round robin, optionally sticky
// (its cookie's value names the child), or its highestRandomWeight
// service by rendezvous hashing on the client IP. Immutable once
// published.
type Weighted struct {
	Name     string
	Children []Child
	Sticky   *Sticky
	HRW      bool // highestRandomWeight rather than round robin
	wrr      *balance.WRR
	values   []string // sticky value per child
}

// NewWeighted returns a weighted service over children.
func NewWeighted(name string, children []Child, sticky *Sticky) *Weighted {
	w := &Weighted{Name: name, Children: children, Sticky: sticky}
	weights := make([]int, len(children))
	w.values = make([]string, len(children))
	for i, c := range children {
		weights[i] = c.Weight
		w.values[i] = stickyValue(c.Name)
	}
	w.wrr = balance.New(weights)
	return w
}

// NewHRW returns a highestRandomWeight service over children.
func NewHRW(name string, children []Child) *Weighted {
	w := NewWeighted(name, children, nil)
	w.HRW = true
	return w
}

// Serve lets the chosen child serve; none (every weight 0): 503, as
// Traefik's balancer answers without a child.
func (w *Weighted) Serve(x *pipeline.Exchange) {
	i, fresh := w.pick(x)
	if i < 0 {
		x.Respond(503, pipeline.BodyNoServer)
		return
	}
	w.Children[i].Service.Serve(x)
	if fresh {
		setStickyCookie(&x.Resp.Header, w.Sticky, w.values[i])
	}
}

// pick returns the index of the child to use, or -1, and whether the
// response must carry a sticky cookie naming it.
func (w *Weighted) pick(x *pipeline.Exchange) (int, bool) {
	if w.HRW {
		return w.rendezvous(x.Req.ClientIP), false
	}
	if w.Sticky != nil {
		if v, _ := pipeline.RequestCookie(&x.Out.Header, w.Sticky.Name); len(v) > 0 {
			for i, val := range w.values {
				if w.Children[i].Weight > 0 && (string(v) == val || string(v) == w.Children[i].Name) {
					return i, false
				}
			}
		}
	}
	i := w.wrr.Next()
	return i, i >= 0 && w.Sticky != nil
}

// next is the round robin's next child, for tests.
func (w *Weighted) next() int { return w.wrr.Next() }
