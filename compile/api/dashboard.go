package api

import (
	"bytes"
	"html/template"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// Dashboard is the dashboard's pages (under /dashboard/, any base path
// before it): server-rendered from the State, readable without
// JavaScript.
func Dashboard(get func() *State) pipeline.Handler {
	return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
		path, _, _ := x.RequestPath()
		_, rest, _ := strings.Cut(string(path), "/dashboard")
		page, ok := pages[strings.TrimSuffix(rest, "/")]
		if !ok {
			x.Respond(fasthttp.StatusNotFound, pipeline.BodyNotFound)
			return
		}
		var b bytes.Buffer
		if err := dashboardTmpl.ExecuteTemplate(&b, page, get()); err != nil {
			x.Respond(fasthttp.StatusInternalServerError, []byte(err.Error()))
			return
		}
		x.Resp.SetStatusCode(fasthttp.StatusOK)
		x.Resp.Header.SetContentType("text/html; charset=utf-8")
		x.Resp.SetBody(b.Bytes())
	})
}

// pages maps a dashboard path to its template.
var pages = map[string]string{"": "overview", "/routers": "routers", "/services": "services",
	"/middlewares": "middlewares", "/entrypoints": "entrypoints", "/diagnostics": "diagnostics"}

// Routers, Services, ... are the State's lists for the templates.
func (s *State) Routers() []Router         { return s.routers }
func (s *State) Services() []Service       { return s.services }
func (s *State) Middlewares() []Middleware { return s.middlewares }
func (s *State) EntryPoints() []EntryPoint { return s.entryPoints }
func (s *State) Overview() Overview        { return s.overview }

// Diagnostics are every problem Sluice found, with object, field and
// reason.
func (s *State) Diagnostics() []model.Diagnostic { return s.diags }

// Problems are the routers, services and middlewares not enabled.
func (s *State) Problems() []Problem {
	var out []Problem
	for _, r := range s.routers {
		if r.Status != "enabled" {
			out = append(out, Problem{"router", r.Name, r.Status, r.Error})
		}
	}
	for _, m := range s.middlewares {
		if m.Status != "enabled" {
			out = append(out, Problem{"middleware", m.Name, m.Status, m.Error})
		}
	}
	return out
}

// Problem is one object that is not enabled, and why.
type Problem struct {
	Kind, Name, Status string
	Errors             []string
}

var dashboardTmpl = template.Must(template.New("dashboard").Parse(`
{{define "head"}}<!doctype html><html><head><meta charset="utf-8"><title>Sluice</title>
<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.enabled{color:#080}.warning{color:#b60}.disabled{color:#c00}nav a{margin-right:1em}</style></head><body>
<nav><a href="./">Overview</a><a href="routers">Routers</a><a href="services">Services</a><a href="middlewares">Middlewares</a><a href="entrypoints">Entry points</a><a href="diagnostics">Diagnostics</a></nav>{{end}}
{{define "foot"}}</body></html>{{end}}
{{define "overview"}}{{template "head"}}<h1>Overview</h1>{{with .Overview}}
<table><tr><th></th><th>total</th><th>warnings</th><th>errors</th></tr>
<tr><td>routers</td><td>{{.HTTP.Routers.Total}}</td><td>{{.HTTP.Routers.Warnings}}</td><td>{{.HTTP.Routers.Errors}}</td></tr>
<tr><td>services</td><td>{{.HTTP.Services.Total}}</td><td>{{.HTTP.Services.Warnings}}</td><td>{{.HTTP.Services.Errors}}</td></tr>
<tr><td>middlewares</td><td>{{.HTTP.Middlewares.Total}}</td><td>{{.HTTP.Middlewares.Warnings}}</td><td>{{.HTTP.Middlewares.Errors}}</td></tr></table>
<p>Metrics: {{or .Features.Metrics "off"}}. Access log: {{if .Features.AccessLog}}on{{else}}off{{end}}. Tracing: {{or .Features.Tracing "off"}}.</p>{{end}}{{template "foot"}}{{end}}
{{define "routers"}}{{template "head"}}<h1>Routers</h1><p id="livenote"></p><table><tr><th>status</th><th>name</th><th>rule</th><th>priority</th><th>entry points</th><th>middlewares</th><th>service</th><th>TLS</th><th>errors</th><th>live: <span style="color:#06c">req/s</span>, <span style="color:#d70">mean latency</span> (2 min)</th></tr>
{{range .Routers}}<tr><td class="{{.Status}}">{{.Status}}</td><td>{{.Name}}</td><td><code>{{.Rule}}</code></td><td>{{.PriorityStr}}</td><td>{{range .EntryPoints}}{{.}} {{end}}</td><td>{{range .Middlewares}}{{.}}<br>{{end}}</td><td>{{.Service}}</td><td>{{with .TLS}}{{.Options}}{{with .CertResolver}} ({{.}}){{end}}{{end}}</td><td>{{range .Error}}{{.}}<br>{{end}}</td><td class="live" data-router="{{.Name}}"><noscript>needs JavaScript</noscript></td></tr>
{{end}}</table>{{template "live"}}{{template "foot"}}{{end}}
{{define "live"}}<script>
// The live charts: /api/sluice/live read every 2 s; per router the request
// rate and the mean latency between two readings, the last 60 drawn.
(function () {
  var cells = {}, hist = {}, prev = null;
  document.querySelectorAll("td.live").forEach(function (td) { cells[td.dataset.router] = td; td.textContent = "..."; });
  function line(h, k, max, w, ht) {
    return h.map(function (p, i) { return (i * w / 59).toFixed(1) + "," + (ht - 1 - p[k] / max * (ht - 2)).toFixed(1); }).join(" ");
  }
  function draw(td, h) {
    var w = 120, ht = 28, last = h[h.length - 1];
    var maxR = Math.max.apply(null, h.map(function (p) { return p.r; }).concat([1e-9]));
    var maxL = Math.max.apply(null, h.map(function (p) { return p.l; }).concat([1e-9]));
    td.innerHTML = "<svg width=\"" + w + "\" height=\"" + ht + "\"><polyline fill=\"none\" stroke=\"#06c\" points=\"" + line(h, "r", maxR, w, ht) +
      "\"/><polyline fill=\"none\" stroke=\"#d70\" points=\"" + line(h, "l", maxL, w, ht) + "\"/></svg> " +
      last.r.toFixed(1) + " req/s, " + (last.l * 1000).toFixed(2) + " ms";
  }
  function tick() {
    fetch("../api/sluice/live", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (d) {
      document.getElementById("livenote").textContent = d.note || "";
      var now = {t: d.unixMillis, by: {}};
      (d.routers || []).forEach(function (x) { now.by[x.router] = x; });
      if (prev) {
        var dt = (now.t - prev.t) / 1000, zero = {requests: 0, durationNanos: 0};
        Object.keys(cells).forEach(function (name) {
          var a = now.by[name] || zero, b = prev.by[name] || zero, n = a.requests - b.requests;
          var p = {r: dt > 0 ? n / dt : 0, l: n > 0 ? (a.durationNanos - b.durationNanos) / n / 1e9 : 0};
          hist[name] = (hist[name] || []).concat([p]).slice(-60);
          draw(cells[name], hist[name]);
        });
      }
      prev = now;
    }).catch(function () {}).then(function () { setTimeout(tick, 2000); });
  }
  tick();
})();
</script>{{end}}
{{define "services"}}{{template "head"}}<h1>Services</h1><table><tr><th>status</th><th>name</th><th>type</th><th>servers</th><th>used by</th></tr>
{{range .Services}}<tr><td class="{{.Status}}">{{.Status}}</td><td>{{.Name}}</td><td>{{.Type}}</td><td>{{range $url, $st := .ServerStatus}}<span class="{{if eq $st "UP"}}enabled{{else}}disabled{{end}}">{{$st}}</span> {{$url}}<br>{{end}}{{with .Weighted}}{{range .Services}}{{.Name}} (weight {{.Weight}})<br>{{end}}{{end}}</td><td>{{range .UsedBy}}{{.}}<br>{{end}}</td></tr>
{{end}}</table>{{template "foot"}}{{end}}
{{define "middlewares"}}{{template "head"}}<h1>Middlewares</h1><table><tr><th>status</th><th>name</th><th>type</th><th>used by</th><th>errors</th></tr>
{{range .Middlewares}}<tr><td class="{{.Status}}">{{.Status}}</td><td>{{.Name}}</td><td>{{.Type}}</td><td>{{range .UsedBy}}{{.}}<br>{{end}}</td><td>{{range .Error}}{{.}}<br>{{end}}</td></tr>
{{end}}</table>{{template "foot"}}{{end}}
{{define "entrypoints"}}{{template "head"}}<h1>Entry points</h1><table><tr><th>name</th><th>address</th><th>TLS</th><th>middlewares</th></tr>
{{range .EntryPoints}}<tr><td>{{.Name}}</td><td>{{.Address}}</td><td>{{with .HTTP.TLS}}{{.Options}}{{end}}</td><td>{{range .HTTP.Middlewares}}{{.}}<br>{{end}}</td></tr>
{{end}}</table>{{template "foot"}}{{end}}
{{define "diagnostics"}}{{template "head"}}<h1>Diagnostics</h1>{{with .Problems}}<h2>Not enabled</h2><table><tr><th>kind</th><th>name</th><th>status</th><th>reason</th></tr>
{{range .}}<tr><td>{{.Kind}}</td><td>{{.Name}}</td><td class="{{.Status}}">{{.Status}}</td><td>{{range .Errors}}{{.}}<br>{{end}}</td></tr>
{{end}}</table>{{end}}{{with .Diagnostics}}<h2>Every diagnostic</h2><table><tr><th>severity</th><th>object</th><th>field</th><th>reason</th></tr>
{{range .}}<tr><td class="{{if eq .Severity "error"}}disabled{{else}}warning{{end}}">{{.Severity}}</td><td>{{.Object}}</td><td>{{.Field}}</td><td>{{.Message}}</td></tr>
{{end}}</table>{{else}}<p>No diagnostics.</p>{{end}}{{template "foot"}}{{end}}
`))
