package compile

import (
	"net/netip"
	"net/textproto"
	"strings"

	"github.com/sluiceproxy/sluice/compile/rule"
	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/route"
)

// maxConjunctions bounds the expansion of a rule into disjunctive normal
// form; larger rules are evaluated as a tree from a host-less entry.
const maxConjunctions = 64

// Matcher compiles one validated rule leaf.
func Matcher(n *rule.Node) *match.Matcher {
	a := n.Args
	switch n.Name {
	case rule.Host:
		v := strings.ToLower(a[0])
		if v == "*" {
			return matchTrue
		}
		return &match.Matcher{Kind: match.Host, A: v}
	case rule.HostRegexp, rule.PathRegexp:
		re, _ := match.CompileRegexp(a[0]) // validated by rule.Parse
		if n.Name == rule.HostRegexp {
			if re.MatchesEmpty() { // also matches the empty flattened host
				return matchTrue
			}
			return &match.Matcher{Kind: match.HostRegexp, Re: re}
		}
		return &match.Matcher{Kind: match.PathRegexp, Re: re}
	case rule.Path:
		return &match.Matcher{Kind: match.Path, A: a[0]}
	case rule.PathPrefix:
		if a[0] == "/" {
			return matchRootPrefix
		}
		return &match.Matcher{Kind: match.PathPrefix, A: a[0]}
	case rule.Method:
		return &match.Matcher{Kind: match.Method, A: strings.ToUpper(a[0])}
	case rule.Header, rule.HeaderRegexp:
		return headerMatcher(n)
	case rule.Query, rule.QueryRegexp:
		if len(a) == 1 {
			return &match.Matcher{Kind: match.Query, A: a[0]}
		}
		if n.Name == rule.Query {
			return &match.Matcher{Kind: match.Query, A: a[0], B: a[1]}
		}
		re, _ := match.CompileRegexp(a[1])
		return &match.Matcher{Kind: match.QueryRegexp, A: a[0], Re: re}
	case rule.ClientIP:
		return &match.Matcher{Kind: match.ClientIP, Prefix: clientPrefix(a[0])}
	case rule.QueryV2:
		re, _ := match.CompileRegexp(a[1]) // built and compiled by rule.ParseV2
		return &match.Matcher{Kind: match.QueryV2, A: a[0], Re: re}
	}
	return &match.Matcher{Kind: match.False}
}

// Matchers are never written once compiled, so the commonest leaves are
// one value each, shared by every route (100k routes with
// PathPrefix(`/`) would otherwise hold 100k copies).
var (
	matchTrue       = &match.Matcher{Kind: match.True}
	matchRootPrefix = &match.Matcher{Kind: match.PathPrefix, A: "/"}
)

// hiddenHeaders are not visible to Header matchers in Go's request (Host,
// Transfer-Encoding) or are removed before routing (Connection).
var hiddenHeaders = map[string]bool{"Host": true, "Transfer-Encoding": true, "Connection": true}

func headerMatcher(n *rule.Node) *match.Matcher {
	key := textproto.CanonicalMIMEHeaderKey(n.Args[0])
	if hiddenHeaders[key] {
		return &match.Matcher{Kind: match.False}
	}
	if n.Name == rule.Header {
		return &match.Matcher{Kind: match.Header, A: key, B: n.Args[1]}
	}
	re, _ := match.CompileRegexp(n.Args[1])
	return &match.Matcher{Kind: match.HeaderRegexp, A: key, Re: re}
}

func clientPrefix(s string) netip.Prefix {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, _ := netip.ParseAddr(s)
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

type lowerer struct{ leaves map[*rule.Node]*match.Matcher }

func (l *lowerer) leaf(n *rule.Node) *match.Matcher {
	m := l.leaves[n]
	if m == nil {
		m = Matcher(n)
		l.leaves[n] = m
	}
	return m
}

// Entries lowers a parsed rule into table entries, one per conjunction of
// its disjunctive normal form, each indexed by its host and path literals.
func Entries(n *rule.Node) []route.Entry {
	l := &lowerer{leaves: map[*rule.Node]*match.Matcher{}}
	conj, ok := l.dnf(n, false)
	if !ok {
		return []route.Entry{{Cand: route.Cand{Tree: l.tree(n)}}}
	}
	out := make([]route.Entry, 0, len(conj))
	for _, c := range conj {
		out = append(out, indexed(c))
	}
	return out
}

func (l *lowerer) dnf(n *rule.Node, neg bool) ([][]route.Lit, bool) {
	switch n.Op {
	case rule.OpMatcher:
		return [][]route.Lit{{{M: l.leaf(n), Neg: neg}}}, true
	case rule.OpNot:
		return l.dnf(n.Left, !neg)
	}
	left, ok := l.dnf(n.Left, neg)
	if !ok {
		return nil, false
	}
	right, ok := l.dnf(n.Right, neg)
	if !ok {
		return nil, false
	}
	if (n.Op == rule.OpOr) != neg { // a disjunction after De Morgan
		if len(left)+len(right) > maxConjunctions {
			return nil, false
		}
		return append(append([][]route.Lit{}, left...), right...), true
	}
	if len(left)*len(right) > maxConjunctions {
		return nil, false
	}
	var out [][]route.Lit
	for _, a := range left {
		for _, b := range right {
			out = append(out, append(append([]route.Lit{}, a...), b...))
		}
	}
	return out, true
}

func (l *lowerer) tree(n *rule.Node) *route.Expr {
	switch n.Op {
	case rule.OpMatcher:
		return &route.Expr{Op: route.ExprLeaf, M: l.leaf(n)}
	case rule.OpNot:
		return &route.Expr{Op: route.ExprNot, Left: l.tree(n.Left)}
	case rule.OpAnd:
		return &route.Expr{Op: route.ExprAnd, Left: l.tree(n.Left), Right: l.tree(n.Right)}
	}
	return &route.Expr{Op: route.ExprOr, Left: l.tree(n.Left), Right: l.tree(n.Right)}
}

// indexed picks the index keys of one conjunction: the first positive Host
// literal, and the positive Path literal or else the longest PathPrefix
// or anchored PathRegexp literal prefix.
// The literals all stay as residual predicates, so keys only narrow.
func indexed(lits []route.Lit) route.Entry {
	e := route.Entry{Cand: route.Cand{Lits: lits}}
	for _, l := range lits {
		if l.Neg {
			continue
		}
		m := l.M
		switch m.Kind {
		case match.Host:
			if e.HostKind == route.HostAny {
				e.HostKind, e.HostKey = hostKey(m.A)
			}
		case match.Path:
			if e.PathKind != route.PathExact {
				e.PathKind, e.PathKey = route.PathExact, m.A
			}
		case match.PathPrefix:
			e.PathKind, e.PathKey = longerPrefix(e.PathKind, e.PathKey, m.A)
		case match.PathRegexp:
			if p := m.Re.AnchoredPrefix(); p != "" {
				e.PathKind, e.PathKey = longerPrefix(e.PathKind, e.PathKey, p)
			}
		}
	}
	return e
}

// longerPrefix keeps an exact path key, else the longer of two prefixes:
// every prefix of a conjunction must hold, so the longest narrows most.
func longerPrefix(k route.PathKind, key, p string) (route.PathKind, string) {
	if k == route.PathAny || k == route.PathPrefix && len(p) > len(key) {
		return route.PathPrefix, p
	}
	return k, key
}

// hostKey maps a lower-cased Host value to its index key. Values the index
// cannot represent (several trailing dots, '*' elsewhere than a leading
// "*.") stay host-less and are decided by the residual Host check.
func hostKey(v string) (route.HostKind, string) {
	k := strings.TrimSuffix(v, ".")
	if k == "" || strings.HasSuffix(k, ".") {
		return route.HostAny, ""
	}
	if strings.HasPrefix(k, "*.") {
		s := k[2:]
		if s == "" || strings.Contains(s, "*") {
			return route.HostAny, ""
		}
		return route.HostWild, s
	}
	if strings.Contains(k, "*") {
		return route.HostAny, ""
	}
	return route.HostExact, k
}
