package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// series is one sample of a Prometheus text exposition.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

func (s series) String() string {
	keys := make([]string, 0, len(s.labels))
	for k := range s.labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(s.labels[k])
	}
	return s.name + "{" + strings.Join(parts, ",") + "} " + strconv.FormatFloat(s.value, 'g', -1, 64)
}

var labelRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// parseExposition reads the samples of a text exposition; a malformed
// line fails the test (a scraper would reject the page).
func parseExposition(t *testing.T, page string) []series {
	t.Helper()
	var out []series
	for _, line := range strings.Split(page, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			t.Fatalf("malformed exposition line %q", line)
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			t.Fatalf("malformed value in %q", line)
		}
		s := series{name: line[:sp], labels: map[string]string{}, value: v}
		if i := strings.IndexByte(s.name, '{'); i >= 0 {
			if !strings.HasSuffix(s.name, "}") {
				t.Fatalf("malformed labels in %q", line)
			}
			for _, m := range labelRE.FindAllStringSubmatch(s.name[i+1:len(s.name)-1], -1) {
				s.labels[m[1]], _ = strconv.Unquote(`"` + m[2] + `"`)
			}
			s.name = s.name[:i]
		}
		out = append(out, s)
	}
	return out
}

// pick is the samples named name whose labels include want (a value
// ending in * matches as a prefix).
func pick(all []series, name string, want map[string]string) []series {
	var out []series
next:
	for _, s := range all {
		if s.name != name {
			continue
		}
		for k, v := range want {
			if p, ok := strings.CutSuffix(v, "*"); ok && !strings.HasPrefix(s.labels[k], p) || !ok && s.labels[k] != v {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// sum adds the values of the samples picked.
func sum(all []series, name string, want map[string]string) float64 {
	var n float64
	for _, s := range pick(all, name, want) {
		n += s.value
	}
	return n
}

// scrape GETs /metrics from addr with Host host and parses it.
func scrape(t *testing.T, addr, host string) []series {
	t.Helper()
	st, h, body := getHeader(t, addr, host, "/metrics")
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s/metrics (Host %s): %d %s %q", addr, host, st, h.Get("Content-Type"), body)
	}
	return parseExposition(t, body)
}

// TestBinaryMetrics runs the binary with --metrics.prometheus and sends
// requests over HTTP/1.1, h2c, HTTPS and HTTP/2 over TLS, with and
// without a body, to a route with one service and one with two; the
// exposition on the traefik entry point counts each exactly, under
// Traefik's names and labels, holds every series Traefik's two Grafana
// dashboards query, and forgets a removed route's router and service.
func TestBinaryMetrics(t *testing.T) {
	beta := &confBackend{name: "beta", hits: map[string]int{}}
	betaPort := namedBackendFunc(t, "127.0.0.3", beta.ServeHTTP)
	services := serviceYAML("beta", "http", 80, betaPort, `[{addresses: ["127.0.0.3"]}]`) + "---\n" +
		serviceYAML("gamma", "http", 80, betaPort, `[{addresses: ["127.0.0.3"]}]`) + "---\n"
	routes := mwRoute("app", "app.example", "[]") + mwRoute("streamy", "streamy.example", "[]") +
		strings.Replace(mwRoute("split", "split.example", "[]"), "services: [{name: echo, port: 80}]",
			"services: [{name: echo, port: 80}, {name: beta, port: 80}]", 1)
	gone := strings.Replace(mwRoute("gone", "gone.example", "[]"), "name: echo", "name: gamma", 1)
	// A service whose server refuses connections: retried, and watched by
	// a passive health check.
	dead := freePort(t)
	services += serviceYAML("dead", "http", 80, dead, `[{addresses: ["127.0.0.4"]}]`) + "---\n"
	routes += mwObject("retry3", "{retry: {attempts: 3}}") +
		strings.Replace(mwRoute("flaky", "flaky.example", "[{name: retry3}]"), "name: echo", "name: dead", 1) +
		strings.Replace(mwRoute("watched", "watched.example", "[]"), "{name: echo, port: 80}",
			"{name: dead, port: 80, passiveHealthCheck: {failureWindow: 30s, maxFailedAttempts: 1}}", 1)
	mport := freePort(t)
	maddr := fmt.Sprintf("127.0.0.1:%d", mport)
	f := newMWFixture(t, services+routes+gone, "--metrics.prometheus=true",
		"--entryPoints.traefik.address="+maddr, "--metrics.prometheus.addRoutersLabels=true")
	waitListening(t, maddr)

	plain := mwCase{name: "GET", host: "app.example", path: "/", status: 200}
	post := mwCase{name: "POST", method: "POST", host: "app.example", path: "/", body: "hello", status: 200}
	fail := mwCase{name: "503", host: "app.example", path: "/status/503", status: 503}
	missing := mwCase{name: "404", host: "app.example", path: "/status/404", status: 404}
	split := mwCase{name: "split", host: "split.example", path: "/", status: 200}
	toGone := mwCase{name: "gone", host: "gone.example", path: "/", status: 200}
	flaky := mwCase{name: "flaky", host: "flaky.example", path: "/", status: 502}
	stream := mwCase{name: "stream", host: "streamy.example", path: "/stream", status: 200} // "part1 part2", no length
	f.run(t, []mwCase{plain, post, fail, missing, split, split, toGone, flaky, stream})
	// once: after its first failure the server is out (503s, not counted
	// on the service)
	if st, body := get(t, f.p.addr, "watched.example", "/"); st != 502 {
		t.Errorf("watched: %d %q, want 502", st, body)
	}
	all := scrape(t, maddr, "any.example")
	if t.Failed() {
		return
	}
	checkRequestCounts(t, all, dead)
	checkOwnSeries(t, all)
	checkFamilies(t, all)
	for _, dash := range []string{"traefik.json", "traefik-kubernetes.json"} {
		checkDashboard(t, filepath.Join("testdata", "grafana", dash), all)
	}

	// The route removed: its router's and service's series go with it.
	write(t, filepath.Join(f.dir, "objects.yaml"), services+routes+withTLSCopies(routes))
	eventuallyWithin(t, 5*time.Second, f.p.addr, "gone.example", "/", 404, "")
	all = scrape(t, maddr, "any.example")
	for _, s := range all {
		if strings.Contains(s.labels["router"], "gone") || strings.Contains(s.labels["service"], "gone") {
			t.Errorf("series of the removed route is still exposed: %v", s)
		}
	}
	if len(pick(all, "traefik_router_requests_total", map[string]string{"service": "e2e-app-*"})) == 0 {
		t.Errorf("the remaining routers' series went too")
	}
	if n := sum(all, "traefik_config_reloads_total", nil); n < 2 {
		t.Errorf("traefik_config_reloads_total %v after a reload, want at least 2", n)
	}
	if t.Failed() {
		t.Logf("logs:\n%s", f.p.log())
	}
}

// checkRequestCounts: four clients sent GET, POST (5 bytes), a 503, a
// 404, two requests to the split route, one to the gone route, one to
// the flaky route (retried) and one streamed answer, each; HTTP/1.1 one to the watched one (a
// passive health check; the server listens on port dead).
func checkRequestCounts(t *testing.T, all []series, dead int) {
	t.Helper()
	ep := func(code, method string) map[string]string {
		return map[string]string{"entrypoint": "web", "code": code, "method": method, "protocol": "http"}
	}
	for _, c := range []struct {
		name string
		want map[string]string
		n    float64
	}{
		{"traefik_entrypoint_requests_total", ep("200", "GET"), 20},
		{"traefik_entrypoint_requests_total", ep("200", "POST"), 4},
		{"traefik_entrypoint_requests_total", ep("503", "GET"), 4},
		{"traefik_entrypoint_request_duration_seconds_count", ep("200", "GET"), 20},
		{"traefik_entrypoint_request_duration_seconds_count", ep("502", "GET"), 5},
		{"traefik_entrypoint_request_duration_seconds_bucket", map[string]string{"entrypoint": "web", "code": "200", "method": "GET", "le": "+Inf"}, 20},
		{"traefik_entrypoint_requests_bytes_total", ep("200", "POST"), 20},
		{"traefik_entrypoint_requests_tls_total", map[string]string{"entrypoint": "web", "tls_version": "1.3"}, 18},
		{"traefik_entrypoint_requests_total", ep("404", "GET"), 4},
		{"traefik_entrypoint_requests_total", ep("502", "GET"), 5},
		// Service series are the load balancers' that reach servers, named
		// as Traefik names them: a route's one Kubernetes service takes the
		// route's name; a weighted route's children their own.
		{"traefik_service_requests_total", map[string]string{"service": "e2e-app-*"}, 16},
		{"traefik_service_requests_total", map[string]string{"service": "e2e-app-*", "code": "503"}, 4},
		{"traefik_service_requests_total", map[string]string{"service": "e2e-gone-*", "code": "200"}, 4},
		{"traefik_service_requests_tls_total", map[string]string{"service": "e2e-gone-tls-*", "tls_version": "1.3"}, 2},
		{"traefik_router_requests_total", map[string]string{"router": "e2e-app-*", "service": "e2e-app-*", "code": "503"}, 4},
		{"traefik_router_requests_total", map[string]string{"router": "e2e-split-*", "service": "e2e-split-*"}, 8},
		// a streamed answer is counted when it ends, with the bytes sent
		{"traefik_service_requests_total", map[string]string{"service": "e2e-streamy-*", "code": "200"}, 4},
		{"traefik_service_responses_bytes_total", map[string]string{"service": "e2e-streamy-*"}, 44},
		{"traefik_router_responses_bytes_total", map[string]string{"router": "e2e-streamy-*"}, 44},
	} {
		if got := sum(all, c.name, c.want); got != c.n {
			t.Errorf("%s%v = %v, want %v; exposed:\n%s", c.name, c.want, got, c.n, dump(pick(all, c.name, nil)))
		}
	}
	echo := sum(all, "traefik_service_requests_total", map[string]string{"service": "e2e-echo-80@kubernetescrd"})
	beta := sum(all, "traefik_service_requests_total", map[string]string{"service": "e2e-beta-80@kubernetescrd"})
	if echo+beta != 8 || echo == 0 || beta == 0 {
		t.Errorf("the split route's 8 requests: %v counted on e2e-echo-80, %v on e2e-beta-80; want both, 8 in all", echo, beta)
	}
	if n := sum(all, "traefik_entrypoint_responses_bytes_total", ep("200", "GET")); n < 16*50 {
		t.Errorf("traefik_entrypoint_responses_bytes_total{GET 200} = %v, want the echoes' sizes", n)
	}
	if n := sum(all, "traefik_open_connections", map[string]string{"entrypoint": "web", "protocol": "TCP"}); n < 4 {
		t.Errorf("traefik_open_connections{web} = %v while four clients keep theirs open", n)
	}
	// Every router series names its router and the router's service; the
	// TLS copies are routers of their own.
	routers := map[string]bool{}
	for _, s := range pick(all, "traefik_router_requests_total", nil) {
		routers[s.labels["router"]] = true
	}
	if len(routers) != 11 { // a router's series exist once it has served
		t.Errorf("router series for %d routers, want 11 (5 routes, plain and TLS, and the plain watched one): %v", len(routers), routers)
	}
	// each flaky request is tried three times: two retries
	if n := sum(all, "traefik_service_retries_total", map[string]string{"service": "e2e-flaky-*"}); n != 8 {
		t.Errorf("traefik_service_retries_total{flaky} = %v, want 8; exposed:\n%s", n, dump(pick(all, "traefik_service_retries_total", nil)))
	}
	// the watched server failed: down (for the plain route's service)
	down := pick(all, "traefik_service_server_up", map[string]string{"service": "e2e-watched-*", "url": fmt.Sprintf("http://127.0.0.4:%d", dead)})
	if len(down) != 2 || sum(all, "traefik_service_server_up", map[string]string{"service": "e2e-watched-[0-9a-f]*"}) != 0 {
		t.Errorf("traefik_service_server_up of the failed server: %v; exposed:\n%s", down, dump(pick(all, "traefik_service_server_up", nil)))
	}
	if up := pick(all, "traefik_service_server_up", map[string]string{"service": "e2e-app-*"}); len(up) != 0 {
		t.Errorf("server_up for services without health checks (Traefik reports none): %v", up)
	}
}

// checkOwnSeries: Sluice's own series, under sluice_.
func checkOwnSeries(t *testing.T, all []series) {
	t.Helper()
	for _, c := range []struct {
		name     string
		min, max float64
	}{
		{"sluice_table_publishes_total", 1, 10},
		{"sluice_compile_seconds_total", 1e-9, 10},
		{"sluice_table_routers", 12, 12},
		{"sluice_watch_errors_total", 0, 0},
		{"sluice_upstream_endpoints", 3, 3}, // echo, beta (gamma's is beta's), dead
		{"sluice_upstream_connections", 1, 100},
		{"sluice_mirror_copies_dropped_total", 0, 0},
	} {
		got := pick(all, c.name, nil)
		if len(got) != 1 || got[0].value < c.min || got[0].value > c.max {
			t.Errorf("%s: %v, want one sample in [%v, %v]", c.name, got, c.min, c.max)
		}
	}
	if n := sum(all, "sluice_diagnostics", map[string]string{"severity": "error"}); n != 0 {
		t.Errorf("sluice_diagnostics{error} = %v", n)
	}
}

// traefikLabels are the label names of each family, from Traefik's
// pkg/observability/metrics/prometheus.go.
var traefikLabels = map[string]string{
	"traefik_entrypoint_requests_total":                  "code,entrypoint,method,protocol",
	"traefik_entrypoint_requests_tls_total":              "entrypoint,tls_cipher,tls_version",
	"traefik_entrypoint_request_duration_seconds_bucket": "code,entrypoint,le,method,protocol",
	"traefik_entrypoint_requests_bytes_total":            "code,entrypoint,method,protocol",
	"traefik_entrypoint_responses_bytes_total":           "code,entrypoint,method,protocol",
	"traefik_router_requests_total":                      "code,method,protocol,router,service",
	"traefik_router_requests_tls_total":                  "router,service,tls_cipher,tls_version",
	"traefik_router_request_duration_seconds_sum":        "code,method,protocol,router,service",
	"traefik_service_requests_total":                     "code,method,protocol,service",
	"traefik_service_requests_tls_total":                 "service,tls_cipher,tls_version",
	"traefik_service_request_duration_seconds_count":     "code,method,protocol,service",
	"traefik_service_responses_bytes_total":              "code,method,protocol,service",
	"traefik_service_retries_total":                      "service",
	"traefik_service_server_up":                          "service,url",
	"traefik_open_connections":                           "entrypoint,protocol",
	"traefik_config_reloads_total":                       "",
	"traefik_config_last_reload_success":                 "",
	"traefik_tls_certs_not_after":                        "cn,sans,serial",
	"process_cpu_seconds_total":                          "",
	"process_resident_memory_bytes":                      "",
	"go_goroutines":                                      "",
}

// checkFamilies: each family is exposed with exactly Traefik's labels.
func checkFamilies(t *testing.T, all []series) {
	t.Helper()
	for name, want := range traefikLabels {
		got := pick(all, name, nil)
		if len(got) == 0 {
			t.Errorf("%s is not exposed", name)
			continue
		}
		for _, s := range got {
			keys := make([]string, 0, len(s.labels))
			for k := range s.labels {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if strings.Join(keys, ",") != want {
				t.Errorf("%v: labels %v, want Traefik's %s", s, keys, want)
				break
			}
		}
	}
	if n := sum(all, "traefik_tls_certs_not_after", map[string]string{"cn": "mw"}); n < float64(time.Now().Unix()) {
		t.Errorf("traefik_tls_certs_not_after{cn=mw} = %v, want the certificate's expiry", n)
	}
}

func dump(ss []series) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(s.String() + "\n")
	}
	return b.String()
}

var (
	selectorRE    = regexp.MustCompile(`(traefik_[a-z_]+)(\{([^}]*)\})?`)
	matcherRE     = regexp.MustCompile(`(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	byRE          = regexp.MustCompile(`by\s*\(([^)]*)\)`)
	labelValuesRE = regexp.MustCompile(`label_values\((traefik_[a-z_]+),\s*(\w+)\)`)
)

// checkDashboard: every selector of every query of a Grafana dashboard
// (its variables as match-anything) matches at least one series, and the
// series carry the labels the query aggregates by.
func checkDashboard(t *testing.T, path string, all []series) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	collectExprs(doc, &exprs)
	checked := 0
	for _, e := range exprs {
		e = regexp.MustCompile(`\$\w+`).ReplaceAllString(e, ".*")
		var by []string
		for _, m := range byRE.FindAllStringSubmatch(e, -1) {
			for _, l := range strings.Split(m[1], ",") {
				by = append(by, strings.TrimSpace(l))
			}
		}
		for _, m := range labelValuesRE.FindAllStringSubmatch(e, -1) {
			if len(matchSelector(all, m[1], "", []string{m[2]})) == 0 {
				t.Errorf("%s: label_values(%s, %s) finds nothing", path, m[1], m[2])
			}
			checked++
		}
		for _, m := range selectorRE.FindAllStringSubmatch(e, -1) {
			if len(matchSelector(all, m[1], m[3], by)) == 0 {
				t.Errorf("%s: %s{%s} (by %v) matches no series; exposed:\n%s", path, m[1], m[3], by, dump(pick(all, m[1], nil)))
			}
			checked++
		}
	}
	if checked < 15 {
		t.Errorf("%s: only %d selectors found; the dashboard parser is broken", path, checked)
	}
}

// collectExprs gathers the "expr" and string "query" fields of a
// dashboard's panels and templating.
func collectExprs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || k == "query") && strings.Contains(s, "traefik_") {
				*out = append(*out, s)
			}
			collectExprs(x, out)
		}
	case []any:
		for _, x := range v {
			collectExprs(x, out)
		}
	}
}

// matchSelector is the series named name that satisfy the PromQL
// matchers and carry every label of by.
func matchSelector(all []series, name, matchers string, by []string) []series {
	var out []series
next:
	for _, s := range all {
		if s.name != name {
			continue
		}
		for _, m := range matcherRE.FindAllStringSubmatch(matchers, -1) {
			v := s.labels[m[1]]
			var ok bool
			switch m[2] {
			case "=":
				ok = v == m[3]
			case "!=":
				ok = v != m[3]
			case "=~":
				ok = regexp.MustCompile("^(?:" + m[3] + ")$").MatchString(v)
			case "!~":
				ok = !regexp.MustCompile("^(?:" + m[3] + ")$").MatchString(v)
			}
			if !ok {
				continue next
			}
		}
		for _, l := range by {
			if _, ok := s.labels[l]; !ok {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// TestBinaryMetricsEntryPointAndManualRouting: the Helm chart's layout (a
// metrics entry point named by --metrics.prometheus.entryPoint) answers
// PathPrefix(`/metrics`) and nothing else; with manualRouting it answers
// nothing, and an IngressRoute to prometheus@internal serves the page.
// Which requests count is Traefik's shouldMeter: a route's
// observability.metrics, else its entry point's; routers to @internal
// services (the metrics page itself) only with --metrics.addInternals.
func TestBinaryMetricsEntryPointAndManualRouting(t *testing.T) {
	port := namedBackend(t, "127.0.0.2", "app")
	withObs := func(name, host, svc, metrics string) string {
		r := routeYAML(name, host, svc)
		if metrics != "" {
			r += "    observability: {metrics: " + metrics + "}\n"
		}
		return r + "---\n"
	}
	routes := withObs("app", "app.example", "{name: app, port: 80}", "") +
		withObs("quiet", "quiet.example", "{name: app, port: 80}", "false") +
		withObs("loud", "loud.example", "{name: app, port: 80}", "true") +
		withObs("scrape", "scrape.example", "{name: prometheus@internal, kind: TraefikService}", "true")
	for _, v := range []struct {
		name    string
		manual  bool
		extra   []string
		counted []string // routers metered, of app, quiet, loud, scrape
	}{
		{"defaults", false, nil, []string{"app", "loud"}},
		{"manualRouting, addInternals, entry point off", true, []string{"--metrics.addInternals=true",
			"--entryPoints.web.observability.metrics=false"}, []string{"loud", "scrape"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "svc.yaml"), manifests("app", port, "127.0.0.2"))
			write(t, filepath.Join(dir, "routes.yaml"), routes)
			maddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			p := startSluice(t, dir, append([]string{"--metrics.prometheus=true", "--metrics.prometheus.entryPoint=metrics",
				"--entryPoints.metrics.address=" + maddr, "--metrics.prometheus.addRoutersLabels=true",
				fmt.Sprintf("--metrics.prometheus.manualRouting=%v", v.manual)}, v.extra...)...)
			waitListening(t, maddr)
			for _, host := range []string{"app", "quiet", "loud"} {
				if st, body := get(t, p.addr, host+".example", "/"); st != 200 || !strings.Contains(body, "app") {
					t.Fatalf("GET %s: %d %q", host, st, body)
				}
			}
			st, body := get(t, p.addr, "scrape.example", "/metrics")
			if st != 200 || !strings.Contains(body, "traefik_config_reloads_total") {
				t.Errorf("GET /metrics through prometheus@internal: %d %q", st, body)
			}
			onEP := 200
			if v.manual {
				onEP = 404
			}
			for _, path := range []string{"/metrics", "/metrics/x", "/metricsfoo"} {
				if st, body := get(t, maddr, "any.example", path); st != onEP || onEP == 200 && !strings.Contains(body, "traefik_config_reloads_total") {
					t.Errorf("GET %s on the metrics entry point: %d %.80q, want %d", path, st, body, onEP)
				}
			}
			if st, _ := get(t, maddr, "any.example", "/other"); st != 404 {
				t.Errorf("GET /other on the metrics entry point: %d, want 404", st)
			}
			var all []series
			if v.manual {
				all = scrape(t, p.addr, "scrape.example")
			} else {
				all = scrape(t, maddr, "any.example")
			}
			if n := sum(all, "traefik_entrypoint_requests_total", map[string]string{"entrypoint": "web"}); n != float64(len(v.counted)) {
				t.Errorf("traefik_entrypoint_requests_total{web} = %v, want %d (routers %v)", n, len(v.counted), v.counted)
			}
			if n := sum(all, "traefik_entrypoint_requests_total", map[string]string{"entrypoint": "metrics", "code": "200"}); n != 0 {
				t.Errorf("the metrics page's own requests were counted (%v); Traefik meters @internal routers only with addInternals", n)
			}
			// An entry point with observability options has a Traefik
			// model: a router on it and another entry point is named
			// "<entrypoint>-<name>" there.
			prefix := "e2e-"
			if v.manual {
				prefix = "web-e2e-"
			}
			for _, r := range []string{"app", "quiet", "loud", "scrape"} {
				got := len(pick(all, "traefik_router_requests_total", map[string]string{"router": prefix + r + "-*"})) > 0
				if want := slices.Contains(v.counted, r); got != want {
					t.Errorf("router %s metered: %v, want %v", r, got, want)
				}
			}
		})
	}
}

// TestBinaryMetricsHeaderLabels (HTTP/1.1 and h2c): --metrics.prometheus.headerLabels adds a
// label with the request header's value ("" when absent) to the
// requests_total counters, and only to them, as Traefik's.
func TestBinaryMetricsHeaderLabels(t *testing.T) {
	port := namedBackend(t, "127.0.0.2", "app")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("app", port, "127.0.0.2")+"---\n"+routeYAML("app", "app.example", "{name: app, port: 80}"))
	maddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startSluice(t, dir, "--metrics.prometheus=true", "--entryPoints.traefik.address="+maddr,
		"--metrics.prometheus.headerLabels.tenant=X-Tenant")
	// The second gold request comes over h2c: the header is read from
	// HTTP/2's lower-case field as from HTTP/1.1's.
	for i, tenant := range []string{"gold", "gold", "", `a"b`} {
		req, _ := http.NewRequest("GET", "http://"+p.addr+"/", nil)
		req.Host = "app.example"
		if tenant != "" {
			req.Header.Set("X-Tenant", tenant)
		}
		cl := http.DefaultClient
		if i == 1 {
			cl = h2cHTTPClient()
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	all := scrape(t, maddr, "x")
	for _, c := range []struct {
		name   string
		labels map[string]string
		n      float64
	}{
		{"traefik_entrypoint_requests_total", map[string]string{"entrypoint": "web", "tenant": "gold"}, 2},
		{"traefik_entrypoint_requests_total", map[string]string{"entrypoint": "web", "tenant": ""}, 1},
		{"traefik_entrypoint_requests_total", map[string]string{"entrypoint": "web", "tenant": `a"b`}, 1},
		{"traefik_service_requests_total", map[string]string{"service": "e2e-app-*", "tenant": "gold"}, 2},
		{"traefik_entrypoint_request_duration_seconds_count", map[string]string{"entrypoint": "web"}, 4},
	} {
		if got := sum(all, c.name, c.labels); got != c.n {
			t.Errorf("%s%v = %v, want %v; exposed:\n%s", c.name, c.labels, got, c.n, dump(pick(all, c.name, nil)))
		}
	}
	for _, s := range pick(all, "traefik_entrypoint_request_duration_seconds_count", nil) {
		if _, ok := s.labels["tenant"]; ok {
			t.Errorf("a header label on a histogram: %v", s)
		}
	}
	for _, s := range pick(all, "traefik_entrypoint_requests_total", map[string]string{"entrypoint": "web"}) {
		if _, ok := s.labels["tenant"]; !ok {
			t.Errorf("requests_total without the header label: %v", s)
		}
	}
}
