package compile

import (
	"strings"
	"testing"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/watch"
)

// TestWatchedNamespaces: with providers.kubernetesCRD.namespaces set, a
// service outside them is an error, not "not found" (crd.md section 1),
// even with allowCrossNamespace.
func TestWatchedNamespaces(t *testing.T) {
	y := `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: a}
spec:
  routes:
  - match: Host(` + "`a.example`" + `)
    services: [{name: svc, namespace: b, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: b}
spec: {type: ExternalName, externalName: b.internal, ports: [{port: 80}]}
`
	snap := &model.Snapshot{}
	if d := watch.Decode("t.yaml", []byte(y), snap); len(d) > 0 {
		t.Fatal(d)
	}
	for _, tc := range []struct {
		namespaces []string
		routes     int
		diag       string
	}{
		{nil, 1, ""},
		{[]string{"a", "b"}, 1, ""},
		{[]string{"a"}, 0, `spec.routes[0].services[0].namespace: namespace "b" is not within the watched namespaces`},
	} {
		tab, diags := Compile(snap, Options{EntryPoints: []string{"web"}, AllowCrossNamespace: true, AllowExternalNameServices: true, Namespaces: tc.namespaces})
		var all []string
		for _, d := range diags {
			all = append(all, d.Field+": "+d.Message)
		}
		if len(tab.Routes) != tc.routes || tc.diag != "" && !strings.Contains(strings.Join(all, "\n"), tc.diag) {
			t.Errorf("namespaces %v: %d routes, diagnostics %q", tc.namespaces, len(tab.Routes), all)
		}
	}
}
