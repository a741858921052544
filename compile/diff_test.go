package compile_test

import (
	"fmt"
	"math/rand"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/compile/rule"
	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
)

// headers is a test Headers with canonical keys.
type headers map[string][][]byte

func (h headers) PeekAll(k string) [][]byte { return h[k] }

var (
	hosts    = []string{"a.example", "b.example", "x.a.example", "a.example.", "localhost", "", "y.b.example", "a.example..", "example"}
	ruleHost = []string{"a.example", "b.example", "*.a.example", "a.example.", "*.example", "*", "localhost", "*.b.example", "example", "a.example.."}
	paths    = []string{"/", "/a", "/a/b", "/ab", "/b", "/a/", "/abc/d", "/b/a"}
	reqPaths = append([]string{"*", ""}, paths...) // also a path a PathPrefix(`/`) does not hold for
	leaves   = []func(r *rand.Rand) string{
		func(r *rand.Rand) string { return fmt.Sprintf("Host(`%s`)", pick(r, ruleHost)) },
		func(r *rand.Rand) string {
			return "HostRegexp(`" + pick(r, []string{`^a\.`, `example$`, `b`, `.*`}) + "`)"
		},
		func(r *rand.Rand) string { return fmt.Sprintf("Path(`%s`)", pick(r, paths)) },
		func(r *rand.Rand) string { return fmt.Sprintf("PathPrefix(`%s`)", pick(r, paths)) },
		func(r *rand.Rand) string {
			return "PathRegexp(`" + pick(r, []string{`^/a`, `b$`, `^/a/b$`, `[0-9]`, `^/a/[a-z]+$`, `^/ab?`, `^/b(/|$)`}) + "`)"
		},
		func(r *rand.Rand) string { return "Method(`" + pick(r, []string{"GET", "post"}) + "`)" },
		func(r *rand.Rand) string { return "Header(`X-A`, `" + pick(r, []string{"1", "2"}) + "`)" },
		func(r *rand.Rand) string { return "HeaderRegexp(`x-a`, `^1`)" },
		func(r *rand.Rand) string { return "Query(`k`" + pick(r, []string{"", ", `v`", ", `w x`"}) + ")" },
		func(r *rand.Rand) string { return "QueryRegexp(`k`, `^v`)" },
		func(r *rand.Rand) string {
			return "ClientIP(`" + pick(r, []string{"10.0.0.0/8", "::1", "10.1.2.3"}) + "`)"
		},
	}
)

// leavesV2 are v2 matchers (rules marked "v2:" are read with ParseV2).
var leavesV2 = []func(r *rand.Rand) string{
	func(r *rand.Rand) string {
		return fmt.Sprintf("Host(`%s`, `%s`)", pick(r, ruleHost), pick(r, ruleHost))
	},
	func(r *rand.Rand) string { return fmt.Sprintf("HostHeader(`%s`)", pick(r, ruleHost)) },
	func(r *rand.Rand) string {
		return "HostRegexp(`" + pick(r, []string{"{s:[a-z]}.example", "a.example", "{x}.{y}", "{s:[a-z]+}.a.example"}) + "`)"
	},
	func(r *rand.Rand) string {
		return "Path(`" + pick(r, []string{"/a", "/a/{x}", "/{x:[a-z]+}"}) + "`, `" + pick(r, paths) + "`)"
	},
	func(r *rand.Rand) string { return "PathPrefix(`" + pick(r, []string{"/a", "/{x}/", "/a/{y:b}"}) + "`)" },
	func(r *rand.Rand) string { return "Method(`get`, `" + pick(r, []string{"POST", "put"}) + "`)" },
	func(r *rand.Rand) string { return "Headers(`x-a`, `" + pick(r, []string{"1", "2"}) + "`)" },
	func(r *rand.Rand) string { return "HeadersRegexp(`X-A`, `^1`)" },
	func(r *rand.Rand) string {
		return "Query(`" + pick(r, []string{"k=", "k=v", "k={n:[0-9]}", "a=b"}) + "`)"
	},
	func(r *rand.Rand) string { return "ClientIP(`10.0.0.0/8`, `::1`)" },
}

// randRuleV2 is randRule with v2 leaves, marked for ParseV2.
func randRuleV2(r *rand.Rand) string { return "v2:" + randRuleOf(r, 3, leavesV2) }

// parseAny reads a generated rule: "v2:" marks Traefik v2's syntax.
func parseAny(src string) (*rule.Node, string, error) {
	if s, ok := strings.CutPrefix(src, "v2:"); ok {
		n, err := rule.ParseV2(s)
		return n, s, err
	}
	n, err := rule.Parse(src)
	return n, src, err
}

func pick(r *rand.Rand, s []string) string { return s[r.Intn(len(s))] }

func randRule(r *rand.Rand, depth int) string { return randRuleOf(r, depth, leaves) }

// randRuleOf joins leaves of ls with !, || and && up to depth.
func randRuleOf(r *rand.Rand, depth int, ls []func(*rand.Rand) string) string {
	if depth == 0 || r.Intn(3) == 0 {
		return ls[r.Intn(len(ls))](r)
	}
	switch r.Intn(4) {
	case 0:
		return "!" + randRuleOf(r, depth-1, ls)
	case 1:
		return "(" + randRuleOf(r, depth-1, ls) + " || " + randRuleOf(r, depth-1, ls) + ")"
	}
	return randRuleOf(r, depth-1, ls) + " && " + randRuleOf(r, depth-1, ls)
}

func randRequest(r *rand.Rand) *match.Request {
	h := headers{}
	if r.Intn(2) == 0 {
		h["X-A"] = [][]byte{[]byte(pick(r, []string{"1", "2", "12"}))}
	}
	return &match.Request{
		Host: []byte(pick(r, hosts)), Path: []byte(pick(r, reqPaths)), Method: []byte(pick(r, []string{"GET", "POST", "get"})),
		RawQuery: []byte(pick(r, []string{"", "k", "k=v", "k=w+x", "k=1&k=", "a=b", "k=%zz&k=v", "k=7&k=v", "k=v&k=7"})),
		ClientIP: netip.MustParseAddr(pick(r, []string{"10.1.2.3", "::1", "192.0.2.1"})), Headers: h,
	}
}

// oracle is the naive matcher: every router in priority order, the rule
// tree evaluated directly.
type oracle struct {
	routes []*route.Route
	trees  map[*route.Route]*rule.Node
}

func (o *oracle) lookup(req *match.Request) *route.Route {
	for _, r := range o.routes {
		if eval(o.trees[r], req) {
			return r
		}
	}
	return nil
}

func eval(n *rule.Node, req *match.Request) bool {
	switch n.Op {
	case rule.OpAnd:
		return eval(n.Left, req) && eval(n.Right, req)
	case rule.OpOr:
		return eval(n.Left, req) || eval(n.Right, req)
	case rule.OpNot:
		return !eval(n.Left, req)
	}
	return compile.Matcher(n).Match(req)
}

// simpleRule is the shape most tables are made of, which the index
// answers without walking a trie: a host, maybe with a path.
func simpleRule(r *rand.Rand) string {
	h := pick(r, ruleHost)
	switch r.Intn(5) {
	case 0:
		return fmt.Sprintf("Host(`%s`)", h)
	case 1:
		return fmt.Sprintf("Host(`%s`) && PathPrefix(`%s`)", h, pick(r, paths))
	case 2:
		return fmt.Sprintf("Host(`%s`) && Path(`/`)", h)
	case 3:
		return "PathPrefix(`/`)"
	}
	return fmt.Sprintf("Host(`%s`) && PathPrefix(`/`)", h)
}

// target gives a route one service (mostly) or two weighted ones.
func target(r *rand.Rand, name string) service.Service {
	svc := func(k int) *service.LoadBalancer {
		return service.NewLoadBalancer(fmt.Sprintf("%s-%d", name, k), true, []service.Server{{URL: "http://" + name}})
	}
	if r.Intn(4) == 0 {
		return service.NewWeighted(name, []service.Child{{Weight: 1, Service: svc(0)}, {Weight: 2, Service: svc(1)}}, nil)
	}
	return svc(0)
}

func build(r *rand.Rand, n int) (*route.Index, *oracle) {
	return buildWith(r, n, func(r *rand.Rand) string { return randRule(r, 4) })
}

func buildWith(r *rand.Rand, n int, gen func(*rand.Rand) string) (*route.Index, *oracle) {
	b := route.NewBuilder([]string{"web"})
	o := &oracle{trees: map[*route.Route]*rule.Node{}}
	for i := 0; i < n; i++ {
		tree, src, err := parseAny(gen(r))
		if err != nil {
			panic(fmt.Sprintf("generated rule %q: %v", src, err))
		}
		prio := int64(len(src))
		if r.Intn(3) == 0 {
			prio = int64(r.Intn(5) + 30) // force ties
		}
		name := fmt.Sprintf("r%03d", i)
		tg := target(r, name)
		rt := &route.Route{Name: name, Rule: src, Priority: prio, EntryPoints: []string{"web"}, Target: tg, Handler: tg}
		b.Add(rt, compile.Entries(tree))
		o.routes = append(o.routes, rt)
		o.trees[rt] = tree
	}
	t := b.Build()
	sort.Slice(o.routes, func(i, j int) bool { return route.Less(o.routes[i], o.routes[j]) })
	return t.Index(0), o
}

func check(t *testing.T, seed int64, nRoutes, nReq int) {
	r := rand.New(rand.NewSource(seed))
	ix, o := build(r, nRoutes)
	checkIndex(t, seed, r, ix, o, nReq)
}

// checkIndex compares the index with the oracle over nReq requests, and
// the load balancer a Hit serves with directly with its route's handler.
func checkIndex(t *testing.T, seed int64, r *rand.Rand, ix *route.Index, o *oracle, nReq int) {
	t.Helper()
	for i := 0; i < nReq; i++ {
		req := randRequest(r)
		hit := ix.Find(req)
		got, want := hit.Route, o.lookup(req)
		if lb := hit.Direct(); got != nil && lb != nil && got.Handler != service.Service(lb) {
			t.Fatalf("seed %d: host=%q path=%q: the hit serves with %s, its route with %v", seed, req.Host, req.Path, lb.Name, got.Handler)
		}
		if got != want {
			name := func(x *route.Route) string {
				if x == nil {
					return "404"
				}
				return x.Name + " " + x.Rule
			}
			t.Fatalf("seed %d: request host=%q path=%q method=%q query=%q ip=%s: got %s; want %s",
				seed, req.Host, req.Path, req.Method, req.RawQuery, req.ClientIP, name(got), name(want))
		}
	}
}

// TestLookupMatchesLinearScan: the indexed table answers exactly as a
// linear scan in Traefik priority order.
func TestLookupMatchesLinearScan(t *testing.T) {
	for seed := int64(0); seed < 300; seed++ {
		check(t, seed, 1+int(seed%40), 300)
	}
}

// TestDirectLookupMatchesLinearScan: the same for small tables of plain
// host and path rules, where most hosts' routes are found without a walk
// (including requests whose path is "*" or empty, which PathPrefix(`/`)
// does not match).
func TestDirectLookupMatchesLinearScan(t *testing.T) {
	for seed := int64(0); seed < 500; seed++ {
		r := rand.New(rand.NewSource(seed))
		ix, o := buildWith(r, 1+int(seed%6), simpleRule)
		checkIndex(t, seed, r, ix, o, 200)
	}
}

// TestLookupMatchesLinearScanV2: the same with v2 rules mixed in (half of
// the routes), whose rewritten trees the index must answer as the tree
// itself does.
func TestLookupMatchesLinearScanV2(t *testing.T) {
	for seed := int64(0); seed < 300; seed++ {
		r := rand.New(rand.NewSource(seed))
		ix, o := buildWith(r, 1+int(seed%40), func(r *rand.Rand) string {
			if r.Intn(2) == 0 {
				return randRuleV2(r)
			}
			return randRule(r, 4)
		})
		checkIndex(t, seed, r, ix, o, 300)
	}
}

func FuzzLookupMatchesLinearScan(f *testing.F) {
	f.Add(int64(1), uint8(10))
	f.Fuzz(func(t *testing.T, seed int64, n uint8) {
		check(t, seed, 1+int(n%64), 200)
	})
}
