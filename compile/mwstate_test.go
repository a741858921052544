package compile

import (
	"fmt"
	"testing"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/watch"
)

// statefulSnap: two IngressRoutes whose routers use one rateLimit, one of
// them also an inFlightReq, with the rateLimit's average given.
func statefulSnap(t *testing.T, average int) *model.Snapshot {
	t.Helper()
	y := fmt.Sprintf(`apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: rl, namespace: ns}
spec: {rateLimit: {average: %d}}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: fl, namespace: ns}
spec: {inFlightReq: {amount: 3}}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: a, namespace: ns}
spec:
  routes:
  - match: Host(`+"`a.example`"+`)
    middlewares: [{name: rl}, {name: fl}]
    services: [{name: svc, port: 80}]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: b, namespace: ns}
spec:
  routes:
  - match: Host(`+"`b.example`"+`)
    middlewares: [{name: rl}]
    services: [{name: svc, port: 80}]
---
`, average) + serviceYAML("10.0.0.1")
	snap := &model.Snapshot{}
	if d := watch.Decode("t.yaml", []byte(y), snap); len(d) > 0 {
		t.Fatal(d)
	}
	return snap
}

// TestStatefulMiddlewareStates: each router has its own state of a
// stateful middleware (as Traefik builds a handler per router); a Build
// that keeps the Middleware object keeps the state, also for the routes
// of an IngressRoute reused as they were; a changed Middleware gets a new
// one, and across thousands of reloads the states do not pile up.
func TestStatefulMiddlewareStates(t *testing.T) {
	cc := NewCompiler(Options{EntryPoints: []string{"web"}})
	snap := statefulSnap(t, 10)
	cc.Build(snap)
	if n := len(cc.states); n != 3 {
		t.Fatalf("%d states, want 3 (rl on two routers, fl on one)", n)
	}
	first := map[stateKey]any{}
	for k, v := range cc.states {
		first[k] = v
	}
	// The same objects, and one IngressRoute replaced by an equal copy
	// (compiled again; the other reused).
	s2 := *snap
	s2.IngressRoutes = append([]*model.IngressRoute(nil), snap.IngressRoutes...)
	cp := *s2.IngressRoutes[0]
	s2.IngressRoutes[0] = &cp
	cc.Build(&s2)
	if len(cc.states) != 3 {
		t.Fatalf("%d states after a rebuild", len(cc.states))
	}
	for k, v := range first {
		if cc.states[k] != v {
			t.Fatalf("state %v replaced although its Middleware is unchanged", k.scope)
		}
	}
	// A changed rateLimit: new states for it, the inFlightReq's kept.
	for i := 0; i < 2000; i++ {
		s3 := *snap
		s3.Middlewares = append([]*model.Middleware(nil), snap.Middlewares...)
		changed := statefulSnap(t, 10+i%2)
		for j, m := range s3.Middlewares {
			if m.Meta.Name == "rl" {
				s3.Middlewares[j] = changed.Middlewares[j]
			}
		}
		cc.Build(&s3)
		if len(cc.states) != 3 {
			t.Fatalf("reload %d: %d states, want 3", i, len(cc.states))
		}
	}
	for k, v := range cc.states {
		if k.mw.Meta.Name == "rl" && first[k] == v {
			t.Fatal("a changed Middleware kept its old state")
		}
		if k.mw.Meta.Name == "fl" && first[k] != v {
			t.Fatal("the unchanged inFlightReq lost its state")
		}
	}
}
