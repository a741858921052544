package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/watch"
)

// TestSluiceRoutesServeTheHit: the generated manifests compile without a
// diagnostic, and the host and path the harness sends reach the middle
// route with both backends behind it, so the benchmark measures a routed
// request and not a 404.
func TestSluiceRoutesServeTheHit(t *testing.T) {
	for _, kind := range []string{"hosts", "prefix", "mix", "mw", "compress"} {
		dir := t.TempDir()
		g := gen{kind: kind, n: 101, dir: dir}
		if err := os.MkdirAll(filepath.Join(dir, "sluice"), 0o755); err != nil {
			t.Fatal(err)
		}
		g.write("sluice/routes.yaml", g.sluice)
		snap, diags, err := (&watch.Manifests{Dir: filepath.Join(dir, "sluice")}).Load()
		if err != nil || len(diags) != 0 {
			t.Fatalf("%s: load: %v %v", kind, err, diags)
		}
		tab, cdiags := compile.Compile(snap, compile.Options{EntryPoints: []string{"web"}})
		if len(cdiags) != 0 || len(tab.Routes) != 101*len(g.rules(0)) {
			t.Fatalf("%s: %d routes, diagnostics %v", kind, len(tab.Routes), cdiags)
		}
		host, path := g.route(50)
		var hdr fasthttp.RequestHeader
		hdr.Set("X-Tenant", "gold") // the mix hit's header; ignored by the other kinds' rules
		r := tab.Index(0).Lookup(&match.Request{Host: []byte(host), Path: []byte(path), Method: []byte("GET"), Headers: &hdr})
		if want := g.rules(50)[0]; r == nil || r.Rule != want {
			t.Fatalf("%s: %s%s routed to %v; want the router of %s", kind, host, path, r, want)
		}
		if n := len(r.LoadBalancer().Servers().Servers); n != 2 {
			t.Fatalf("%s: %d servers behind the hit; want 2 (9001 and 9002)", kind, n)
		}
	}
}
