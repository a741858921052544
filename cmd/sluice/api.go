package main

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/compile/api"
	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath"
	"github.com/sluiceproxy/sluice/fastpath/obs"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
)

// apiServer is --api: the State of the table being served, rebuilt with
// each table, and api@internal answering from it.
type apiServer struct {
	state    atomic.Pointer[api.State]
	handler  pipeline.Handler
	started  string
	disabled atomic.Pointer[[]compile.Disabled] // the table's routes left out, for /api/sluice/route
}

// startAPI registers api@internal (and dashboard@internal, the same
// handler, as Traefik's api@internal serves the dashboard too).
func (p *proxy) startAPI(internal map[string]service.Service) map[string]service.Service {
	a := &apiServer{started: time.Now().UTC().Format(time.RFC3339Nano)}
	a.state.Store(api.Build(api.Input{}))
	a.handler = api.Handler(p.cfg.API.BasePath, p.cfg.API.Dashboard, a.state.Load)
	p.api = a
	if internal == nil {
		internal = map[string]service.Service{}
	}
	internal["api@internal"] = &service.Internal{Name: "api@internal", Handler: a.handler}
	if p.cfg.API.Dashboard {
		internal["dashboard@internal"] = &service.Internal{Name: "dashboard@internal", Handler: a.handler}
	}
	return internal
}

// apiPublished builds the API's State of a table just published.
func (p *proxy) apiPublished(res *compile.Result, diags []model.Diagnostic, snap *model.Snapshot) {
	if p.api == nil {
		return
	}
	d := res.Disabled
	p.api.disabled.Store(&d)
	f := api.Features{AccessLog: p.cfg.AccessLog != nil}
	if p.cfg.Metrics != nil {
		f.Metrics = "Prometheus"
	}
	if p.cfg.Tracing != nil {
		f.Tracing = "OTLP"
	}
	providers := []string{"KubernetesCRD"}
	if p.cfg.ManifestsDir != "" {
		providers = []string{"Manifests"}
	}
	p.api.state.Store(api.Build(api.Input{Table: res.Table, Disabled: res.Disabled, Diags: diags, Middlewares: snap.Middlewares,
		EntryPoints: p.apiEntryPoints(), Features: f, Providers: providers, Version: versionString(), StartDate: p.api.started,
		Explain: p.explainRoute, Live: p.liveTotals}))
}

// liveTotals is /api/sluice/live: the time and each router's requests and
// summed duration so far, from the metrics' router handles; without them
// (no --metrics.prometheus.addRoutersLabels) a note saying so.
func (p *proxy) liveTotals() any {
	type live struct {
		UnixMillis int64             `json:"unixMillis"`
		Routers    []obs.RouterTotal `json:"routers"`
		Note       string            `json:"note,omitempty"`
	}
	l := live{UnixMillis: time.Now().UnixMilli(), Routers: p.metrics.RouterTotals()}
	if l.Routers == nil {
		l.Routers = []obs.RouterTotal{}
		l.Note = "live charts need --metrics.prometheus and --metrics.prometheus.addRoutersLabels=true"
	}
	return l
}

// apiEntryPoints are the static entry points as Traefik's API shows them.
func (p *proxy) apiEntryPoints() []api.EntryPoint {
	var out []api.EntryPoint
	for _, ep := range p.cfg.EntryPoints {
		e := api.EntryPoint{Name: ep.Name, Address: ep.Address, AsDefault: ep.AsDefault,
			Transport: &api.Transport{LifeCycle: api.LifeCycle{RequestAcceptGraceTimeout: ep.AcceptGrace.String(), GraceTimeOut: ep.GraceTimeOut.String()}}}
		if ep.Insecure || len(ep.TrustedIPs) > 0 {
			e.ForwardedHeaders = &api.ForwardedHeaders{Insecure: ep.Insecure}
			for _, ip := range ep.TrustedIPs {
				e.ForwardedHeaders.TrustedIPs = append(e.ForwardedHeaders.TrustedIPs, ip.String())
			}
		}
		e.HTTP.Middlewares = ep.Middlewares
		if ep.TLS != nil {
			e.HTTP.TLS = &api.RouterTLS{Options: ep.TLS.Options, CertResolver: ep.TLS.CertResolver}
		}
		out = append(out, e)
	}
	return out
}

// explainRoute is /api/sluice/route: `sluice route` on the table being
// served, for ?url=...&method=GET&entryPoint=web&header=K:V.
func (p *proxy) explainRoute(q url.Values) (any, error) {
	target := q.Get("url")
	if target == "" {
		return nil, fmt.Errorf("url: required (an absolute URL, e.g. http://app.example/path)")
	}
	name := q.Get("entryPoint")
	if name == "" {
		name = "web"
	}
	idx := slices.IndexFunc(p.cfg.EntryPoints, func(e *entryPoint) bool { return strings.EqualFold(e.Name, name) })
	if idx < 0 {
		return nil, fmt.Errorf("entryPoint: %q is not an entry point", name)
	}
	ep := p.cfg.EntryPoints[idx]
	method := q.Get("method")
	if method == "" {
		method = "GET"
	}
	ctx, err := requestCtx(method, target, q["header"], "127.0.0.1:12345")
	if err != nil {
		return nil, err
	}
	var tp atomic.Pointer[route.Table]
	tp.Store(p.table.Load())
	var disabled []compile.Disabled
	if d := p.api.disabled.Load(); d != nil {
		disabled = *d
	}
	// the routes left out, indexed as the table is (entry points in order)
	names := make([]string, len(p.cfg.EntryPoints))
	for i, e := range p.cfg.EntryPoints {
		names[i] = e.Name
	}
	b := route.NewBuilder(names)
	reasons := map[*route.Route]string{}
	for _, d := range disabled {
		r := *d.Route
		b.Add(&r, append([]route.Entry(nil), d.Entries...))
		reasons[&r] = d.Reason
	}
	h := fastpath.NewHandler(&tp, fastpath.Config{EntryPoint: ep.Name, Index: idx, TrustedIPs: ep.TrustedIPs, Insecure: ep.Insecure,
		KeepPath: ep.KeepPath, EncodeQuerySemicolons: ep.EncodeSemi})
	return explain(h.Resolve(ctx, b.Build(), nil), reasons, ep.Name), nil
}
