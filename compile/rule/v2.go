package rule

import (
	"fmt"
	"net/netip"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
)

// Traefik v2's matchers (routes[n].syntax: v2, --core.defaultRuleSyntax=v2),
// as Traefik v3 still runs them (pkg/muxer/http/matcher_v2.go): each takes
// any number of arguments, and the host, path and query ones read
// gorilla/mux templates, where {name} and {name:pattern} are regexps.
const (
	v2Host          = "Host"
	v2HostHeader    = "HostHeader"
	v2HostRegexp    = "HostRegexp"
	v2ClientIP      = "ClientIP"
	v2Path          = "Path"
	v2PathPrefix    = "PathPrefix"
	v2Method        = "Method"
	v2Headers       = "Headers"
	v2HeadersRegexp = "HeadersRegexp"
	v2Query         = "Query"
)

// QueryV2 is the leaf a v2 Query pair becomes: Args[0] a query key, Args[1]
// a regexp that the text key=value must match, value being the key's first
// value (v3's Query looks at every value). No v3 rule can name it; Print
// writes it so that a v2 route can be explained.
const QueryV2 = "QueryV2"

var spellingsV2 = spellingsOf(slices.Values([]string{v2Host, v2HostHeader, v2HostRegexp, v2ClientIP, v2Path,
	v2PathPrefix, v2Method, v2Headers, v2HeadersRegexp, v2Query}))

// ParseV2 parses a rule in Traefik v2's syntax and returns the v3 tree that
// matches the same requests, so that one compiler, index and set of
// matchers serve both. Its error is an *Error quoting the rule, with
// Traefik's reason. Each leaf of the result keeps its v2 leaf's position,
// and the v2 matcher name as written (Written).
//
// What each v2 matcher becomes (several arguments: one leaf each, joined by
// || for Host, HostHeader, HostRegexp, Path, PathPrefix, Method, ClientIP
// and by && for the pairs of Headers, HeadersRegexp and Query):
//
//   - Host, HostHeader: Host, lower-cased (a value with '*' in it, which v2
//     compares literally, a case-insensitive HostRegexp instead).
//   - HostRegexp: a template without {}: Host; else HostRegexp of the
//     template's regexp, case-insensitive and anchored, as gorilla/mux
//     builds it (a variable without a pattern is [^.]+).
//   - Path, PathPrefix: a template without {}: Path, PathPrefix; else
//     PathRegexp anchored at the start (and at the end for Path), a
//     variable without a pattern [^/]+.
//   - Method: Method, upper-cased. ClientIP: ClientIP.
//   - Headers, HeadersRegexp: key/value pairs (a repeated key keeps its
//     last value, as mux's map does): Header, HeaderRegexp.
//   - Query: each argument split at its first '=', the parts taken as
//     key/template pairs: QueryV2 of the key and the pair's regexp (an empty
//     template matches any value).
func ParseV2(rule string) (*Node, error) {
	n, err := parseV2(rule)
	if e, ok := err.(*Error); ok {
		e.Rule = rule
	}
	return n, err
}

func parseV2(rule string) (*Node, error) {
	n, err := parseExpr(rule, spellingsV2)
	if err != nil {
		return nil, err
	}
	return desugar(n)
}

func desugar(n *Node) (*Node, error) {
	switch n.Op {
	case OpMatcher:
		return desugarLeaf(n)
	case OpNot:
		l, err := desugar(n.Left)
		if err != nil {
			return nil, err
		}
		return &Node{Op: OpNot, Left: l, Line: n.Line, Col: n.Col}, nil
	}
	l, err := desugar(n.Left)
	if err != nil {
		return nil, err
	}
	r, err := desugar(n.Right)
	if err != nil {
		return nil, err
	}
	return &Node{Op: n.Op, Left: l, Right: r, Line: n.Line, Col: n.Col}, nil
}

// desugarLeaf checks a v2 leaf as Traefik does (rules.CheckRule, then the
// matcher's builder) and returns its v3 form.
func desugarLeaf(n *Node) (*Node, error) {
	fail := func(format string, a ...any) (*Node, error) {
		return nil, &Error{Line: n.Line, Col: n.Col, Reason: fmt.Sprintf(format, a...)}
	}
	if len(n.Args) == 0 {
		return fail("%s: no args for matcher %s", n.written, n.written)
	}
	for _, a := range n.Args {
		if a == "" {
			return fail("%s: empty args for matcher %s, %v", n.written, n.written, n.Args)
		}
	}
	leaf := func(name string, args ...string) *Node {
		return &Node{Op: OpMatcher, Name: name, Args: args, Line: n.Line, Col: n.Col, written: n.written}
	}
	var leaves []*Node
	join := OpOr
	switch n.Name {
	case v2Host, v2HostHeader:
		for _, h := range n.Args {
			if !isASCII(h) {
				return fail("%s: invalid value %q for \"Host\" matcher, non-ASCII characters are not allowed", n.written, h)
			}
			h = strings.ToLower(h)
			if strings.Contains(h, "*") { // v3 reads '*' as a wildcard; v2 compares it
				leaves = append(leaves, leaf(HostRegexp, "(?i)^"+regexp.QuoteMeta(h)+"$"))
			} else {
				leaves = append(leaves, leaf(Host, h))
			}
		}
	case v2HostRegexp:
		for _, tpl := range n.Args {
			if !isASCII(tpl) {
				return fail("%s: invalid value %q for HostRegexp matcher, non-ASCII characters are not allowed", n.written, tpl)
			}
			re, vars, err := muxRegexp(tpl, muxHost)
			if err != nil {
				return fail("%s: %v", n.written, err)
			}
			if len(vars) == 0 && !strings.Contains(tpl, "*") {
				leaves = append(leaves, leaf(Host, strings.ToLower(tpl)))
			} else {
				leaves = append(leaves, leaf(HostRegexp, re))
			}
		}
	case v2Path, v2PathPrefix:
		kind, exact, rx := muxPath, Path, PathRegexp
		if n.Name == v2PathPrefix {
			kind, exact = muxPrefix, PathPrefix
		}
		for _, tpl := range n.Args {
			if tpl[0] != '/' {
				return fail("%s: mux: path must start with a slash, got %q", n.written, tpl)
			}
			re, vars, err := muxRegexp(tpl, kind)
			if err != nil {
				return fail("%s: %v", n.written, err)
			}
			if len(vars) == 0 {
				leaves = append(leaves, leaf(exact, tpl))
			} else {
				leaves = append(leaves, leaf(rx, re))
			}
		}
	case v2Method:
		for _, m := range n.Args {
			leaves = append(leaves, leaf(Method, strings.ToUpper(m)))
		}
	case v2ClientIP:
		for _, a := range n.Args {
			if _, err := netip.ParsePrefix(a); err != nil {
				if _, err := netip.ParseAddr(a); err != nil {
					return fail("%s: could not initialize IP Checker for \"ClientIP\" matcher: invalid IP or CIDR %q", n.written, a)
				}
			}
			leaves = append(leaves, leaf(ClientIP, a))
		}
	case v2Headers, v2HeadersRegexp:
		join = OpAnd
		pairs, err := headerPairs(n.Args)
		if err != nil {
			return fail("%s: %v", n.written, err)
		}
		name := Header
		if n.Name == v2HeadersRegexp {
			name = HeaderRegexp
		}
		for _, p := range pairs {
			if name == HeaderRegexp {
				if _, err := regexp.Compile(p[1]); err != nil {
					return fail("%s: %v", n.written, err)
				}
			}
			leaves = append(leaves, leaf(name, p[0], p[1]))
		}
	case v2Query:
		join = OpAnd
		qs, err := queryPairs(n.Args)
		if err != nil {
			return fail("%s: %v", n.written, err)
		}
		for _, q := range qs {
			leaves = append(leaves, leaf(QueryV2, q[0], q[1]))
		}
	}
	out := leaves[0]
	for _, l := range leaves[1:] {
		out = &Node{Op: join, Left: out, Right: l, Line: n.Line, Col: n.Col}
	}
	return out, nil
}

// headerPairs reads key/value pairs as mux's mapFromPairsToString: an even
// count, keys canonical, a repeated key keeping its last value (in the
// order keys first appear).
func headerPairs(args []string) ([][2]string, error) {
	if len(args)%2 != 0 {
		return nil, fmt.Errorf("mux: number of parameters must be multiple of 2, got %v", args)
	}
	var out [][2]string
	at := map[string]int{}
	for i := 0; i < len(args); i += 2 {
		k := textproto.CanonicalMIMEHeaderKey(args[i])
		if j, ok := at[k]; ok {
			out[j][1] = args[i+1]
			continue
		}
		at[k] = len(out)
		out = append(out, [2]string{k, args[i+1]})
	}
	return out, nil
}

// queryPairs reads Query's arguments as Traefik's queryV2 and mux's
// Queries: each split at its first '=', the parts paired in order; each
// pair a key and the regexp of the template key=value, whose variables
// must differ from the other pairs'.
func queryPairs(args []string) ([][2]string, error) {
	var flat []string
	for _, a := range args {
		flat = append(flat, strings.SplitN(a, "=", 2)...)
	}
	if len(flat)%2 != 0 {
		return nil, fmt.Errorf("mux: number of parameters must be multiple of 2, got %v", flat)
	}
	var out [][2]string
	seen := map[string]bool{}
	for i := 0; i < len(flat); i += 2 {
		re, vars, err := muxRegexp(flat[i]+"="+flat[i+1], muxQuery)
		if err != nil {
			return nil, err
		}
		for _, v := range vars {
			if seen[v] {
				return nil, fmt.Errorf("mux: duplicated route variable %q", v)
			}
			seen[v] = true
		}
		out = append(out, [2]string{flat[i], re})
	}
	return out, nil
}
