package middleware

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
)

// The circuit breaker's expression language is vulcand/predicate's, as
// oxy's cbreaker defines it: calls of NetworkErrorRatio(),
// ResponseCodeRatio(a, b, c, d) and LatencyAtQuantileMS(q), compared
// (==, !=, <, <=, >, >=) with a number, joined by && and ||, in
// parentheses if wished. Like predicate, it is parsed as a Go expression;
// a ratio (a float) compares with a float literal only and a latency (an
// int) with an int literal only, as oxy checks them.

// cbPredicate reads the breaker's metrics.
type cbPredicate func(m *cbMetrics) bool

// cbExpr is a parsed expression and what it needs recorded.
type cbExpr struct {
	pred      cbPredicate
	latencies bool // LatencyAtQuantileMS is used: latencies are recorded
	codes     bool // ResponseCodeRatio is used: status codes are counted
}

func parseCBExpression(in string) (*cbExpr, error) {
	node, err := parser.ParseExpr(in)
	if err != nil {
		return nil, err
	}
	e := &cbExpr{}
	p, err := e.predicate(node)
	if err != nil {
		return nil, err
	}
	e.pred = p
	return e, nil
}

func (e *cbExpr) predicate(n ast.Expr) (cbPredicate, error) {
	switch n := n.(type) {
	case *ast.ParenExpr:
		return e.predicate(n.X)
	case *ast.BinaryExpr:
		switch n.Op {
		case token.LAND, token.LOR:
			l, err := e.predicate(n.X)
			if err != nil {
				return nil, err
			}
			r, err := e.predicate(n.Y)
			if err != nil {
				return nil, err
			}
			if n.Op == token.LAND {
				return func(m *cbMetrics) bool { return l(m) && r(m) }, nil
			}
			return func(m *cbMetrics) bool { return l(m) || r(m) }, nil
		case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
			return e.comparison(n)
		}
		return nil, fmt.Errorf("unsupported operator: %s", n.Op)
	}
	return nil, fmt.Errorf("expected predicate, got %T", n)
}

// comparison is a metric compared with a literal.
func (e *cbExpr) comparison(n *ast.BinaryExpr) (cbPredicate, error) {
	call, ok := n.X.(*ast.CallExpr)
	if !ok {
		return nil, fmt.Errorf("%s: unsupported argument: %T", n.Op, n.X)
	}
	lit, ok := n.Y.(*ast.BasicLit)
	if !ok {
		return nil, fmt.Errorf("%s: the right side must be a number", n.Op)
	}
	fn, ok := call.Fun.(*ast.Ident)
	if !ok {
		return nil, fmt.Errorf("unsupported function: %T", call.Fun)
	}
	args, err := literals(call.Args)
	if err != nil {
		return nil, err
	}
	var isFloat bool
	var metric func(m *cbMetrics) float64
	switch fn.Name {
	case "NetworkErrorRatio":
		if len(args) != 0 {
			return nil, fmt.Errorf("NetworkErrorRatio: expected 0 arguments, got %d", len(args))
		}
		isFloat, metric = true, (*cbMetrics).networkErrorRatio
	case "ResponseCodeRatio":
		if len(args) != 4 || !allInts(call.Args) {
			return nil, fmt.Errorf("ResponseCodeRatio: expected 4 int arguments")
		}
		a, b, c, d := int(args[0]), int(args[1]), int(args[2]), int(args[3])
		e.codes = true
		isFloat, metric = true, func(m *cbMetrics) float64 { return m.responseCodeRatio(a, b, c, d) }
	case "LatencyAtQuantileMS":
		if len(args) != 1 || call.Args[0].(*ast.BasicLit).Kind != token.FLOAT {
			return nil, fmt.Errorf("LatencyAtQuantileMS: expected 1 float64 argument (50.0, not 50)")
		}
		q := args[0]
		e.latencies = true
		metric = func(m *cbMetrics) float64 { return float64(m.latencyAtQuantileMS(q)) }
	default:
		return nil, fmt.Errorf("unsupported function: %s", fn.Name)
	}
	litIsFloat := lit.Kind == token.FLOAT
	if lit.Kind != token.INT && lit.Kind != token.FLOAT || litIsFloat != isFloat {
		want := "int"
		if isFloat {
			want = "float64"
		}
		return nil, fmt.Errorf("expected %s, got %s", want, lit.Value)
	}
	v, err := strconv.ParseFloat(lit.Value, 64)
	if err != nil {
		return nil, err
	}
	switch n.Op {
	case token.EQL:
		return func(m *cbMetrics) bool { return metric(m) == v }, nil
	case token.NEQ:
		return func(m *cbMetrics) bool { return metric(m) != v }, nil
	case token.LSS:
		return func(m *cbMetrics) bool { return metric(m) < v }, nil
	case token.LEQ:
		return func(m *cbMetrics) bool { return metric(m) <= v }, nil
	case token.GTR:
		return func(m *cbMetrics) bool { return metric(m) > v }, nil
	}
	return func(m *cbMetrics) bool { return metric(m) >= v }, nil
}

// literals are a call's arguments, which must be number literals.
func literals(args []ast.Expr) ([]float64, error) {
	out := make([]float64, 0, len(args))
	for _, a := range args {
		lit, ok := a.(*ast.BasicLit)
		if !ok || lit.Kind != token.INT && lit.Kind != token.FLOAT {
			return nil, fmt.Errorf("unsupported argument: %T", a)
		}
		v, err := strconv.ParseFloat(lit.Value, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func allInts(args []ast.Expr) bool {
	for _, a := range args {
		if lit, ok := a.(*ast.BasicLit); !ok || lit.Kind != token.INT {
			return false
		}
	}
	return true
}
