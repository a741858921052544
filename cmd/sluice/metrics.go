package main

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath"
	"github.com/sluiceproxy/sluice/fastpath/obs"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
)

// startMetrics makes the registry of --metrics.prometheus: the compiler
// hangs its handles on routers and services, the entry points count into
// theirs, the metrics entry point answers /metrics (unless manualRouting)
// and prometheus@internal is there for IngressRoutes.
func (p *proxy) startMetrics(internal map[string]service.Service) map[string]service.Service {
	opts := p.cfg.Metrics.Opts
	opts.AddInternals = p.cfg.MetricsAddInternals
	p.metrics = obs.NewRegistry(opts)
	p.metrics.Global.Own = p.ownSeries()
	if internal == nil {
		internal = map[string]service.Service{}
	}
	internal["prometheus@internal"] = &service.Internal{Name: "prometheus@internal", Handler: fastpath.MetricsHandler(p.writeMetrics)}
	return internal
}

// writeMetrics is the whole exposition: Traefik's series, Sluice's, and
// the Go runtime's and process's (as Traefik's Prometheus registry has
// them).
func (p *proxy) writeMetrics(w io.Writer) {
	p.metrics.WriteTo(w)
	vm.WriteProcessMetrics(w)
}

// metricsPublished records a table published: Traefik's reload series,
// Sluice's table series, and the TLS store's certificates.
func (p *proxy) metricsPublished(t *route.Table, took time.Duration, diags []model.Diagnostic) {
	if p.metrics == nil {
		return
	}
	g := &p.metrics.Global
	g.ReloadsTotal.Add(1)
	g.LastReloadSuccess.Store(time.Now().Unix())
	g.TablePublishes.Add(1)
	g.CompileNanos.Add(uint64(took))
	var errs, warns int64
	for _, d := range diags {
		if d.Severity == model.Error {
			errs++
		} else {
			warns++
		}
	}
	g.Diagnostics[0].Store(errs)
	g.Diagnostics[1].Store(warns)
	var certs []obs.Cert
	if t.TLS != nil && t.TLS.Store != nil {
		for _, c := range append(t.TLS.Store.Certs(), t.TLS.Store.Default) {
			if c == nil || c.Leaf == nil {
				continue
			}
			// As Traefik's appendCertMetric: decimal serial, sorted SANs.
			sans := slices.Sorted(slices.Values(c.Leaf.DNSNames))
			certs = append(certs, obs.Cert{CN: c.Leaf.Subject.CommonName, Serial: c.Leaf.SerialNumber.String(),
				SANs: strings.Join(sans, ","), NotAfter: c.Leaf.NotAfter.Unix()})
		}
	}
	g.SetCerts(certs)
}

// countErrors is a log handler that counts the error records it passes
// on (client-go's, through klog, are the Kubernetes watches' errors).
type countErrors struct {
	slog.Handler
	n *atomic.Uint64
}

func (c *countErrors) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		c.n.Add(1)
	}
	return c.Handler.Handle(ctx, r)
}

func (c *countErrors) WithAttrs(as []slog.Attr) slog.Handler {
	return &countErrors{Handler: c.Handler.WithAttrs(as), n: c.n}
}

func (c *countErrors) WithGroup(name string) slog.Handler {
	return &countErrors{Handler: c.Handler.WithGroup(name), n: c.n}
}

// ownSeries are Sluice's series beyond the table's: watch errors, the
// upstream pools, mirror copies dropped, the table's size.
func (p *proxy) ownSeries() []obs.Series {
	return []obs.Series{
		{Name: "sluice_watch_errors_total", Help: "Provider errors: manifests that cannot be read, Kubernetes watches failing.", Type: "counter",
			Value: func() float64 { return float64(p.watchErrors.Load()) }},
		{Name: "sluice_upstream_endpoints", Help: "Upstream endpoints (server addresses with their own connection pool).", Type: "gauge",
			Value: func() float64 { return float64(p.reg.Len()) }},
		{Name: "sluice_upstream_connections", Help: "Connections open to upstream servers.", Type: "gauge",
			Value: func() float64 { return float64(p.reg.Conns()) }},
		{Name: "sluice_mirror_copies_dropped_total", Help: "Mirror copies dropped because too many were in flight.", Type: "counter",
			Value: func() float64 { return float64(service.MirrorsDropped.Load()) }},
		{Name: "sluice_accept_errors_total", Help: "Accept errors an entry point waited out (descriptors or memory exhausted), then accepted again.", Type: "counter",
			Value: func() float64 { return float64(p.accepts.errors.Load()) }},
		{Name: "sluice_accept_reserve_closed_total", Help: "Client connections closed on accept to keep the descriptor reserve for probes, watches and servers.", Type: "counter",
			Value: func() float64 { return float64(p.accepts.reserved.Load()) }},
		{Name: "sluice_table_routers", Help: "Routers in the routing table being served.", Type: "gauge",
			Value: func() float64 { return float64(len(p.table.Load().Routes)) }},
	}
}
