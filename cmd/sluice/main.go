// Command sluice is the Sluice edge proxy: it serves Traefik v3
// IngressRoutes (from a manifests directory for now), and its subcommands
// `route` and `check` explain and lint them without serving.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
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
		IngressClass: cfg.IngressClass, Upstreams: reg, CrossProviderNamespaces: cfg.CrossProviderNamespaces,
		DefaultTransport: cfg.DefaultTransport,
	}
	if cfg.Kube {
		o.Namespaces = cfg.KubeOpts.Namespaces
		o.DisableClusterScopeResources = cfg.KubeOpts.DisableClusterScopeResources
	}
	var rest []string
	for _, ep := range cfg.EntryPoints {
		o.EntryPoints = append(o.EntryPoints, ep.Name)
		if ep.AsDefault {
			o.DefaultEntryPoints = append(o.DefaultEntryPoints, ep.Name)
		}
		if ep.Name != "traefik" {
			rest = append(rest, ep.Name)
		}
	}
	// Without asDefault, routers attach to every entry point but Traefik's
	// own "traefik" one (ping, API).
	if len(o.DefaultEntryPoints) == 0 && len(rest) < len(o.EntryPoints) && len(rest) > 0 {
		o.DefaultEntryPoints = rest
	}
	return o
}
