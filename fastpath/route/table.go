package route

import (
	"bytes"
	"slices"
	"sort"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/tlsconf"
)

// Table is the published routing state: per entry point an Index of its
// plain routers and one of its TLS routers, and the TLS state handshakes
// read. It is immutable and safe for concurrent use.
type Table struct {
	EntryPoints []string // index i of Indexes and TLSIndexes serves EntryPoints[i]
	Indexes     []*Index
	TLSIndexes  []*Index
	Routes      []*Route // all routes, in rank order
	// TLS is the certificates and options (nil: no TLS state; handshakes
	// are then closed).
	TLS *tlsconf.Set
}

// Index returns the index of entry point number ep's plain routers, or
// nil (also for a nil table).
func (t *Table) Index(ep int) *Index {
	if t == nil || ep < 0 || ep >= len(t.Indexes) {
		return nil
	}
	return t.Indexes[ep]
}

// TLSIndex returns the index of entry point number ep's TLS routers, or
// nil.
func (t *Table) TLSIndex(ep int) *Index {
	if t == nil || ep < 0 || ep >= len(t.TLSIndexes) {
		return nil
	}
	return t.TLSIndexes[ep]
}

// HostKind says how an entry is indexed by host.
type HostKind uint8

// Host index kinds.
const (
	HostAny   HostKind = iota // not indexable by host: merged into every host
	HostExact                 // Key is the host, lower-cased, one trailing dot removed
	HostWild                  // Key is the suffix after "*.", one trailing dot removed
)

// PathKind says how an entry is indexed by path.
type PathKind uint8

// Path index kinds.
const (
	PathAny    PathKind = iota // attached at the trie root as a prefix ""
	PathExact                  // routing path == Key
	PathPrefix                 // routing path starts with Key
)

// Entry is one conjunction of a route, with its index keys. The Cand's
// predicates must hold whatever the keys are: keys only select candidates.
type Entry struct {
	Cand     Cand
	HostKind HostKind
	HostKey  string
	PathKind PathKind
	PathKey  string
}

// Index is the per-entry-point lookup structure.
type Index struct {
	exact    *hostTable
	wild     *hostTable
	generic  *trie
	nGeneric int
	epChain  pipeline.Handler // the entry point's middlewares, or nil
}

// Lookup returns the first route, in priority order, whose rule matches r,
// or nil (404). It allocates nothing.
func (ix *Index) Lookup(r *Request) *Route { return ix.Find(r).Route }

// Hit is a lookup's answer: the route (nil: 404) and, when the host's
// trie decided it without a walk and the route's handler is one load
// balancer, that load balancer, so that serving need not read the route.
type Hit struct {
	Route *Route
	lb    *service.LoadBalancer
}

// Serve lets the hit's route serve x; the route must not be nil.
func (h Hit) Serve(x *pipeline.Exchange) {
	h.Route.mark(x)
	if h.lb != nil {
		h.lb.Serve(x) // a direct call: no interface, no route read
		return
	}
	h.Route.Handler.Serve(x)
}

// Find is Lookup, with the route's service when the index has it at hand.
// It allocates nothing.
func (ix *Index) Find(r *Request) Hit {
	full := len(r.Host) >= 2 && r.Host[len(r.Host)-1] == '.' && r.Host[len(r.Host)-2] == '.'
	t := ix.generic
	if h, s := ix.host(r.Host); s != nil {
		if d := s.route(r.Path); d != nil && !full {
			return Hit{d, s.lb}
		}
		t = h.trie(s)
	}
	slots := t.lookup(r.Path)
	for i := range slots {
		s := &slots[i]
		if s.trivial && !full || s.cand.match(r, full) {
			return Hit{Route: s.route}
		}
	}
	return Hit{}
}

func (ix *Index) slots(r *Request) []slot { return ix.trie(r.Host).lookup(r.Path) }

// host returns the table and slot of host's exact or wildcard key, or nils
// (then the host-less trie applies).
func (ix *Index) host(host []byte) (*hostTable, *hostSlot) {
	key := host
	for i := 0; i < 2 && len(key) > 0 && key[len(key)-1] == '.'; i++ {
		key = key[:len(key)-1]
	}
	if s := ix.exact.get(key); s != nil {
		return ix.exact, s
	}
	if i := bytes.IndexByte(key, '.'); i >= 0 {
		if s := ix.wild.get(key[i+1:]); s != nil {
			return ix.wild, s
		}
	}
	return nil, nil
}

// Candidates returns the candidates r's host and path select, in priority
// order (for explanations and analysis; it allocates).
func (ix *Index) Candidates(r *Request) []*Cand {
	slots := ix.slots(r)
	out := make([]*Cand, len(slots))
	for i := range slots {
		out[i] = slots[i].cand
	}
	return out
}

func (ix *Index) trie(host []byte) *trie {
	if h, s := ix.host(host); s != nil {
		return h.trie(s)
	}
	return ix.generic
}

// HostKeys returns the exact and wildcard host keys, sorted.
func (ix *Index) HostKeys() (exact, wild []string) {
	ix.exact.each(func(k string, _ *trie) { exact = append(exact, k) })
	ix.wild.each(func(k string, _ *trie) { wild = append(wild, k) })
	sort.Strings(exact)
	sort.Strings(wild)
	return exact, wild
}

// Builder assembles a Table. Not safe for concurrent use.
type Builder struct {
	eps     []string
	routes  []*Route
	parents []*Route
	epMW    map[string]pipeline.Handler // entry point -> its chain (SetEntryPointMiddlewares)
}

// SetEntryPointMiddlewares gives entry point ep middlewares that serve
// every request one of its routers matched, before the router's own
// (Traefik's entryPoints.<name>.http.middlewares). A nil list with
// broken set makes every router of the entry point unserved (404), as a
// missing entry point middleware leaves them in Traefik.
func (b *Builder) SetEntryPointMiddlewares(ep string, mws []pipeline.Middleware, broken bool) {
	if b.epMW == nil {
		b.epMW = map[string]pipeline.Handler{}
	}
	if broken {
		b.epMW[ep] = pipeline.HandlerFunc(func(x *pipeline.Exchange) { x.NotFound() })
		return
	}
	b.epMW[ep] = pipeline.Chain(routed, mws...)
}

// routed serves an entry point chain's request with the router it
// matched (Exchange.Routed).
var routed = pipeline.HandlerFunc(func(x *pipeline.Exchange) { x.Routed().Serve(x) })

// NewBuilder starts a table for the given entry points.
func NewBuilder(entryPoints []string) *Builder {
	return &Builder{eps: entryPoints}
}

// Add adds a route with its entries. Rank is assigned by Build.
func (b *Builder) Add(r *Route, entries []Entry) {
	b.routes = append(b.routes, r)
	for i := range entries {
		entries[i].Cand.Route = r
		entries[i].setCheck()
	}
	r.Entries = entries
}

// SetChildren makes parent a parent router (multi-layer routing) whose
// requests are routed among children, each added with Add and attached to
// no entry point: its handler ends in ChildRouter(parent).
func (b *Builder) SetChildren(parent *Route, children []*Route) {
	parent.Children = children
	b.parents = append(b.parents, parent)
}

// Less is Traefik's order: priority descending, then (Sluice's
// deterministic tie-break; Traefik's is undefined) router name ascending.
func Less(a, b *Route) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.Source < b.Source
}

// Build sorts the routes, assigns ranks and builds every index.
func (b *Builder) Build() *Table {
	sort.SliceStable(b.routes, func(i, j int) bool { return Less(b.routes[i], b.routes[j]) })
	for i, r := range b.routes {
		r.Rank = i
	}
	for _, p := range b.parents {
		sort.SliceStable(p.Children, func(i, j int) bool { return p.Children[i].Rank < p.Children[j].Rank })
		var es []*Entry
		for _, c := range p.Children {
			for i := range c.Entries {
				es = append(es, &c.Entries[i])
			}
		}
		p.children = buildIndex(es)
	}
	t := &Table{EntryPoints: b.eps, Routes: b.routes}
	for _, ep := range b.eps {
		var plain, secure []*Entry
		for _, r := range b.routes {
			if !slices.Contains(r.EntryPoints, ep) {
				continue
			}
			for i := range r.Entries {
				if r.TLS != nil {
					secure = append(secure, &r.Entries[i])
				} else {
					plain = append(plain, &r.Entries[i])
				}
			}
		}
		pix, six := buildIndex(plain), buildIndex(secure)
		pix.epChain, six.epChain = b.epMW[ep], b.epMW[ep]
		t.Indexes = append(t.Indexes, pix)
		t.TLSIndexes = append(t.TLSIndexes, six)
	}
	return t
}

// buildIndex groups entries (in rank order) by host key and builds a trie
// per host with wildcard and host-less entries merged in.
func buildIndex(es []*Entry) *Index {
	exact := map[string][]*Entry{}
	wild := map[string][]*Entry{}
	var generic []*Entry
	for _, e := range es {
		switch e.HostKind {
		case HostExact:
			exact[e.HostKey] = append(exact[e.HostKey], e)
		case HostWild:
			wild[e.HostKey] = append(wild[e.HostKey], e)
		default:
			generic = append(generic, e)
		}
	}
	ix := &Index{exact: newHostTable(len(exact), keyBytes(exact)), wild: newHostTable(len(wild), keyBytes(wild)),
		generic: buildTrie(generic), nGeneric: len(generic)}
	for k, list := range wild {
		ix.wild.put(k, buildTrie(mergeEntries(list, generic)))
	}
	for k, list := range exact {
		all := mergeEntries(list, generic)
		if i := strings.IndexByte(k, '.'); i >= 0 {
			all = mergeEntries(all, wild[k[i+1:]])
		}
		ix.exact.put(k, buildTrie(all))
	}
	return ix
}

// keyBytes is what m's keys too long to sit in a host slot take.
func keyBytes(m map[string][]*Entry) int {
	n := 0
	for k := range m {
		if len(k) > inlineKey {
			n += len(k)
		}
	}
	return n
}

// mergeEntries merges two lists sorted by route rank.
func mergeEntries(a, b []*Entry) []*Entry {
	return mergeByRank(a, b, func(e *Entry) int { return e.Cand.Route.Rank })
}

// mergeByRank merges two lists already sorted by rank; a wins ties. It
// returns one input unchanged (shared, not copied) when the other is empty.
func mergeByRank[T any](a, b []T, rank func(T) int) []T {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]T, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if rank(a[i]) <= rank(b[j]) {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// Serve routes x (its routing view) to the first router whose rule
// matches and lets it serve; none, or a nil index: 404. A TLS router
// answers 421 to a request whose connection chose another TLS option
// than its own (Traefik's snicheck).
func (ix *Index) Serve(x *pipeline.Exchange) {
	if ix == nil {
		x.NotFound()
		return
	}
	hit := ix.Find(&x.Req)
	if hit.Route == nil {
		x.NotFound()
		return
	}
	if t := hit.Route.TLS; t != nil && (x.TLS == nil || x.TLS.Option != t.Option) {
		hit.Route.mark(x) // Traefik's snicheck is in the router's chain: its 421 is the router's
		x.Respond(fasthttp.StatusMisdirectedRequest, pipeline.BodyMisdirected)
		return
	}
	if ix.epChain != nil {
		hit.Route.mark(x)
		x.SetRouted(hit.Route.Handler)
		ix.epChain.Serve(x)
		return
	}
	hit.Serve(x)
}

// Direct is the load balancer the hit serves with directly, or nil (the
// route's handler then serves).
func (h Hit) Direct() *service.LoadBalancer { return h.lb }
