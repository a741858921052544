package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath"
	"github.com/sluiceproxy/sluice/fastpath/accesslog"
	"github.com/sluiceproxy/sluice/fastpath/obs"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/tlsconf"
	"github.com/sluiceproxy/sluice/fastpath/trace"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
	"github.com/sluiceproxy/sluice/watch"
	"github.com/sluiceproxy/sluice/watch/acme"
	"github.com/sluiceproxy/sluice/watch/kube"
	"k8s.io/klog/v2"
)

// proxy is the running state shared by the provider and the entry points.
type proxy struct {
	cfg       *config
	log       *slog.Logger
	reg       *upstream.Registry
	table     atomic.Pointer[route.Table]
	compiler  *compile.Compiler  // reuses unchanged IngressRoutes' routes between tables
	endpoints *compile.Endpoints // of the published table
	health    fastpath.Health
	reported  map[string]bool // diagnostics already logged
	events    *kube.Events
	ready     chan struct{}
	readyOnce sync.Once
	loaded    func() // ends the first load's GC setting (startupGC)
	// acme runs the certificate resolvers (nil: none configured); a new
	// certificate builds the table again from the last snapshot.
	acme    *acme.Manager
	metrics *obs.Registry // --metrics.prometheus (nil: off)
	// watchErrors counts the providers' errors: manifests that cannot be
	// read, and client-go's (watches failing, relisting).
	watchErrors atomic.Uint64
	accepts     acceptStats       // the entry points' accept errors and reserve (accept.go)
	accessLog   *accesslog.Logger // --accessLog (nil: off)
	api         *apiServer        // --api (nil: off)
	tracer      *trace.Tracer     // --tracing (nil: off)
	ctx         context.Context
	pubMu       sync.Mutex // one publish at a time; guards lastSnap
	lastSnap    *model.Snapshot
	lastDiags   []model.Diagnostic
}

// startupGCPercent is the GC target while the first table is built. The
// first load decodes and compiles every object at once, and with Go's
// default (GOGC=100) the heap's peak is up to twice what the table keeps:
// at 100k IngressRoutes 397 MiB for 202 MiB live. At 50 the peak is
// 337-346 MiB, for about 20% more start-up time (3.4 -> 4.1 s). See PERF.md.
const startupGCPercent = 50

// startupGC applies startupGCPercent until the returned function is
// called, unless the user set GOGC.
func startupGC() func() {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(startupGCPercent)
	return func() { debug.SetGCPercent(old) }
}

// serve runs the entry points until SIGINT/SIGTERM, then shuts down
// gracefully. m overrides the manifests source (demo).
func serve(cfg *config, m *watch.Manifests, log *slog.Logger) error {
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	m, err := chooseProvider(cfg, m)
	if err != nil {
		return err
	}
	if cfg.PprofAddress != "" {
		if err := servePprof(cfg.PprofAddress, log); err != nil {
			return err
		}
	}
	p := &proxy{cfg: cfg, log: log, reg: upstream.NewRegistry(upstream.Options{Proxy: envProxy(log), DescriptorCeiling: serverDescriptorCeiling()}), reported: map[string]bool{},
		ready: make(chan struct{}), loaded: startupGC()}
	p.health.TerminatingStatus = cfg.PingTerminatingStatus
	// client-go's own messages (reflectors, retries) as structured logs;
	// set before any goroutine may log through klog.
	klog.SetSlogLogger(slog.New(&countErrors{Handler: log.Handler(), n: &p.watchErrors}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	copts := compileOptions(cfg, p.reg)
	copts.Logger = log
	if cfg.SpiffeAddr != "" {
		build, src, err := spiffeSource(ctx, cfg.SpiffeAddr, log)
		if err != nil {
			return err
		}
		defer src.Close()
		copts.SPIFFE = build
	}
	if err := cfg.Transport.useSPIFFE(copts.DefaultTransport, copts.SPIFFE); err != nil {
		log.Error(err.Error())
	}
	copts.TicketKeys = tlsconf.NewTicketKeys()
	if copts.TicketSecret = cfg.TicketSecret; copts.TicketSecret == "" {
		go p.rotateTicketKeys(ctx, copts.TicketKeys) // else the Secret's owner rotates them
	}
	if cfg.Ping {
		copts.Internal = map[string]service.Service{"ping@internal": &service.Internal{Name: "ping@internal", Handler: p.health.Ping()}}
	}
	p.ctx = ctx
	if cfg.Metrics != nil {
		copts.Internal = p.startMetrics(copts.Internal)
		copts.Metrics = p.metrics
	}
	if cfg.API != nil {
		copts.Internal = p.startAPI(copts.Internal)
	}
	if cfg.Tracing != nil {
		tc := *cfg.Tracing
		tc.OnExportError = func(err error, lost uint64) {
			if err != nil {
				p.log.Error("tracing: exporting failed; traces are dropped until an export succeeds", "error", err, "tracesLost", lost)
			} else {
				p.log.Info("tracing: exporting succeeds again", "tracesLost", lost)
			}
		}
		p.tracer = trace.New(tc)
		copts.TracingInternals = cfg.TracingInternals
		defer p.tracer.Close(5 * time.Second)
	}
	if err := p.startAccessLog(ctx, &copts); err != nil {
		return err
	}
	if len(cfg.Resolvers) > 0 {
		if err := p.startACME(&copts); err != nil {
			return err
		}
	}
	p.compiler = compile.NewCompiler(copts)
	p.table.Store(route.NewBuilder(nil).Build())
	eps := newEntryPoints(p)
	if p.metrics != nil {
		p.metrics.Global.OpenConns = eps.openByName
	}
	go newBurstTrim(log).run(eps.openConns, ctx.Done())
	// The ping entry point answers /ping at once (liveness) and /ready when
	// the first table is in; the others listen only once it is.
	if err := eps.listen(func(ep *entryPoint) bool { return p.pings(ep) }); err != nil {
		return err
	}
	provErr := make(chan error, 1)
	go func() { provErr <- p.runProvider(ctx, m) }()
	select {
	case <-p.ready:
	case err := <-provErr:
		eps.shutdown(true)
		return err
	case <-ctx.Done():
		eps.shutdown(true)
		return nil
	}
	if err := eps.listen(func(ep *entryPoint) bool { return !p.pings(ep) }); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-provErr:
		if err != nil {
			return err
		}
		<-ctx.Done()
	}
	log.Info("shutting down: /ping and /ready now answer the terminating status")
	p.health.SetTerminating()
	eps.shutdown(false)
	if p.acme != nil {
		p.acme.Stop()
	}
	if p.accessLog != nil {
		p.accessLog.Close()
	}
	log.Info("stopped")
	return nil
}

// ticketKeyRotation is how often a new TLS session ticket key is made;
// tickets stay good for maxTicketKeys rotations (a week), as Go's own.
const ticketKeyRotation = 24 * time.Hour

// rotateTicketKeys rotates the session ticket keys every
// ticketKeyRotation and gives them to the configurations of the table
// being served (later tables take them when built).
func (p *proxy) rotateTicketKeys(ctx context.Context, keys *tlsconf.TicketKeys) {
	t := time.NewTicker(ticketKeyRotation)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			keys.Rotate()
			if s := p.table.Load().TLS; s != nil {
				keys.Apply(s.Configs())
			}
		}
	}
}

// chooseProvider checks the configuration names one provider and returns
// the manifests source, or nil for the Kubernetes provider.
func chooseProvider(cfg *config, m *watch.Manifests) (*watch.Manifests, error) {
	if len(cfg.EntryPoints) == 0 {
		return nil, fmt.Errorf("no entry point: set --entryPoints.NAME.address=[host]:port")
	}
	if m == nil && cfg.ManifestsDir != "" {
		m = &watch.Manifests{Dir: cfg.ManifestsDir}
	}
	if m != nil && cfg.KubeSection {
		return nil, fmt.Errorf("two providers: use either --providers.manifests.directory or --providers.kubernetesCRD")
	}
	if m != nil {
		cfg.Kube = false // providers.kubernetesCRD.* options then only shape the manifests' routes
	}
	if m == nil && !cfg.Kube {
		return nil, fmt.Errorf("no provider: set --providers.kubernetesCRD or --providers.manifests.directory=DIR")
	}
	return m, nil
}

func (p *proxy) pings(ep *entryPoint) bool { return p.cfg.Ping && ep.Name == p.cfg.PingEntryPoint }

func (p *proxy) runProvider(ctx context.Context, m *watch.Manifests) error {
	if m != nil {
		m.Watch(ctx, 250*time.Millisecond, func(snap *model.Snapshot, diags []model.Diagnostic, err error) {
			if err == nil {
				p.publish(snap, diags)
				return
			}
			p.watchErrors.Add(1)
			select {
			case <-p.ready:
				p.log.Error("cannot read manifests; the last good table keeps serving", "error", err)
			default:
				// There is no last good table: serve an empty one (404s),
				// so that the entry points and /ready come up.
				p.log.Error("cannot read manifests; serving an empty table until they can be read", "error", err)
				p.publish(&model.Snapshot{}, nil)
			}
		})
		return nil
	}
	rc, err := kube.RESTConfig(p.cfg.KubeOpts)
	if err != nil {
		return err
	}
	opts := p.cfg.KubeOpts
	opts.Logger = p.log
	prov := kube.New(rc, opts)
	p.events = prov.NewEvents(ctx)
	p.log.Info("watching Kubernetes", "apiServer", rc.Host, "namespaces", opts.Namespaces, "labelSelector", opts.LabelSelector)
	return prov.Run(ctx, func(u kube.Update) {
		if u.EndpointsOnly && p.endpoints != nil && p.endpoints.Update(u.Snapshot, u.Services) {
			p.log.Debug("endpoints updated in place", "services", u.Services)
			p.pubMu.Lock()
			p.lastSnap = u.Snapshot // what a rebuild for a new certificate starts from
			p.pubMu.Unlock()
			return
		}
		p.publish(u.Snapshot, u.Diags)
	})
}

// publish compiles a snapshot and swaps the table in.
func (p *proxy) publish(snap *model.Snapshot, diags []model.Diagnostic) {
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	p.lastSnap, p.lastDiags = snap, diags
	start := time.Now()
	res := p.compiler.Build(snap)
	p.table.Store(res.Table)
	took := time.Since(start)
	p.endpoints = res.Endpoints
	p.reg.Prune()
	p.readyOnce.Do(func() {
		p.health.SetReady()
		close(p.ready)
	})
	all := append(append(diags, res.Diags...), compile.Overlaps(res.Table)...)
	p.report(all)
	p.log.Info("routing table published", "routers", len(res.Table.Routes), "diagnostics", len(all), "compile", took.Round(time.Microsecond))
	p.metricsPublished(res.Table, took, all)
	p.apiPublished(res, all, snap)
	if p.acme != nil {
		p.acme.Observe(p.ctx, res.Table)
	}
	if p.loaded != nil {
		p.loaded()
		p.loaded = nil
		releaseImage(p.log)
	}
}

// report logs (and posts as Events) the diagnostics not reported before;
// those that persist across rebuilds are not repeated.
func (p *proxy) report(diags []model.Diagnostic) {
	now := make(map[string]bool, len(diags))
	var fresh []model.Diagnostic
	for _, d := range diags {
		k := fmt.Sprint(d.Severity, d.File, d.Object, d.Field, d.Message)
		now[k] = true
		if p.reported[k] {
			continue
		}
		fresh = append(fresh, d)
		lvl := slog.LevelWarn
		if d.Severity == model.Error {
			lvl = slog.LevelError
		}
		p.log.Log(context.Background(), lvl, d.Message, "file", d.File, "object", d.Object, "field", d.Field)
	}
	p.reported = now
	p.events.Post(fresh)
}

// entryPoints are the fasthttp servers, one per entry point.
type entryPoints struct {
	p       *proxy
	mu      sync.Mutex
	servers map[*entryPoint]*fastpath.Server
}

// openConns is the number of client connections open on every entry
// point, and the most open since the last call.
func (e *entryPoints) openConns() (open, peak int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.servers {
		o, p := s.OpenConns()
		open, peak = open+o, peak+p
	}
	return open, peak
}

// openByName is each listening entry point's open client connections.
func (e *entryPoints) openByName() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.servers))
	for ep, s := range e.servers {
		out[ep.Name] = s.Open()
	}
	return out
}

func newEntryPoints(p *proxy) *entryPoints {
	return &entryPoints{p: p, servers: map[*entryPoint]*fastpath.Server{}}
}

// startACME starts the certificate resolvers: their stored certificates
// join the TLS store, their challenges are answered by the entry points
// and the TLS front end, and a new certificate rebuilds the table.
func (p *proxy) startACME(copts *compile.Options) error {
	var cfgs []acme.ResolverConfig
	for _, r := range p.cfg.Resolvers {
		cfgs = append(cfgs, *r)
	}
	o := acme.Options{Log: p.log, OnChange: p.republish, Identity: replicaIdentity()}
	if p.cfg.Kube {
		rc, err := kube.RESTConfig(p.cfg.KubeOpts)
		if err != nil {
			return err
		}
		o.Kube = rc
	}
	m, err := acme.New(cfgs, o)
	if err != nil {
		return err
	}
	p.acme = m
	m.Start(p.ctx)
	copts.ACMECertificates = m.Certificates
	copts.ACMEChallengeCert = m.TLSALPN01
	return nil
}

// replicaIdentity names this process in the ACME Lease: the pod's name
// (POD_NAME, from the downward API in deploy/) or host name, and the PID.
func replicaIdentity() string {
	name := os.Getenv("POD_NAME")
	if name == "" {
		name, _ = os.Hostname()
	}
	return fmt.Sprintf("%s_%d", name, os.Getpid())
}

// republish builds the table again from the last snapshot (the ACME
// certificates changed).
func (p *proxy) republish() {
	p.pubMu.Lock()
	snap, diags := p.lastSnap, p.lastDiags
	p.pubMu.Unlock()
	if snap != nil {
		p.publish(snap, diags)
	}
}
