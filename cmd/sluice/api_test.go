package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// getJSON GETs path from addr (Host host) and decodes the answer into v;
// it returns the status and the response's header.
func getJSON(t *testing.T, addr, host, path string, v any) (int, http.Header) {
	t.Helper()
	st, h, body := getHeader(t, addr, host, path)
	if st == 200 && v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: not JSON: %v\n%s", path, err, body)
		}
	}
	return st, h
}

// TestBinaryAPI: --api.insecure serves Traefik's API on the traefik entry
// point with Traefik's shapes (routers with status and errors, services
// with server status, middlewares with their configuration, entry
// points, overview, pagination and filters), the dashboard's pages
// behind its redirect, Sluice's route explanation and diagnostics; and
// an IngressRoute reaches the same through api@internal.
func TestBinaryAPI(t *testing.T) {
	port := namedBackend(t, "127.0.0.2", "app")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "svc.yaml"), manifests("app", port, "127.0.0.2")+"---\n"+manifests("other", port, "127.0.0.2"))
	routes := mwObject("strip", "{stripPrefix: {prefixes: [/app]}}") +
		mwRoute("app", "app.example", "[{name: strip}]") +
		mwRoute("broken", "broken.example", "[{name: missing}]") +
		strings.Replace(mwRoute("split", "split.example", "[]"), "services: [{name: echo, port: 80}]",
			"services: [{name: app, port: 80, weight: 3}, {name: other, port: 80, weight: 1}]", 1) +
		routeYAML("dash", "dash.example", "{name: api@internal, kind: TraefikService}")
	write(t, filepath.Join(dir, "routes.yaml"), strings.ReplaceAll(routes, "name: echo", "name: app"))
	api := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startSluice(t, dir, "--api.insecure=true", "--entryPoints.traefik.address="+api)
	eventually(t, p.addr, "app.example", "/app/x", 200, "app")

	var routers []map[string]any
	st, h := getJSON(t, api, "x", "/api/http/routers", &routers)
	if st != 200 || h.Get("X-Next-Page") != "1" || h.Get("Content-Type") != "application/json" {
		t.Fatalf("routers: %d %v", st, h)
	}
	byName := map[string]map[string]any{}
	for _, r := range routers {
		byName[strings.SplitN(r["name"].(string), "-", 3)[1]] = r
		if r["provider"] != "kubernetescrd" || !strings.HasSuffix(r["name"].(string), "@kubernetescrd") {
			t.Errorf("router %v: provider", r)
		}
	}
	app, broken := byName["app"], byName["broken"]
	if app == nil || broken == nil || byName["split"] == nil || byName["dash"] == nil {
		t.Fatalf("routers: %v", routers)
	}
	if app["status"] != "enabled" || app["rule"] != "Host(`app.example`)" || app["priorityStr"] != "19" ||
		fmt.Sprint(app["middlewares"]) != "[e2e-strip]" || fmt.Sprint(app["using"]) != "[web]" ||
		!strings.HasPrefix(app["service"].(string), "e2e-app-") || strings.Contains(app["service"].(string), "@") {
		t.Errorf("app router: %v", app)
	}
	if broken["status"] != "disabled" || !strings.Contains(fmt.Sprint(broken["error"]), "middleware not found: e2e/missing") {
		t.Errorf("broken router: %v", broken)
	}

	// pagination and filters, as Traefik's
	var page []map[string]any
	if st, h := getJSON(t, api, "x", "/api/http/routers?per_page=1&page=2", &page); st != 200 || len(page) != 1 || h.Get("X-Next-Page") != "3" {
		t.Errorf("page 2 of 1: %d %v %v", st, h.Get("X-Next-Page"), page)
	}
	if st, _, _ := getHeader(t, api, "x", "/api/http/routers?per_page=1&page=9"); st != 400 {
		t.Errorf("a page past the end: %d, want 400", st)
	}
	var disabled []map[string]any
	getJSON(t, api, "x", "/api/http/routers?status=disabled", &disabled)
	if len(disabled) != 1 || disabled[0]["name"] != broken["name"] {
		t.Errorf("status=disabled: %v", disabled)
	}
	var searched []map[string]any
	getJSON(t, api, "x", "/api/http/routers?search=split.example", &searched)
	if len(searched) != 1 {
		t.Errorf("search: %v", searched)
	}
	var one map[string]any
	if st, _ := getJSON(t, api, "x", "/api/http/routers/"+app["name"].(string), &one); st != 200 || one["rule"] != app["rule"] {
		t.Errorf("one router: %d %v", st, one)
	}
	if st, _, body := getHeader(t, api, "x", "/api/http/routers/nope@kubernetescrd"); st != 404 || body != `{"message":"router not found: nope@kubernetescrd"}`+"\n" {
		t.Errorf("unknown router: %d %q", st, body)
	}

	checkAPIServices(t, api, app["service"].(string))
	var mws []map[string]any
	getJSON(t, api, "x", "/api/http/middlewares", &mws)
	if len(mws) != 1 || mws[0]["name"] != "e2e-strip@kubernetescrd" || mws[0]["type"] != "stripprefix" ||
		fmt.Sprint(mws[0]["stripPrefix"]) != "map[prefixes:[/app]]" || fmt.Sprint(mws[0]["usedBy"]) != "["+app["name"].(string)+"]" {
		t.Errorf("middlewares: %v", mws)
	}
	var ov struct {
		HTTP map[string]map[string]float64 `json:"http"`
	}
	getJSON(t, api, "x", "/api/overview", &ov)
	if r := ov.HTTP["routers"]; r["total"] != 4 || r["errors"] != 1 {
		t.Errorf("overview: %v", ov)
	}
	var eps []map[string]any
	getJSON(t, api, "x", "/api/entrypoints", &eps)
	if len(eps) != 2 || eps[0]["name"] != "traefik" || eps[1]["name"] != "web" || eps[1]["address"] != p.addr {
		t.Errorf("entry points: %v", eps)
	}

	checkAPIExtras(t, api, p.addr, broken["name"].(string))
}

// checkAPIServices: the route's load balancer with its server UP, the
// weighted route's service and its children.
func checkAPIServices(t *testing.T, api, appService string) {
	t.Helper()
	var svcs []map[string]any
	getJSON(t, api, "x", "/api/http/services", &svcs)
	found := map[string]map[string]any{}
	for _, s := range svcs {
		found[fmt.Sprint(s["type"])+" "+fmt.Sprint(s["name"])] = s
	}
	lb := found["loadbalancer "+appService+"@kubernetescrd"]
	if lb == nil || lb["status"] != "enabled" || !strings.Contains(fmt.Sprint(lb["serverStatus"]), ":UP") ||
		fmt.Sprint(lb["loadBalancer"].(map[string]any)["passHostHeader"]) != "true" {
		t.Errorf("the app route's service: %v\nall: %v", lb, svcs)
	}
	var weighted map[string]any
	for k, s := range found {
		if strings.HasPrefix(k, "weighted e2e-split-") {
			weighted = s
		}
	}
	if weighted == nil || !strings.Contains(fmt.Sprint(weighted["weighted"]), "name:e2e-app-80 weight:3") ||
		found["loadbalancer e2e-other-80@kubernetescrd"] == nil {
		t.Errorf("the weighted service and its children: %v\nall: %v", weighted, svcs)
	}
}

// checkAPIExtras: the dashboard, Sluice's route explanation and
// diagnostics, and the API through an IngressRoute to api@internal.
func checkAPIExtras(t *testing.T, api, web, broken string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("http://" + api + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "/dashboard/" {
		t.Errorf("GET /: %d %q, want Traefik's redirect to /dashboard/", resp.StatusCode, resp.Header.Get("Location"))
	}
	for path, want := range map[string]string{"/dashboard/": "Overview", "/dashboard/routers": "Host(`app.example`)",
		"/dashboard/services": "UP", "/dashboard/diagnostics": "middleware not found: e2e/missing"} {
		if st, h, body := getHeader(t, api, "x", path); st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, lacks %q:\n%.300s", path, st, want, body)
		}
	}
	var e map[string]any
	getJSON(t, api, "x", "/api/sluice/route?url=http://broken.example/", &e)
	if e["status"] != 404.0 || !strings.Contains(fmt.Sprint(e["disabledRouter"]), broken) {
		t.Errorf("route explanation: %v", e)
	}
	var diags []map[string]any
	getJSON(t, api, "x", "/api/sluice/diagnostics", &diags)
	if len(diags) == 0 || diags[0]["object"] != "IngressRoute e2e/broken" {
		t.Errorf("diagnostics: %v", diags)
	}
	var v map[string]string
	if st, _ := getJSON(t, web, "dash.example", "/api/version", &v); st != 200 || v["Codename"] != "sluice" {
		t.Errorf("api@internal through an IngressRoute: %d %v", st, v)
	}
	if st, _, body := getHeader(t, web, "dash.example", "/dashboard/routers"); st != 200 || !strings.Contains(body, "Routers") {
		t.Errorf("the dashboard through an IngressRoute: %d", st)
	}
}

// TestBinaryLiveCharts: /api/sluice/live gives each router's requests and
// summed duration from the metrics' router handles, which the dashboard's
// routers page charts (a cell per router); without router labels it says
// what to turn on.
func TestBinaryLiveCharts(t *testing.T) {
	port := namedBackend(t, "127.0.0.2", "app")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "r.yaml"), manifests("app", port, "127.0.0.2")+"---\n"+routeYAML("app", "app.example", "{name: app, port: 80}"))
	type live struct {
		UnixMillis int64 `json:"unixMillis"`
		Routers    []struct {
			Router        string `json:"router"`
			Requests      uint64 `json:"requests"`
			DurationNanos uint64 `json:"durationNanos"`
		} `json:"routers"`
		Note string `json:"note"`
	}
	for _, labels := range []bool{true, false} {
		api := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		p := startSluice(t, dir, "--api.insecure=true", "--entryPoints.traefik.address="+api, "--metrics.prometheus=true",
			fmt.Sprintf("--metrics.prometheus.addRoutersLabels=%v", labels))
		eventually(t, p.addr, "app.example", "/", 200, "app")
		for i := 0; i < 4; i++ {
			get(t, p.addr, "app.example", "/x")
		}
		var l live
		if st, h := getJSON(t, api, "x", "/api/sluice/live", &l); st != 200 || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET /api/sluice/live: %d %v", st, h)
		}
		if !labels {
			if len(l.Routers) != 0 || !strings.Contains(l.Note, "addRoutersLabels") {
				t.Errorf("without router labels: %+v", l)
			}
			continue
		}
		if len(l.Routers) != 1 || !strings.HasPrefix(l.Routers[0].Router, "e2e-app-") || l.Routers[0].Requests < 5 ||
			l.Routers[0].DurationNanos == 0 || l.Note != "" || time.Since(time.UnixMilli(l.UnixMillis)) > time.Minute {
			t.Errorf("live: %+v", l)
		}
		st, page := get(t, api, "x", "/dashboard/routers")
		if st != 200 || !strings.Contains(page, `<td class="live" data-router="`+l.Routers[0].Router+`">`) ||
			!strings.Contains(page, `fetch("../api/sluice/live"`) {
			t.Errorf("the routers page has no live cell for %s:\n%s", l.Routers[0].Router, page)
		}
	}
}
