// Command sluice is the Sluice edge proxy: it serves Traefik v3
// IngressRoutes (from a manifests directory for now), and its subcommands
// `route` and `check` explain and lint them without serving.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
	"github.com/sluiceproxy/sluice/watch"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "route":
			return routeCmd(args[1:], stdout, stderr)
		case "check":
			return checkCmd(args[1:], stdout, stderr)
		case "demo":
			return demoCmd(args[1:], stdout, stderr)
		case "-h", "--help", "help":
			fmt.Fprint(stdout, usage)
			return 0
		}
	}
	cfg, err := parseConfig(args)
	if err != nil {
		fmt.Fprintln(stderr, "sluice:", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	if err := serve(cfg, nil, log); err != nil {
		log.Error("exiting", "error", err)
		return 1
	}
	return 0
}

const usage = `sluice: a Traefik v3 IngressRoute edge proxy.

  sluice --entryPoints.web.address=:8000 --providers.manifests.directory=DIR [options]
  sluice demo                      serve examples/ with demo backends on :8000
  sluice route --manifests DIR [--entrypoint NAME] [-H 'K: V']... [--remote-addr IP:PORT] [--output json] METHOD URL
  sluice check DIR                 print every diagnostic; exit 1 on errors
`

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func compileOptions(cfg *config, reg *upstream.Registry) compile.Options {
	o := compile.Options{
		AllowCrossNamespace: cfg.AllowCrossNamespace, AllowExternalNameServices: cfg.AllowExternalNameServices,
		AllowEmptyServices: cfg.AllowEmptyServices, NativeLBByDefault: cfg.NativeLBByDefault,
		IngressClass: cfg.IngressClass, Upstreams: reg,
	}
	for _, ep := range cfg.EntryPoints {
		o.EntryPoints = append(o.EntryPoints, ep.Name)
		if ep.AsDefault {
			o.DefaultEntryPoints = append(o.DefaultEntryPoints, ep.Name)
		}
	}
	return o
}

// serve runs the entry points until SIGINT/SIGTERM. m overrides the
// manifests source (demo).
func serve(cfg *config, m *watch.Manifests, log *slog.Logger) error {
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	if len(cfg.EntryPoints) == 0 {
		return fmt.Errorf("no entry point: set --entryPoints.NAME.address=[host]:port")
	}
	if m == nil {
		if cfg.ManifestsDir == "" {
			return fmt.Errorf("no provider: set --providers.manifests.directory=DIR (the Kubernetes provider is not built yet)")
		}
		m = &watch.Manifests{Dir: cfg.ManifestsDir}
	}
	if cfg.PprofAddress != "" {
		if err := servePprof(cfg.PprofAddress, log); err != nil {
			return err
		}
	}
	reg := upstream.NewRegistry(upstream.Options{})
	var table atomic.Pointer[route.Table]
	table.Store(route.NewBuilder(nil).Build())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ready := make(chan struct{})
	go m.Watch(ctx, 250*time.Millisecond, func(snap *model.Snapshot, diags []model.Diagnostic, err error) {
		publish(cfg, reg, &table, snap, diags, err, log)
		select {
		case <-ready:
		default:
			close(ready)
		}
	})
	<-ready
	servers, err := listen(cfg, &table, log)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down")
	for _, s := range servers {
		_ = s.Shutdown()
	}
	return nil
}

func publish(cfg *config, reg *upstream.Registry, table *atomic.Pointer[route.Table], snap *model.Snapshot, diags []model.Diagnostic, err error, log *slog.Logger) {
	if err != nil {
		log.Error("cannot read manifests; the last good table keeps serving", "error", err)
		return
	}
	t, cdiags := compile.Compile(snap, compileOptions(cfg, reg))
	for _, d := range append(diags, cdiags...) {
		lvl := slog.LevelWarn
		if d.Severity == model.Error {
			lvl = slog.LevelError
		}
		log.Log(context.Background(), lvl, d.Message, "file", d.File, "object", d.Object, "field", d.Field)
	}
	table.Store(t)
	reg.Prune()
	log.Info("routing table published", "routers", len(t.Routes), "diagnostics", len(diags)+len(cdiags))
}

func listen(cfg *config, table *atomic.Pointer[route.Table], log *slog.Logger) ([]*fasthttp.Server, error) {
	var servers []*fasthttp.Server
	for i, ep := range cfg.EntryPoints {
		h := fastpath.NewHandler(table, fastpath.Config{
			EntryPoint: ep.Name, Index: i, TrustedIPs: ep.TrustedIPs, Insecure: ep.Insecure, KeepPath: ep.KeepPath,
			EncodeQuerySemicolons: ep.EncodeSemi, MaxHeaderBytes: ep.MaxHeader, Logger: log,
		})
		ln, err := net.Listen("tcp", ep.Address)
		if err != nil {
			return nil, fmt.Errorf("entry point %s: %w", ep.Name, err)
		}
		s := fastpath.NewServer(h)
		servers = append(servers, s)
		log.Info("entry point listening", "entryPoint", ep.Name, "address", ln.Addr().String())
		go func() {
			if err := s.Serve(ln); err != nil {
				log.Error("entry point stopped", "entryPoint", ep.Name, "error", err)
			}
		}()
	}
	return servers, nil
}
