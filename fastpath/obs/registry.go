package obs

import (
	"sort"
	"strings"
	"sync"
)

// Options are --metrics.prometheus's: which levels carry labels (Traefik's
// addEntryPointsLabels, addRoutersLabels, addServicesLabels: true, false,
// true by default) and the duration buckets.
type Options struct {
	EntryPoints, Routers, Services bool
	Buckets                        []float64
	// AddInternals is --metrics.addInternals: routers to @internal
	// services are metered too.
	AddInternals bool
	// HeaderLabels are --metrics.prometheus.headerLabels: label name ->
	// request header, added to the requests_total counters.
	HeaderLabels map[string]string
}

// AddInternals reports --metrics.addInternals (false for a nil registry).
func (r *Registry) AddInternals() bool { return r != nil && r.opts.AddInternals }

// Registry holds the handles of the live entry points, routers and
// services, and the process-wide series (open connections, reloads).
type Registry struct {
	opts Options
	mu   sync.Mutex
	eps  map[string]*Handle
	rts  map[string]*Handle // router "\x00" service
	svcs map[string]*Handle
	seen map[*Handle]bool // touched by the build under way (Begin/End)
	hl   *headerLabels

	Global Global
}

// NewRegistry returns an empty registry.
func NewRegistry(o Options) *Registry {
	if len(o.Buckets) == 0 {
		o.Buckets = DefaultBuckets
	}
	o.Buckets = append([]float64(nil), o.Buckets...)
	sort.Float64s(o.Buckets)
	return &Registry{opts: o, eps: map[string]*Handle{}, rts: map[string]*Handle{}, svcs: map[string]*Handle{}, hl: newHeaderLabels(o.HeaderLabels)}
}

func (r *Registry) handle(m map[string]*Handle, key, kind, mid, tail, tlsPre string, base ...[2]string) *Handle {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := m[key]
	if h == nil {
		h = &Handle{kind: kind, mid: mid, tail: tail, tlsPre: tlsPre, bounds: r.opts.Buckets, hl: r.hl, base: base}
		m[key] = h
	}
	if r.seen != nil {
		r.seen[h] = true
	}
	return h
}

// EntryPoint is the handle of an entry point (nil: its labels are off).
// Entry point handles live as long as the registry.
func (r *Registry) EntryPoint(name string) *Handle {
	if r == nil || !r.opts.EntryPoints {
		return nil
	}
	l := `entrypoint="` + escape(name) + `"`
	return r.handle(r.eps, name, "entrypoint", ","+l, "", l+",", [2]string{"entrypoint", name})
}

// Router is the handle of a router serving service (nil: off).
func (r *Registry) Router(router, service string) *Handle {
	if r == nil || !r.opts.Routers || router == "" {
		return nil
	}
	l := `router="` + escape(router) + `",service="` + escape(service) + `"`
	return r.handle(r.rts, router+"\x00"+service, "router", "", ","+l, l+",", [2]string{"router", router}, [2]string{"service", service})
}

// Service is the handle of a service (nil: off).
func (r *Registry) Service(service string) *Handle {
	if r == nil || !r.opts.Services || service == "" {
		return nil
	}
	l := `service="` + escape(service) + `"`
	return r.handle(r.svcs, service, "service", "", ","+l, l+",", [2]string{"service", service})
}

// Begin starts a table build: the router and service handles it asks for
// are kept by End, the others dropped with their series.
func (r *Registry) Begin() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.seen = map[*Handle]bool{}
	r.mu.Unlock()
}

// End drops the router and service handles the build since Begin did not
// ask for.
func (r *Registry) End() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range []map[string]*Handle{r.rts, r.svcs} {
		for k, h := range m {
			if !r.seen[h] {
				delete(m, k)
				h.hdr.release(r.hl)
			}
		}
	}
	r.seen = nil
}

// escape is a Prometheus label value: backslash, quote and newline escaped.
func escape(v string) string {
	if !strings.ContainsAny(v, "\\\"\n") {
		return v
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

// Toggle is a router's metrics switch (Traefik's observability.metrics):
// Inherit takes its entry point's default (on unless
// --entryPoints.<n>.observability.metrics=false).
type Toggle int8

const (
	Inherit Toggle = iota
	On
	Off
)

// Metered reports whether a request a router with t served is counted on
// an entry point whose routers are metered by default unless epOff.
func (t Toggle) Metered(epOff bool) bool { return t == On || t == Inherit && !epOff }

// RouterTotal is one router's requests and their summed duration so far,
// over every service it served (the dashboard's live charts difference
// two readings).
type RouterTotal struct {
	Router        string `json:"router"`
	Requests      uint64 `json:"requests"`
	DurationNanos uint64 `json:"durationNanos"`
}

// RouterTotals reads every router handle, sorted by router (nil when
// router labels are off: there are no router handles).
func (r *Registry) RouterTotals() []RouterTotal {
	if r == nil || !r.opts.Routers {
		return nil
	}
	r.mu.Lock()
	by := map[string]*RouterTotal{}
	for key, h := range r.rts {
		name, _, _ := strings.Cut(key, "\x00")
		t := by[name]
		if t == nil {
			t = &RouterTotal{Router: name}
			by[name] = t
		}
		h.each(func(c *cell) {
			t.Requests += c.count.Load()
			t.DurationNanos += c.sumNanos.Load()
		})
	}
	r.mu.Unlock()
	out := make([]RouterTotal, 0, len(by))
	for _, t := range by {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Router < out[j].Router })
	return out
}
