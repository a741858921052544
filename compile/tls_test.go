package compile_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/watch"
)

func decode(t *testing.T, yaml string) *model.Snapshot {
	t.Helper()
	snap := &model.Snapshot{}
	for _, d := range watch.Decode("in.yaml", []byte(yaml), snap) {
		if d.Severity == model.Error {
			t.Fatalf("decode: %v", d)
		}
	}
	return snap
}

const tlsApp = `apiVersion: v1
kind: Service
metadata: {name: app, namespace: apps}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: app-1, namespace: apps, labels: {kubernetes.io/service-name: app}}
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [10.1.0.1]}]
---
`

// TestEntryPointTLS: a router on an entry point with http.tls is a TLS
// router there, with the entry point's option; on several entry points it
// is copied per TLS entry point ("<entrypoint>-<name>"), as Traefik's
// models copy it, and stays plain on the others.
func TestEntryPointTLS(t *testing.T) {
	snap := decode(t, tlsApp+`apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata: {name: modern, namespace: apps}
spec: {minVersion: VersionTLS13}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: both, namespace: apps}
spec:
  entryPoints: [web, websecure]
  routes: [{match: Host(`+"`a.example`"+`), services: [{name: app, port: 80}]}]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: secure-only, namespace: apps}
spec:
  entryPoints: [websecure]
  routes: [{match: Host(`+"`b.example`"+`), services: [{name: app, port: 80}]}]
`)
	tbl, diags := compile.Compile(snap, compile.Options{EntryPoints: []string{"web", "websecure"},
		EntryPointTLS: map[string]compile.EntryPointTLS{"websecure": {Options: "apps-modern"}}})
	for _, d := range diags {
		if d.Severity == model.Error {
			t.Errorf("diagnostic: %v", d)
		}
	}
	got := map[string]string{}
	for _, r := range tbl.Routes {
		opt := "plain"
		if r.TLS != nil {
			opt = r.TLS.Option
		}
		got[strings.Split(r.Name, "-")[0]+" "+strings.Join(r.EntryPoints, ",")] = opt
	}
	want := map[string]string{"apps web": "plain", "websecure websecure": "apps-modern@kubernetescrd", "apps websecure": "apps-modern@kubernetescrd"}
	if len(got) != len(want) {
		t.Fatalf("routes %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if ix := tbl.TLSIndex(1); ix == nil {
		t.Fatal("no TLS index for websecure")
	}
	if o := tbl.TLS.EntryPoints[1].For("a.example"); o == nil || o.Name != "apps-modern@kubernetescrd" {
		t.Fatalf("SNI a.example on websecure: option %v", o)
	}
}

// TestEntryPointModels: entry points with http.middlewares, observability
// options or --core.defaultRuleSyntax have a Traefik model too: a router
// on several entry points is named "<entrypoint>-<name>" on each entry
// point with a model and keeps its name on the others; a router on one
// entry point keeps its name; no TLS comes with such a model.
func TestEntryPointModels(t *testing.T) {
	snap := decode(t, tlsApp+`apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: both, namespace: apps}
spec:
  entryPoints: [web, epmw, internal]
  routes: [{match: Host(`+"`a.example`"+`), services: [{name: app, port: 80}]}]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: one, namespace: apps}
spec:
  entryPoints: [epmw]
  routes: [{match: Host(`+"`b.example`"+`), services: [{name: app, port: 80}]}]
`)
	tbl, _ := compile.Compile(snap, compile.Options{EntryPoints: []string{"web", "epmw", "internal"},
		EntryPointModels: map[string]bool{"epmw": true, "internal": true}})
	hash := regexp.MustCompile(`-[0-9a-f]{20}@`)
	var got []string
	for _, r := range tbl.Routes {
		if r.TLS != nil {
			t.Errorf("%s is a TLS router", r.Name)
		}
		got = append(got, hash.ReplaceAllString(r.Name, "@")+" on "+strings.Join(r.EntryPoints, ","))
	}
	slices.Sort(got)
	want := []string{"apps-both@kubernetescrd on web", "apps-one@kubernetescrd on epmw",
		"epmw-apps-both@kubernetescrd on epmw", "internal-apps-both@kubernetescrd on internal"}
	if !slices.Equal(got, want) {
		t.Errorf("routers %q, want %q", got, want)
	}
}
