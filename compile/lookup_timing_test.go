package compile_test

import (
	"fmt"
	"math/rand"
	"net/netip"
	"runtime"
	"sort"
	"testing"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/compile/rule"
	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/route"
)

// mixedRule returns rule i over nHosts hosts with mixed shapes: Host,
// Host+PathPrefix, Host+Path+Method, Host+Header, and a few regexps.
func mixedRule(i, nHosts int) string {
	h := fmt.Sprintf("h%d.example.com", i%nHosts)
	switch i % 10 {
	case 0:
		return fmt.Sprintf("Host(`%s`)", h)
	case 1, 2, 3:
		return fmt.Sprintf("Host(`%s`) && PathPrefix(`/p%d`)", h, i)
	case 4, 5:
		return fmt.Sprintf("Host(`%s`) && Path(`/p%d/item`) && Method(`GET`)", h, i)
	case 6, 7:
		return fmt.Sprintf("Host(`%s`) && PathPrefix(`/h%d`) && Header(`X-Tenant`, `t%d`)", h, i, i%7)
	case 8:
		return fmt.Sprintf("Host(`%s`) && PathRegexp(`^/r%d/[0-9]+$`)", h, i)
	}
	return fmt.Sprintf("(Host(`%s`) || Host(`alt%d.example.com`)) && PathPrefix(`/o%d`)", h, i, i)
}

// mixedRuleV2 is mixedRule's rule i in Traefik v2's syntax, for the odd
// i (even ones stay v3): the same requests match it ("v2:" marks it).
func mixedRuleV2(i, nHosts int) string {
	if i%2 == 0 {
		return mixedRule(i, nHosts)
	}
	h := fmt.Sprintf("h%d.example.com", i%nHosts)
	switch i % 10 {
	case 1, 3:
		return fmt.Sprintf("v2:Host(`%s`) && PathPrefix(`/p%d`)", h, i)
	case 5:
		return fmt.Sprintf("v2:HostHeader(`%s`) && Path(`/p%d/{name:item}`) && Method(`GET`, `HEAD`)", h, i)
	case 7:
		return fmt.Sprintf("v2:Host(`%s`) && PathPrefix(`/h%d`) && Headers(`X-Tenant`, `t%d`)", h, i, i%7)
	}
	return fmt.Sprintf("v2:Host(`%s`, `alt%d.example.com`) && PathPrefix(`/o%d`)", h, i, i)
}

type benchTable struct {
	ix     *route.Index
	naive  []*route.Route
	trees  map[*route.Route]*rule.Node
	reqs   []*match.Request
	hitMid *match.Request
}

func buildBench(b *testing.B, n, nHosts int) *benchTable {
	return buildBenchOf(b, n, nHosts, mixedRule)
}

func buildBenchOf(b *testing.B, n, nHosts int, gen func(i, nHosts int) string) *benchTable {
	bt := &benchTable{trees: map[*route.Route]*rule.Node{}}
	bl := route.NewBuilder([]string{"web"})
	for i := 0; i < n; i++ {
		tree, src, err := parseAny(gen(i, nHosts))
		if err != nil {
			b.Fatal(err)
		}
		r := &route.Route{Name: fmt.Sprintf("r%06d", i), Rule: src, Priority: int64(len(src)), EntryPoints: []string{"web"}}
		bl.Add(r, compile.Entries(tree))
		bt.naive = append(bt.naive, r)
		bt.trees[r] = tree
	}
	bt.ix = bl.Build().Index(0)
	sort.Slice(bt.naive, func(i, j int) bool { return route.Less(bt.naive[i], bt.naive[j]) })
	rnd := rand.New(rand.NewSource(1))
	hdr := headers{"X-Tenant": [][]byte{[]byte("t3")}}
	for k := 0; k < 1024; k++ {
		i := rnd.Intn(n)
		bt.reqs = append(bt.reqs, &match.Request{
			Host: []byte(fmt.Sprintf("h%d.example.com", i%nHosts)), Path: []byte(fmt.Sprintf("/p%d/item", i)),
			Method: []byte("GET"), ClientIP: netip.MustParseAddr("10.0.0.1"), Headers: hdr,
		})
	}
	mid := n / 2
	bt.hitMid = &match.Request{Host: []byte(fmt.Sprintf("h%d.example.com", mid%nHosts)), Path: []byte(fmt.Sprintf("/p%d/x", mid-mid%10+1)),
		Method: []byte("GET"), Headers: hdr}
	return bt
}

// BenchmarkLookup: the indexed table against the naive linear matcher,
// at 1k/10k/100k routes over 10 and 1,000 hosts, hits spread over all.
func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		for _, hosts := range []int{10, 1000} {
			bt := buildBench(b, n, hosts)
			b.Run(fmt.Sprintf("table/routes=%d/hosts=%d", n, hosts), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					bt.ix.Lookup(bt.reqs[i&1023])
				}
			})
			if n > 10000 {
				continue // the naive scan at 100k is minutes of benchmark time
			}
			b.Run(fmt.Sprintf("naive/routes=%d/hosts=%d", n, hosts), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					req := bt.reqs[i&1023]
					for _, r := range bt.naive {
						if eval(bt.trees[r], req) {
							break
						}
					}
				}
			})
		}
	}
}

// BenchmarkLookupV2: BenchmarkLookup's table with half of the routes in
// v2 syntax (issue 26): v2 rules are indexed as v3 ones, so the lookup
// stays flat from 10k to 100k routes.
func BenchmarkLookupV2(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		for _, hosts := range []int{10, 1000} {
			bt := buildBenchOf(b, n, hosts, mixedRuleV2)
			b.Run(fmt.Sprintf("table/routes=%d/hosts=%d", n, hosts), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					bt.ix.Lookup(bt.reqs[i&1023])
				}
			})
		}
	}
}

// TestLookupZeroAlloc proves the lookup allocates nothing at 10k routes,
// v3 rules only and with v2 ones mixed in.
func TestLookupZeroAlloc(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	for _, gen := range []func(i, nHosts int) string{mixedRule, mixedRuleV2} {
		bt := buildBenchOf(&testing.B{}, 10000, 1000, gen)
		i := 0
		if n := testing.AllocsPerRun(1000, func() { bt.ix.Lookup(bt.reqs[i&1023]); i++ }); n != 0 {
			t.Fatalf("unexpected allocations per lookup; got %v; want 0", n)
		}
	}
}

func irSnapshot(n int) *model.Snapshot {
	snap := &model.Snapshot{}
	snap.Services = append(snap.Services, &model.Service{Meta: model.Meta{Name: "app", Namespace: "bench"},
		Spec: model.ServiceSpec{Ports: []model.ServicePort{{Name: "http", Port: 80}}}})
	name, port := "http", int32(8080)
	snap.EndpointSlices = append(snap.EndpointSlices, &model.EndpointSlice{
		Meta:      model.Meta{Name: "app", Namespace: "bench", Labels: map[string]string{"kubernetes.io/service-name": "app"}},
		Endpoints: []model.Endpoint{{Addresses: []string{"10.0.0.1"}}, {Addresses: []string{"10.0.0.2"}}},
		Ports:     []model.EndpointPort{{Name: &name, Port: &port}},
	})
	for i := 0; i < n; i++ {
		snap.IngressRoutes = append(snap.IngressRoutes, &model.IngressRoute{
			Meta: model.Meta{Name: fmt.Sprintf("ir%d", i), Namespace: "bench"},
			Spec: model.IngressRouteSpec{Routes: []model.Route{{Match: mixedRule(i, 1000),
				Services: []model.LoadBalancerSpec{{Name: "app", Port: model.IntOrString{Int: 80}}}}}},
		})
	}
	return snap
}

// BenchmarkCompile: compile time of N IngressRoutes (one route each).
func BenchmarkCompile(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		snap := irSnapshot(n)
		b.Run(fmt.Sprintf("irs=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var t *route.Table
			for i := 0; i < b.N; i++ {
				t, _ = compile.Compile(snap, compile.Options{EntryPoints: []string{"web"}})
			}
			b.StopTimer()
			b.ReportMetric(float64(tableBytes(snap))/(1<<20), "table-MiB")
			_ = t
		})
	}
}

// tableBytes is the live heap a compiled table holds.
func tableBytes(snap *model.Snapshot) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t, _ := compile.Compile(snap, compile.Options{EntryPoints: []string{"web"}})
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(t)
	return after.HeapAlloc - before.HeapAlloc
}

// BenchmarkRecompileOneChanged is the Kubernetes provider's case: one
// IngressRoute of n changed since the previous Build of the same Compiler.
func BenchmarkRecompileOneChanged(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		snap := irSnapshot(n)
		b.Run(fmt.Sprintf("irs=%d", n), func(b *testing.B) {
			cc := compile.NewCompiler(compile.Options{EntryPoints: []string{"web"}})
			cc.Build(snap)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % n
				ir := *snap.IngressRoutes[k]
				snap.IngressRoutes[k] = &ir // a new object, as an update brings
				cc.Build(snap)
			}
		})
	}
}

// hostsSnapshot is bench/'s hosts:n set: n IngressRoutes, each
// Host(`rNNNNNN.bench.local`) && PathPrefix(`/`) to one two-endpoint
// Service, so that each route has its own service, server set and balancer.
func hostsSnapshot(n int) *model.Snapshot {
	snap := irSnapshot(0)
	for i := 0; i < n; i++ {
		snap.IngressRoutes = append(snap.IngressRoutes, &model.IngressRoute{
			Meta: model.Meta{Name: fmt.Sprintf("r%06d", i), Namespace: "bench"},
			Spec: model.IngressRouteSpec{Routes: []model.Route{{Match: fmt.Sprintf("Host(`r%06d.bench.local`) && PathPrefix(`/`)", i),
				Services: []model.LoadBalancerSpec{{Name: "app", Port: model.IntOrString{Int: 80}}}}}},
		})
	}
	return snap
}

// BenchmarkRouteSpread: what a request does with the table (host lookup,
// trie, rule, service and server choice) at n hosts, for one host asked
// again and again ("one") and for requests spread over all n ("spread",
// each host's route, service and balancer out of cache as in bench/'s
// h100k-spread). The flat-with-scale target is about the difference.
func BenchmarkRouteSpread(b *testing.B) {
	for _, n := range []int{1, 1000, 100000} {
		t, _ := compile.Compile(hostsSnapshot(n), compile.Options{EntryPoints: []string{"web"}})
		ix := t.Index(0)
		for _, mode := range []string{"one", "spread"} {
			b.Run(fmt.Sprintf("hosts=%d/%s", n, mode), func(b *testing.B) {
				req := &match.Request{Host: []byte("r000000.bench.local"), Path: []byte("/"), Method: []byte("GET")}
				k := n / 2
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if mode == "spread" {
						k = (k + 7919) % n
					}
					putHostNumber(req.Host[1:7], k)
					lb := ix.Find(req).Direct()
					if srv := lb.PickFor(req.ClientIP); srv == nil || srv.Endpoint == nil || !lb.PassHostHeader {
						b.Fatal("no server chosen")
					}
				}
			})
		}
	}
}

// putHostNumber writes k as six decimal digits into d.
func putHostNumber(d []byte, k int) {
	for j := 5; j >= 0; j-- {
		d[j] = byte('0' + k%10)
		k /= 10
	}
}
