package rule

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Error is a rule that does not parse or does not validate.
type Error struct {
	Line, Col int    // 1-based position of the offending token
	Reason    string // what is wrong, naming the matcher; Traefik's wording where it has one
	Rule      string // the rule as written
}

func (e *Error) Error() string {
	in := ""
	if e.Rule != "" {
		in = fmt.Sprintf(", in %q", e.Rule)
	}
	if e.Line > 1 {
		return fmt.Sprintf("line %d col %d: %s%s", e.Line, e.Col, e.Reason, in)
	}
	return fmt.Sprintf("col %d: %s%s", e.Col, e.Reason, in)
}

// arity lists the accepted argument counts of each v3 matcher.
var arity = map[string][]int{
	Host: {1}, HostRegexp: {1}, Path: {1}, PathPrefix: {1}, PathRegexp: {1},
	Method: {1}, Header: {2}, HeaderRegexp: {2}, Query: {1, 2}, QueryRegexp: {1, 2},
	ClientIP: {1},
}

// spellings maps every accepted spelling of a v3 matcher to the canonical
// name: as written, lower, upper, and Title-of-lower, as Traefik
// registers them.
var spellings = spellingsOf(func(yield func(string) bool) {
	for name := range arity {
		if !yield(name) {
			return
		}
	}
})

func spellingsOf(names func(yield func(string) bool)) map[string]string {
	m := map[string]string{}
	for name := range names {
		low := strings.ToLower(name)
		m[name] = name
		m[low] = name
		m[strings.ToUpper(name)] = name
		m[strings.ToUpper(low[:1])+low[1:]] = name
	}
	return m
}

// Parse parses and validates a v3 rule. Its error is an *Error quoting
// the rule.
func Parse(rule string) (*Node, error) {
	n, err := parse(rule)
	if e, ok := err.(*Error); ok {
		e.Rule = rule
	}
	return n, err
}

func parse(rule string) (*Node, error) {
	n, err := parseExpr(rule, spellings)
	if err != nil {
		return nil, err
	}
	if err := validate(n); err != nil {
		return nil, err
	}
	return n, nil
}

// parseExpr reads rule as a Go expression of calls to the matchers names
// spells, joined by &&, || and !, without checking the arguments.
func parseExpr(rule string, names map[string]string) (*Node, error) {
	fset := token.NewFileSet()
	expr, err := parser.ParseExprFrom(fset, "", rule, parser.SkipObjectResolution)
	if err != nil {
		var list scanner.ErrorList
		if ok := asList(err, &list); ok && len(list) > 0 {
			e := list[0]
			return nil, &Error{Line: e.Pos.Line, Col: e.Pos.Column, Reason: e.Msg}
		}
		return nil, &Error{Col: 1, Reason: err.Error()}
	}
	p := &conv{fset: fset, names: names}
	return p.node(expr)
}

func asList(err error, list *scanner.ErrorList) bool {
	l, ok := err.(scanner.ErrorList)
	if ok {
		*list = l
	}
	return ok
}

type conv struct {
	fset  *token.FileSet
	names map[string]string // accepted spellings -> canonical names
}

func (p *conv) errAt(pos token.Pos, format string, a ...any) *Error {
	ps := p.fset.Position(pos)
	return &Error{Line: ps.Line, Col: ps.Column, Reason: fmt.Sprintf(format, a...)}
}

func (p *conv) node(e ast.Expr) (*Node, error) {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return p.node(e.X)
	case *ast.BinaryExpr:
		var op Op
		switch e.Op {
		case token.LAND:
			op = OpAnd
		case token.LOR:
			op = OpOr
		default:
			return nil, p.errAt(e.OpPos, "%s is not supported", e.Op)
		}
		l, err := p.node(e.X)
		if err != nil {
			return nil, err
		}
		r, err := p.node(e.Y)
		if err != nil {
			return nil, err
		}
		return p.at(&Node{Op: op, Left: l, Right: r}, e.OpPos), nil
	case *ast.UnaryExpr:
		if e.Op != token.NOT {
			return nil, p.errAt(e.OpPos, "%s is not supported", e.Op)
		}
		x, err := p.node(e.X)
		if err != nil {
			return nil, err
		}
		return p.at(&Node{Op: OpNot, Left: x}, e.OpPos), nil
	case *ast.CallExpr:
		return p.call(e)
	case *ast.Ident:
		return nil, p.errAt(e.Pos(), "%s is not defined", e.Name)
	case *ast.BasicLit:
		return nil, p.errAt(e.Pos(), "unexpected literal %s: a rule is made of matcher calls", e.Value)
	}
	return nil, p.errAt(e.Pos(), "unsupported expression %T", e)
}

func (p *conv) at(n *Node, pos token.Pos) *Node {
	ps := p.fset.Position(pos)
	n.Line, n.Col = ps.Line, ps.Column
	return n
}

func (p *conv) call(e *ast.CallExpr) (*Node, error) {
	id, ok := e.Fun.(*ast.Ident)
	if !ok {
		return nil, p.errAt(e.Fun.Pos(), "unsupported function call: the callee must be a matcher name")
	}
	name, ok := p.names[id.Name]
	if !ok {
		return nil, p.errAt(id.Pos(), "unsupported function: %s", id.Name)
	}
	if e.Ellipsis.IsValid() {
		return nil, p.errAt(e.Ellipsis, "... is not supported")
	}
	n := p.at(&Node{Op: OpMatcher, Name: name, written: id.Name}, id.Pos())
	for _, a := range e.Args {
		lit, ok := a.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return nil, p.errAt(a.Pos(), "argument %d of %s must be a string literal", len(n.Args)+1, id.Name)
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return nil, p.errAt(a.Pos(), "bad string literal %s: %v", lit.Value, err)
		}
		n.Args = append(n.Args, s)
	}
	return n, nil
}

// validate applies Traefik's checks leaf by leaf, left to right.
func validate(root *Node) error {
	var first error
	Walk(root, func(n *Node, _ bool) {
		if first == nil {
			first = validateLeaf(n)
		}
	})
	return first
}

func validateLeaf(n *Node) error {
	fail := func(format string, a ...any) error {
		return &Error{Line: n.Line, Col: n.Col, Reason: fmt.Sprintf(format, a...)}
	}
	if len(n.Args) == 0 {
		return fail("%s: no args for matcher %s", n.written, n.written)
	}
	for _, a := range n.Args {
		if a == "" {
			return fail("%s: empty args for matcher %s, %q", n.written, n.written, n.Args)
		}
	}
	want := arity[n.Name]
	okCount := false
	for _, c := range want {
		okCount = okCount || c == len(n.Args)
	}
	if !okCount {
		return fail("%s: expected %s, got %d", n.written, arguments(want), len(n.Args))
	}
	v := n.Args[0]
	switch n.Name {
	case Path, PathPrefix:
		if v[0] != '/' {
			return fail("%s: path %q does not start with a '/'", n.Name, v)
		}
	case Host, HostRegexp:
		if !isASCII(v) {
			return fail("%s: non-ASCII characters are not allowed in %q: use punycode", n.Name, v)
		}
	case ClientIP:
		if _, err := netip.ParsePrefix(v); err != nil {
			if _, err := netip.ParseAddr(v); err != nil {
				return fail("ClientIP: %q is not a valid IP or CIDR", v)
			}
		}
	}
	if re := regexpArg(n); re != "" {
		if _, err := regexp.Compile(re); err != nil {
			return fail("%s: compiling %q: %v", n.Name, re, err)
		}
	}
	return nil
}

// arguments says how many arguments a matcher takes: "1 argument", "1 or
// 2 arguments".
func arguments(counts []int) string {
	var parts []string
	for _, c := range counts {
		parts = append(parts, strconv.Itoa(c))
	}
	s := strings.Join(parts, " or ") + " argument"
	if len(counts) > 1 || counts[0] != 1 {
		s += "s"
	}
	return s
}

// regexpArg returns the regexp argument of a regexp matcher, or "".
func regexpArg(n *Node) string {
	switch n.Name {
	case HostRegexp, PathRegexp:
		return n.Args[0]
	case HeaderRegexp:
		return n.Args[1]
	case QueryRegexp:
		if len(n.Args) == 2 {
			return n.Args[1]
		}
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] > unicode.MaxASCII {
			return false
		}
	}
	return true
}
