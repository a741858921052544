package compile

import (
	"strings"
	"testing"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/watch"
)

func endpointsSnap(t *testing.T, ips ...string) *model.Snapshot {
	t.Helper()
	y := `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: ns}
spec:
  routes:
  - match: Host(` + "`a.example`" + `)
    services: [{name: svc, port: 80}]
---
` + serviceYAML(ips...)
	snap := &model.Snapshot{}
	if d := watch.Decode("t.yaml", []byte(y), snap); len(d) > 0 {
		t.Fatal(d)
	}
	return snap
}

// serviceYAML is Service ns/svc (port http 80) with one EndpointSlice
// (port 8080) holding ips.
func serviceYAML(ips ...string) string {
	y := `apiVersion: v1
kind: Service
metadata: {name: svc, namespace: ns}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: svc-1, namespace: ns, labels: {kubernetes.io/service-name: svc}}
ports: [{name: http, port: 8080}]
endpoints:
`
	for _, ip := range ips {
		y += "- addresses: [" + ip + "]\n"
	}
	if len(ips) == 0 {
		y = strings.TrimSuffix(y, "endpoints:\n") + "endpoints: []\n"
	}
	return y
}

func serverURLs(r *Result) string {
	var out []string
	for _, s := range r.Table.Routes[0].LoadBalancer().Servers().Servers {
		out = append(out, s.URL)
	}
	return strings.Join(out, ",")
}

// TestEndpointsUpdateInPlace: an EndpointSlice change swaps the server set
// of the compiled route service without a new table; a change that makes
// the route appear or disappear asks for a recompile instead.
func TestEndpointsUpdateInPlace(t *testing.T) {
	for _, allowEmpty := range []bool{false, true} {
		r := Build(endpointsSnap(t, "10.0.0.1"), Options{EntryPoints: []string{"web"}, AllowEmptyServices: allowEmpty})
		if got := serverURLs(r); got != "http://10.0.0.1:8080" {
			t.Fatalf("compiled servers %s", got)
		}
		if !r.Endpoints.Update(endpointsSnap(t, "10.0.0.2", "10.0.0.3"), []string{"ns/svc"}) {
			t.Fatal("non-empty to non-empty needed a recompile")
		}
		if got := serverURLs(r); got != "http://10.0.0.2:8080,http://10.0.0.3:8080" {
			t.Fatalf("after update: %s", got)
		}
		if !r.Endpoints.Update(endpointsSnap(t, "10.0.0.9"), []string{"ns/other"}) {
			t.Fatal("an unreferenced service needed a recompile")
		}
		if got := serverURLs(r); got != "http://10.0.0.2:8080,http://10.0.0.3:8080" {
			t.Fatalf("an unreferenced service changed the servers: %s", got)
		}
		inPlace := r.Endpoints.Update(endpointsSnap(t), []string{"ns/svc"})
		if inPlace != allowEmpty {
			t.Fatalf("allowEmptyServices=%t: emptying updated in place=%t (route must disappear, Traefik 404)", allowEmpty, inPlace)
		}
	}
	// A route left out for having no servers comes back only by recompiling.
	r := Build(endpointsSnap(t), Options{EntryPoints: []string{"web"}})
	if len(r.Table.Routes) != 0 {
		t.Fatal("route without servers compiled")
	}
	if r.Endpoints.Update(endpointsSnap(t, "10.0.0.1"), []string{"ns/svc"}) {
		t.Fatal("a dropped route's service was updated in place")
	}
}

// TestServerListsShared: route services built from one Service port share
// one server list, in a compile and after an endpoint update, while a
// sticky or passive-checked service gets its own copy to write into and
// the shared list stays as it was.
func TestServerListsShared(t *testing.T) {
	y := serviceYAML("10.0.0.1", "10.0.0.2")
	for i, extra := range []string{"", "", "sticky: {cookie: {}}", "passiveHealthCheck: {failureWindow: 10s}"} {
		y += `---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r` + string(rune('0'+i)) + `, namespace: ns}
spec:
  routes:
  - match: Host(` + "`r" + string(rune('0'+i)) + ".example`" + `)
    services: [{name: svc, port: 80, ` + extra + `}]
`
	}
	snap := &model.Snapshot{}
	if d := watch.Decode("t.yaml", []byte(y), snap); len(d) > 0 {
		t.Fatal(d)
	}
	r := Build(snap, Options{EntryPoints: []string{"web"}})
	if len(r.Table.Routes) != 4 {
		t.Fatalf("%d routes; want 4 (%v)", len(r.Table.Routes), r.Diags)
	}
	list := func(i int) []service.Server {
		for _, rt := range r.Table.Routes {
			if strings.HasPrefix(rt.Name, "ns-r"+string(rune('0'+i))+"-") {
				return rt.LoadBalancer().Servers().Servers
			}
		}
		t.Fatalf("no route for r%d", i)
		return nil
	}
	check := func(when string, n int) {
		plain, plain2, sticky, passive := list(0), list(1), list(2), list(3)
		if len(plain) != n || len(sticky) != n || len(passive) != n || &plain[0] != &plain2[0] {
			t.Errorf("%s: two plain services do not share one list of %d servers", when, n)
		}
		if &sticky[0] == &plain[0] || &passive[0] == &plain[0] {
			t.Errorf("%s: a sticky or passive service writes into the shared list", when)
		}
		if sticky[0].URL != plain[0].URL || passive[0].Passive == nil {
			t.Errorf("%s: copies differ from the shared list: %q, passive %v", when, sticky[0].URL, passive[0].Passive)
		}
		if plain[0].Passive != nil || plain[0].Endpoint != sticky[0].Endpoint {
			t.Errorf("%s: the shared list was written", when)
		}
	}
	check("compiled", 2)
	for _, s := range snap.EndpointSlices {
		s.Endpoints = s.Endpoints[:1]
	}
	if !r.Endpoints.Update(snap, []string{"ns/svc"}) {
		t.Fatal("endpoint update asked for a recompile")
	}
	check("updated", 1)
}
