package main

import (
	"strings"
	"testing"
	"time"
)

// TestChartDefaultArgs: the Traefik Helm chart's default arguments
// (ecosystem.md 1.11) start Sluice: what Sluice serves is set, the rest is
// accepted with a warning, the TLS entry point is marked, metrics go to
// the chart's metrics entry point, and the API and dashboard are there
// for an IngressRoute to api@internal.
func TestChartDefaultArgs(t *testing.T) {
	args := []string{
		"--entryPoints.metrics.address=:9100/tcp", "--entryPoints.traefik.address=:8080/tcp",
		"--entryPoints.web.address=:8000/tcp", "--entryPoints.websecure.address=:8443/tcp",
		"--api.dashboard=true", "--ping=true", "--metrics.prometheus=true", "--metrics.prometheus.entrypoint=metrics",
		"--providers.kubernetescrd", "--providers.kubernetescrd.allowEmptyServices=true",
		"--providers.kubernetesingress", "--providers.kubernetesingress.allowEmptyServices=true",
		"--providers.kubernetesingress.ingressendpoint.publishedservice=traefik/rel-traefik",
		"--entryPoints.websecure.http.tls=true", "--log.level=INFO",
	}
	cfg, err := parseConfig(args)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Kube || !cfg.AllowEmptyServices || !cfg.Ping || cfg.PingEntryPoint != "traefik" {
		t.Errorf("kube=%t allowEmpty=%t ping=%t pingEP=%q", cfg.Kube, cfg.AllowEmptyServices, cfg.Ping, cfg.PingEntryPoint)
	}
	addrs := map[string]string{}
	for _, ep := range cfg.EntryPoints {
		addrs[ep.Name] = ep.Address
		if ep.GraceTimeOut != 10*time.Second {
			t.Errorf("%s graceTimeOut %v, want Traefik's 10s", ep.Name, ep.GraceTimeOut)
		}
		if (ep.TLS != nil) != (ep.Name == "websecure") {
			t.Errorf("%s tls=%v", ep.Name, ep.TLS)
		}
	}
	want := map[string]string{"metrics": ":9100", "traefik": ":8080", "web": ":8000", "websecure": ":8443"}
	for n, a := range want {
		if addrs[n] != a {
			t.Errorf("entry point %s address %q, want %q", n, addrs[n], a)
		}
	}
	warned := strings.Join(cfg.Warnings, "\n")
	if cfg.Metrics == nil || cfg.Metrics.EntryPoint != "metrics" || !cfg.Metrics.Opts.EntryPoints || !cfg.Metrics.Opts.Services || cfg.Metrics.Opts.Routers {
		t.Errorf("metrics %+v, want Prometheus on the metrics entry point with Traefik's default labels", cfg.Metrics)
	}
	if cfg.API == nil || !cfg.API.Dashboard || cfg.API.Insecure {
		t.Errorf("api %+v, want api@internal and dashboard@internal for IngressRoutes, not insecure", cfg.API)
	}
	for _, w := range []string{"providers.kubernetesingress"} {
		if !strings.Contains(warned, w) {
			t.Errorf("no warning for %s in:\n%s", w, warned)
		}
	}
	// Routers without entryPoints attach to every entry point but traefik.
	o := compileOptions(cfg, nil)
	if strings.Join(o.DefaultEntryPoints, ",") != "metrics,web,websecure" {
		t.Errorf("default entry points %v", o.DefaultEntryPoints)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ arg, want string }{
		{"--entryPoints.dns.address=:53/udp", "only TCP"},
		{"--providers.kubernetesCRD.labelSelector=a in (", "invalid label selector"},
		{"--providers.kubernetesCRD.throttleDuration=abc", "not a duration"},
		{"--entryPoints.web.transport.lifeCycle.graceTimeOut=x", "not a duration"},
		{"--ping.terminatingStatusCode=42", "not an HTTP status"},
		{"--entryPoints.web.forwardedHeaders.connection=Foo,bad name", `"bad name" is not a header name`},
		{"--tracing.otlp.http.tls.ca=/nonexistent/ca.pem", "--tracing.otlp.*.tls.ca: open /nonexistent/ca.pem"},
		{"--tracing.otlp.http.tls.cert=/x.pem", "--tracing.otlp.*.tls.cert and .key go together"},
		{"--tracing.otlp.grpc.endpoint=collector", `"collector" is not host:port`},
	} {
		_, err := parseConfig([]string{"--entryPoints.web.address=:80", tc.arg})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.arg, err, tc.want)
		}
	}
	cfg, err := parseConfig([]string{"--entryPoints.web.address=:80", "--entryPoints.web.transport.lifeCycle.requestAcceptGraceTimeout=5",
		"--providers.kubernetesCRD.namespaces=a, b", "--providers.kubernetesCRD.throttleDuration=2s",
		"--entryPoints.web.forwardedHeaders.connection=foobar, X-Custom"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.EntryPoints[0].KeepConnection, ","); got != "Foobar,X-Custom" {
		t.Errorf("forwardedHeaders.connection read as %q", got)
	}
	if cfg.EntryPoints[0].AcceptGrace != 5*time.Second || strings.Join(cfg.KubeOpts.Namespaces, ",") != "a,b" || cfg.KubeOpts.ThrottleDuration != 2*time.Second {
		t.Errorf("parsed %+v %+v", cfg.EntryPoints[0], cfg.KubeOpts)
	}
}
