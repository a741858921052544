package rule

import (
	"strconv"
	"strings"
)

// Op is the kind of a Node.
type Op uint8

// Node kinds.
const (
	OpMatcher Op = iota // a leaf: Name(Args...)
	OpAnd               // Left && Right
	OpOr                // Left || Right
	OpNot               // !Left
)

// Matcher names, canonical spelling.
const (
	Host         = "Host"
	HostRegexp   = "HostRegexp"
	Path         = "Path"
	PathPrefix   = "PathPrefix"
	PathRegexp   = "PathRegexp"
	Method       = "Method"
	Header       = "Header"
	HeaderRegexp = "HeaderRegexp"
	Query        = "Query"
	QueryRegexp  = "QueryRegexp"
	ClientIP     = "ClientIP"
)

// Node is one node of a parsed rule. Trees are never mutated after Parse
// returns and may be shared between goroutines.
type Node struct {
	Op      Op
	Name    string   // canonical matcher name (OpMatcher only)
	Args    []string // unquoted arguments (OpMatcher only)
	Left    *Node    // operand of OpNot, left operand of OpAnd/OpOr
	Right   *Node    // right operand of OpAnd/OpOr
	Col     int      // 1-based column of the node in the source line
	Line    int      // 1-based line of the node in the source
	written string   // the matcher name as written (for messages)
}

// Written is the matcher name as the rule wrote it: for a leaf of a v2
// rule (ParseV2), the v2 matcher it came from.
func (n *Node) Written() string { return n.written }

// String prints the node; see Print.
func (n *Node) String() string { return Print(n) }

// Print renders n as a rule. Arguments are written as raw (backtick) strings
// unless they contain a backtick or CR, then as Go interpreted strings.
// Parse(Print(n)) yields a tree equal to n (ignoring positions).
func Print(n *Node) string {
	var b strings.Builder
	print(&b, n, 0)
	return b.String()
}

// precedence: || 1, && 2, ! and leaves 3.
func prec(n *Node) int {
	switch n.Op {
	case OpOr:
		return 1
	case OpAnd:
		return 2
	}
	return 3
}

func print(b *strings.Builder, n *Node, parent int) {
	p := prec(n)
	paren := p < parent
	if paren {
		b.WriteByte('(')
	}
	switch n.Op {
	case OpMatcher:
		b.WriteString(n.Name)
		b.WriteByte('(')
		for i, a := range n.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quote(a))
		}
		b.WriteByte(')')
	case OpNot:
		b.WriteByte('!')
		print(b, n.Left, 3)
	case OpAnd, OpOr:
		op := " && "
		if n.Op == OpOr {
			op = " || "
		}
		// Both operators are left-associative: the right operand needs
		// parentheses when it has the same precedence.
		print(b, n.Left, p)
		b.WriteString(op)
		print(b, n.Right, p+1)
	}
	if paren {
		b.WriteByte(')')
	}
}

func quote(s string) string {
	if !strings.ContainsAny(s, "`\r") {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

// Equal reports whether a and b are the same tree, ignoring positions.
func Equal(a, b *Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Op != b.Op || a.Name != b.Name || len(a.Args) != len(b.Args) {
		return false
	}
	for i := range a.Args {
		if a.Args[i] != b.Args[i] {
			return false
		}
	}
	return Equal(a.Left, b.Left) && Equal(a.Right, b.Right)
}

// Walk calls f for every matcher leaf of n, left to right, with the number
// of negations above it.
func Walk(n *Node, f func(leaf *Node, negated bool)) {
	walk(n, false, f)
}

func walk(n *Node, neg bool, f func(*Node, bool)) {
	switch n.Op {
	case OpMatcher:
		f(n, neg)
	case OpNot:
		walk(n.Left, !neg, f)
	default:
		walk(n.Left, neg, f)
		walk(n.Right, neg, f)
	}
}
