package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sluiceproxy/sluice/fastpath"
)

// listen starts the entry points that want says so and that are not
// started yet.
func (e *entryPoints) listen(want func(*entryPoint) bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.p
	for i, ep := range p.cfg.EntryPoints {
		if !want(ep) || e.servers[ep] != nil {
			continue
		}
		fc := fastpath.Config{
			EntryPoint: ep.Name, Index: i, TrustedIPs: ep.TrustedIPs, Insecure: ep.Insecure, KeepPath: ep.KeepPath,
			NotAppendXFF: ep.NotAppendXFF, KeepConnection: ep.KeepConnection, ProxyProtocol: ep.ProxyProtocol,
			EncodeQuerySemicolons: ep.EncodeSemi, MaxHeaderBytes: ep.MaxHeader, Logger: p.log, Timeouts: &ep.Timeouts,
		}
		if p.pings(ep) {
			fc.Health = &p.health
		}
		if m := p.cfg.Metrics; m != nil {
			fc.Metrics = p.metrics.EntryPoint(ep.Name)
			fc.MetricsRoutes = m.Opts.Routers || m.Opts.Services
			fc.MetricsOff, fc.MetricsInternals = ep.NoMetrics, p.cfg.MetricsAddInternals
			if strings.EqualFold(ep.Name, m.EntryPoint) && !m.ManualRouting {
				fc.MetricsPage = p.writeMetrics
			}
		}
		fc.AccessLog, fc.AccessLogOff, fc.AccessLogInternals = p.accessLog, ep.NoAccessLogs, p.cfg.AccessLogInternals
		if p.tracer != nil {
			fc.Tracer, fc.TracingOff, fc.TracingInternals = p.tracer, ep.NoTracing, p.cfg.TracingInternals
		}
		if p.api != nil && p.cfg.API.Insecure && strings.EqualFold(ep.Name, "traefik") {
			fc.API, fc.Dashboard = p.api.handler, p.cfg.API.Dashboard
		}
		if p.acme != nil && slices.Contains(p.acme.HTTPEntryPoints(), strings.ToLower(ep.Name)) {
			fc.ACMEHTTP01 = p.acme.HTTP01
		}
		ln, err := listenTCP(ep.Address)
		if err != nil {
			return fmt.Errorf("entry point %s: %w", ep.Name, err)
		}
		s := fastpath.NewServer(fastpath.NewHandler(&p.table, fc))
		e.servers[ep] = s
		p.log.Info("entry point listening", "entryPoint", ep.Name, "address", ln.Addr().String())
		g := &guardedListener{Listener: ln, ep: ep.Name, stats: &p.accepts, log: p.log, sleep: time.Sleep}
		if !p.pings(ep) { // the liveness probe's entry point draws on the reserve
			if g.limit = descriptorLimit(); g.limit > 0 {
				g.reserve = reserveFor(g.limit)
			}
		}
		ln = g
		go func() {
			if err := s.Serve(ln); err != nil {
				p.log.Error("entry point stopped", "entryPoint", ep.Name, "error", err)
			}
		}()
	}
	return nil
}

// shutdown stops every entry point as Traefik does: keep accepting for
// requestAcceptGraceTimeout, then close the listener and give in-flight
// requests graceTimeOut, then close what is left. now skips the waits.
func (e *entryPoints) shutdown(now bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var wg sync.WaitGroup
	for ep, s := range e.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			grace := ep.GraceTimeOut
			if !now && ep.AcceptGrace > 0 {
				e.p.log.Info("entry point still accepting during requestAcceptGraceTimeout", "entryPoint", ep.Name, "for", ep.AcceptGrace)
				time.Sleep(ep.AcceptGrace)
			}
			if now {
				grace = 0
			}
			ctx, cancel := context.WithTimeout(context.Background(), grace)
			defer cancel()
			if err := s.ShutdownWithContext(ctx); err != nil {
				e.p.log.Warn("graceTimeOut reached; closing the remaining connections", "entryPoint", ep.Name, "error", err)
			}
		}()
	}
	wg.Wait()
}
