// Command sluice is the Sluice edge proxy: it serves Traefik v3
// IngressRoutes (from a manifests directory for now), and its subcommands
// `route` and `check` explain and lint them without serving.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "route":
		return routeCmd(args[1:], stdout, stderr)
	case "check":
		return checkCmd(args[1:], stdout, stderr)
	case "demo":
		return demoCmd(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage+options)
		return 0
	case "-v", "--version", "version":
		fmt.Fprintln(stdout, versionString())
		return 0
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
  sluice --entryPoints.web.address=:8000 --providers.kubernetesCRD [options]
  sluice demo                      serve examples/ with demo backends on :8000
  sluice route --manifests DIR [--entrypoint NAME] [-H 'K: V']... [--remote-addr IP:PORT] [--sni NAME] [--output json] METHOD URL
  sluice check DIR [options]       print every diagnostic (with the options: what ACME resolvers will request); exit 1 on errors
  sluice --help                    this, and every option
  sluice --version
`

// options are Sluice's options, grouped as the README gives them. Keys are
// Traefik's static configuration, case-insensitive, as flags
// (--key=value) or in --configFile=FILE.yaml.
const options = `
Entry points (any number; NAME is yours):
  --entryPoints.NAME.address=[host]:port             listen here (Traefik's /tcp suffix allowed)
  --entryPoints.NAME.asDefault                       routers without entryPoints attach only to asDefault ones
  --entryPoints.NAME.forwardedHeaders.trustedIPs=CIDR,...   peers whose X-Forwarded-* are kept
  --entryPoints.NAME.forwardedHeaders.insecure       trust every peer
  --entryPoints.NAME.http.sanitizePath=false         keep .. and // (default: sanitize)
  --entryPoints.NAME.http.encodeQuerySemicolons      forward ';' in the query as %3B (default: as '&')
  --entryPoints.NAME.http.maxHeaderBytes=N           request header limit (default 1 MiB)
  --entryPoints.NAME.transport.lifeCycle.requestAcceptGraceTimeout=D, .graceTimeOut=D   shutdown (0s, 10s)

Providers (one of):
  --providers.manifests.directory=DIR                a directory of Kubernetes YAML, watched (Sluice's)
  --providers.kubernetesCRD                          watch the cluster (in-cluster, else --kubeconfig, $KUBECONFIG)
  --providers.kubernetesCRD.namespaces=a,b           only these namespaces (default all)
  --providers.kubernetesCRD.labelSelector=SEL        only Traefik objects matching it
  --providers.kubernetesCRD.ingressClass=NAME        only IngressRoutes of that class
  --providers.kubernetesCRD.allowCrossNamespace      references across namespaces (default false)
  --providers.kubernetesCRD.crossProviderNamespaces=a,b   who may write name@provider (unset: all; empty: none)
  --providers.kubernetesCRD.allowExternalNameServices
  --providers.kubernetesCRD.allowEmptyServices       keep routers whose service has no endpoint (503)
  --providers.kubernetesCRD.nativeLBByDefault        use the Service's cluster IP
  --providers.kubernetesCRD.throttleDuration=D       minimum time between two rebuilds
  --providers.kubernetesCRD.disableClusterScopeResources
  --providers.kubernetesCRD.{endpoint,token,certAuthFilePath}   API server outside a cluster
  --kubeconfig=FILE                                  Sluice's: the kubeconfig to use outside a cluster

Servers transport (services without a ServersTransport; default@internal):
  --serversTransport.insecureSkipVerify              do not verify servers' certificates
  --serversTransport.rootCAs=FILE,...                CA bundles servers' certificates are verified with
  --serversTransport.maxIdleConnsPerHost=N           idle connections kept per server (negative: none)
  --serversTransport.forwardingTimeouts.{dialTimeout,responseHeaderTimeout,idleConnTimeout}=D
  --serversTransport.spiffe.{ids=ID,...,trustDomain=TD}  SPIFFE mutual TLS to servers (needs the next)
  --spiffe.workloadAPIAddr=unix:///PATH              the SPIFFE Workload API (a SPIRE agent's socket)

TLS (Sluice's):
  --tls.sessionTicketKeysSecret=NAMESPACE/NAME       TLS session ticket keys shared by every replica, from
                                                     the Secret's session-ticket-keys (32-byte keys, first seals)

Health, logs, debugging:
  --ping, --ping.entryPoint=traefik, --ping.terminatingStatusCode=503   /ping and /ready
  --log.level=debug|info|warn|error, --log.format=text|json
  --debug.pprofAddress=127.0.0.1:6060                Go's profiler on its own listener
  --configFile=FILE.yaml                             the same keys as YAML; flags win

Other Traefik keys are accepted with a warning; a near-miss of one of these is an error.
`

// version is set at build time (-ldflags "-X main.version=v1.2.3"); else
// the build's module version or VCS revision, if known.
var version = ""

func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "" {
		v = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " " + s.Value[:12]
			}
		}
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	return fmt.Sprintf("sluice %s (%s %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

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
		DefaultTransport: cfg.DefaultTransport, DefaultRuleSyntax: cfg.DefaultRuleSyntax,
		TraceMiddlewares: cfg.Tracing != nil,
	}
	if cfg.SpiffeAddr != "" {
		o.SPIFFE = checkSPIFFE // serve replaces it with the Workload API's source
	}
	o.Redirections = cfg.Redirections
	for _, ep := range cfg.EntryPoints {
		if len(ep.Middlewares) > 0 {
			if o.EntryPointMiddlewares == nil {
				o.EntryPointMiddlewares = map[string][]string{}
			}
			o.EntryPointMiddlewares[ep.Name] = ep.Middlewares
		}
		if ep.TraceDetailed {
			if o.EntryPointTraceDetailed == nil {
				o.EntryPointTraceDetailed = map[string]bool{}
			}
			o.EntryPointTraceDetailed[ep.Name] = true
		}
		if len(ep.Middlewares) > 0 || ep.Observed || cfg.DefaultRuleSyntax != "" {
			if o.EntryPointModels == nil {
				o.EntryPointModels = map[string]bool{}
			}
			o.EntryPointModels[ep.Name] = true
		}
		if ep.TLS != nil {
			if o.EntryPointTLS == nil {
				o.EntryPointTLS = map[string]compile.EntryPointTLS{}
			}
			o.EntryPointTLS[ep.Name] = compile.EntryPointTLS{Options: ep.TLS.Options, CertResolver: ep.TLS.CertResolver, Domains: ep.TLS.domains()}
		}
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
