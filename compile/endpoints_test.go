package compile

import (
	"strings"
	"testing"

	"github.com/sluiceproxy/sluice/compile/model"
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
apiVersion: v1
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
	snap := &model.Snapshot{}
	if d := watch.Decode("t.yaml", []byte(y), snap); len(d) > 0 {
		t.Fatal(d)
	}
	return snap
}

func serverURLs(r *Result) string {
	var out []string
	for _, s := range r.Table.Routes[0].Targets[0].Service.Servers().Servers {
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
