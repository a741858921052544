package compile_test

import (
	"encoding/json"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/compile/model"
)

func dumpResult(r *compile.Result) string {
	var b strings.Builder
	b.WriteString(r.Table.Dump())
	for _, d := range r.Diags {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

func clone[T any](t *testing.T, v *T) *T {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIncrementalEqualsFresh: a Compiler fed a sequence of snapshots (the
// same objects reshuffled, an IngressRoute edited, an EndpointSlice grown,
// a Service and an IngressRoute deleted) gives at each step exactly the
// table and diagnostics of a fresh compile, and reuses what did not change.
func TestIncrementalEqualsFresh(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	opts := compile.Options{EntryPoints: []string{"web", "internal"}}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			snap := load(t, file)
			cc := compile.NewCompiler(opts)
			check := func(step string, s *model.Snapshot) *compile.Result {
				got := cc.Build(s)
				if want := compile.Build(s, opts); dumpResult(got) != dumpResult(want) {
					t.Fatalf("%s: incremental differs from fresh:\n%s\nwant:\n%s", step, dumpResult(got), dumpResult(want))
				}
				return got
			}
			first := check("first", snap)
			rnd := rand.New(rand.NewSource(1))
			s2 := *snap
			s2.IngressRoutes = append([]*model.IngressRoute(nil), snap.IngressRoutes...)
			shuffle(&s2, rnd)
			second := check("reshuffled", &s2)
			if len(first.Table.Routes) > 0 {
				a, b := first.Table.Routes[0], second.Table.Routes[0]
				if a == b {
					t.Fatal("a published route was handed to the next table (Build writes into it)")
				}
				if a.Name == b.Name && a.Target != nil && a.Target != b.Target {
					t.Error("an unchanged IngressRoute was compiled again")
				}
			}
			if len(snap.IngressRoutes) > 0 {
				s3 := s2
				s3.IngressRoutes = append([]*model.IngressRoute(nil), s2.IngressRoutes...)
				ir := clone(t, s3.IngressRoutes[0])
				ir.File = s3.IngressRoutes[0].File
				if len(ir.Spec.Routes) > 0 {
					ir.Spec.Routes[0].Match += " && Method(`GET`)"
				}
				s3.IngressRoutes[0] = ir
				check("edited ingressroute", &s3)
				s3.IngressRoutes = s3.IngressRoutes[1:]
				check("deleted ingressroute", &s3)
			}
			if len(snap.EndpointSlices) > 0 {
				s4 := s2
				s4.EndpointSlices = append([]*model.EndpointSlice(nil), s2.EndpointSlices...)
				es := clone(t, s4.EndpointSlices[0])
				es.Endpoints = append(es.Endpoints, model.Endpoint{Addresses: []string{"10.99.0.1"}})
				s4.EndpointSlices[0] = es
				check("grown endpointslice", &s4)
			}
			if len(snap.TraefikServices) > 0 {
				s6 := s2
				s6.TraefikServices = append([]*model.TraefikService(nil), s2.TraefikServices...)
				ts := clone(t, s6.TraefikServices[0])
				ts.Spec = model.TraefikServiceSpec{} // now invalid: its routes must go
				s6.TraefikServices[0] = ts
				check("back to the base", &s2)
				check("emptied traefikservice", &s6)
			}
			if len(snap.Nodes) > 1 {
				s7 := s2
				s7.Nodes = s2.Nodes[1:]
				check("back to the base", &s2)
				check("node removed", &s7)
			}
			if len(snap.Services) > 0 {
				s5 := s2
				s5.Services = s2.Services[1:]
				check("deleted service", &s5)
			}
		})
	}
}
