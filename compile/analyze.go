package compile

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/route"
)

// maxPairs bounds the pairs the overlap check examines in one table; past
// it, one warning says the report is incomplete.
const maxPairs = 200000

// Overlaps reports pairs of routes with the same priority on a shared entry
// point that may match the same request: Traefik's order between them is
// undefined, Sluice's is by router name. Only routes whose host keys can
// meet are paired, so distinct-host tables cost linear time.
func Overlaps(t *route.Table) []model.Diagnostic {
	var out []model.Diagnostic
	budget := maxPairs
	for i := 0; i < len(t.Routes); {
		j := i
		for j < len(t.Routes) && t.Routes[j].Priority == t.Routes[i].Priority {
			j++
		}
		pairs, complete := hostPairs(t.Routes[i:j], budget)
		budget -= len(pairs)
		for _, p := range pairs {
			ra, rb := t.Routes[i+p[0]], t.Routes[i+p[1]]
			if sharesEntryPoint(ra, rb) && mayOverlap(ra, rb) {
				out = append(out, model.Warnf("", "", "routers %s (%s) and %s (%s) have the same priority %d and may match the same requests: Sluice tries %s first (router name order); Traefik's order is undefined",
					ra.Name, ra.Source, rb.Name, rb.Source, ra.Priority, ra.Name))
			}
		}
		if !complete {
			return append(out, model.Warnf("", "", "overlap analysis stopped after %d route pairs; more equal-priority overlaps may exist", maxPairs))
		}
		i = j
	}
	return out
}

// hostPairs returns, in order, the index pairs (a < b) of routes whose
// entries' host keys can match a common host: equal keys, an exact host
// under a wildcard suffix, or anything with a host-less entry. It stops
// after budget pairs (complete is then false), so that thousands of
// equal-priority routes on one host cost bounded time and memory; hosts
// are visited in sorted order, so where it stops does not vary.
func hostPairs(rs []*route.Route, budget int) (pairs [][2]int, complete bool) {
	exact, wild := map[string][]int{}, map[string][]int{}
	var anyHost []int
	add := func(m map[string][]int, k string, r int) {
		if l := m[k]; len(l) == 0 || l[len(l)-1] != r {
			m[k] = append(l, r)
		}
	}
	for r, rt := range rs {
		for _, e := range rt.Entries {
			switch e.HostKind {
			case route.HostExact:
				add(exact, e.HostKey, r)
			case route.HostWild:
				add(wild, e.HostKey, r)
			default:
				if len(anyHost) == 0 || anyHost[len(anyHost)-1] != r {
					anyHost = append(anyHost, r)
				}
			}
		}
	}
	seen := map[[2]int]bool{}
	cross := func(x, y []int) bool {
		for _, a := range x {
			for _, b := range y {
				p := [2]int{min(a, b), max(a, b)}
				if a == b || seen[p] {
					continue
				}
				if len(seen) == budget {
					return false
				}
				seen[p] = true
			}
		}
		return true
	}
	complete = crossAll(exact, wild, anyHost, len(rs), cross)
	out := make([][2]int, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] || out[i][0] == out[j][0] && out[i][1] < out[j][1] })
	return out, complete
}

// crossAll calls cross on every pair of route lists whose hosts can meet,
// in a fixed order, until cross returns false.
func crossAll(exact, wild map[string][]int, anyHost []int, n int, cross func(x, y []int) bool) bool {
	for _, h := range slices.Sorted(maps.Keys(exact)) {
		l := exact[h]
		if !cross(l, l) {
			return false
		}
		if i := strings.IndexByte(h, '.'); i >= 0 && !cross(l, wild[h[i+1:]]) {
			return false
		}
	}
	for _, w := range slices.Sorted(maps.Keys(wild)) {
		if !cross(wild[w], wild[w]) {
			return false
		}
	}
	return cross(anyHost, anyHost) && cross(anyHost, allIndexes(n))
}

func allIndexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// sharesEntryPoint: a and b can see the same requests: an entry point
// in common, and both TLS routers or both plain (different indexes).
func sharesEntryPoint(a, b *route.Route) bool {
	if (a.TLS == nil) != (b.TLS == nil) {
		return false
	}
	for _, x := range a.EntryPoints {
		if slices.Contains(b.EntryPoints, x) {
			return true
		}
	}
	return false
}

func mayOverlap(a, b *route.Route) bool {
	for i := range a.Entries {
		for j := range b.Entries {
			if entriesMayOverlap(&a.Entries[i], &b.Entries[j]) {
				return true
			}
		}
	}
	return false
}

func entriesMayOverlap(a, b *route.Entry) bool {
	if !hostsMayOverlap(a, b) {
		return false
	}
	switch {
	case a.PathKind == route.PathAny || b.PathKind == route.PathAny:
	case a.PathKind == route.PathExact && b.PathKind == route.PathExact:
		if a.PathKey != b.PathKey {
			return false
		}
	case a.PathKind == route.PathExact:
		if !hasPrefix(a.PathKey, b.PathKey) {
			return false
		}
	case b.PathKind == route.PathExact:
		if !hasPrefix(b.PathKey, a.PathKey) {
			return false
		}
	default:
		if !hasPrefix(a.PathKey, b.PathKey) && !hasPrefix(b.PathKey, a.PathKey) {
			return false
		}
	}
	return !conflictingMethods(a.Cand.Lits, b.Cand.Lits)
}

func hostsMayOverlap(a, b *route.Entry) bool {
	switch {
	case a.HostKind == route.HostAny || b.HostKind == route.HostAny:
		return true
	case a.HostKind == b.HostKind:
		return a.HostKey == b.HostKey
	case a.HostKind == route.HostWild:
		return wildCovers(a.HostKey, b.HostKey)
	}
	return wildCovers(b.HostKey, a.HostKey)
}

func wildCovers(suffix, host string) bool {
	for i := 0; i < len(host); i++ {
		if host[i] == '.' {
			return host[i+1:] == suffix
		}
	}
	return false
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func conflictingMethods(a, b []route.Lit) bool {
	ma, mb := positive(a, match.Method), positive(b, match.Method)
	return ma != "" && mb != "" && ma != mb
}

func positive(lits []route.Lit, k match.Kind) string {
	for _, l := range lits {
		if !l.Neg && l.M.Kind == k {
			return l.M.A
		}
	}
	return ""
}

// Shadowed reports routes that can never win: on every entry point they are
// attached to, every request they match is matched first by a higher-ranked
// route. The check is conservative (a reported route is surely shadowed; a
// shadowed route built from regexps or negations may go unreported).
func Shadowed(t *route.Table) []model.Diagnostic {
	var out []model.Diagnostic
	for _, b := range t.Routes {
		if by := shadowedBy(t, b); by != nil {
			out = append(out, model.Warnf("", "", "router %s (%s) can never match: every request it matches is taken first by %s (%s, priority %d)",
				b.Name, b.Source, by.Name, by.Source, by.Priority))
		}
	}
	return out
}

func shadowedBy(t *route.Table, b *route.Route) *route.Route {
	var by *route.Route
	for _, ep := range b.EntryPoints {
		ix := t.Index(slices.Index(t.EntryPoints, ep))
		if b.TLS != nil {
			ix = t.TLSIndex(slices.Index(t.EntryPoints, ep))
		}
		for i := range b.Entries {
			eb := &b.Entries[i]
			if eb.Cand.Tree != nil {
				return nil
			}
			a := coveringRoute(ix, b, eb)
			if a == nil {
				return nil
			}
			by = a
		}
	}
	return by
}

// coveringRoute finds a higher-ranked candidate whose conjunction is implied
// by eb's. Candidates come from the index at eb's own keys, which lists
// every entry whose keys generalise them.
func coveringRoute(ix *route.Index, b *route.Route, eb *route.Entry) *route.Route {
	host := []byte(eb.HostKey)
	if eb.HostKind == route.HostWild {
		host = []byte("*." + eb.HostKey)
	}
	req := &route.Request{Host: host, Path: []byte(eb.PathKey)}
	for _, c := range ix.Candidates(req) {
		if c.Route.Rank >= b.Rank {
			break
		}
		if c.Tree == nil && implies(eb, c.Lits) {
			return c.Route
		}
	}
	return nil
}

// implies reports whether every literal of lits holds whenever eb's do.
func implies(eb *route.Entry, lits []route.Lit) bool {
	for _, l := range lits {
		if !impliedLit(eb.Cand.Lits, l) {
			return false
		}
	}
	return true
}

func impliedLit(have []route.Lit, l route.Lit) bool {
	if !l.Neg && l.M.Kind == match.True {
		return true
	}
	for _, h := range have {
		if h.Neg != l.Neg {
			continue
		}
		if sameMatcher(h.M, l.M) {
			return true
		}
		if !l.Neg && l.M.Kind == match.PathPrefix && (h.M.Kind == match.Path || h.M.Kind == match.PathPrefix) && hasPrefix(h.M.A, l.M.A) {
			return true
		}
	}
	return false
}

func sameMatcher(a, b *match.Matcher) bool {
	if a.Kind != b.Kind || a.A != b.A || a.B != b.B || a.Prefix != b.Prefix {
		return false
	}
	return (a.Re == nil) == (b.Re == nil) && (a.Re == nil || a.Re.String() == b.Re.String())
}
