package middleware

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"strconv"
)

// bufPredicate is buffering's retryExpression, oxy's buffer predicate
// language (vulcand/predicate, parsed as a Go expression): IsNetworkError()
// (the last answer a 502 or 504), Attempts() and ResponseCode() compared
// with ints, RequestMethod() compared with a string, joined by && and ||.
type bufPredicate func(method []byte, attempt, code int) bool

func parseBufExpression(in string) (bufPredicate, error) {
	n, err := parser.ParseExpr(in)
	if err != nil {
		return nil, err
	}
	return bufExpr(n)
}

func bufExpr(n ast.Expr) (bufPredicate, error) {
	switch n := n.(type) {
	case *ast.ParenExpr:
		return bufExpr(n.X)
	case *ast.CallExpr:
		if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "IsNetworkError" && len(n.Args) == 0 {
			return func(_ []byte, _, code int) bool {
				return code == http.StatusBadGateway || code == http.StatusGatewayTimeout
			}, nil
		}
		return nil, fmt.Errorf("expected predicate, got a call of %v", n.Fun)
	case *ast.BinaryExpr:
		if n.Op == token.LAND || n.Op == token.LOR {
			l, err := bufExpr(n.X)
			if err != nil {
				return nil, err
			}
			r, err := bufExpr(n.Y)
			if err != nil {
				return nil, err
			}
			if n.Op == token.LAND {
				return func(m []byte, a, c int) bool { return l(m, a, c) && r(m, a, c) }, nil
			}
			return func(m []byte, a, c int) bool { return l(m, a, c) || r(m, a, c) }, nil
		}
		return bufComparison(n)
	}
	return nil, fmt.Errorf("expected predicate, got %T", n)
}

// bufComparison is Attempts(), ResponseCode() or RequestMethod() compared
// with a literal of their kind (a method: == and != only).
func bufComparison(n *ast.BinaryExpr) (bufPredicate, error) {
	call, ok := n.X.(*ast.CallExpr)
	lit, ok2 := n.Y.(*ast.BasicLit)
	if !ok || !ok2 || len(call.Args) != 0 {
		return nil, fmt.Errorf("%s: unsupported arguments", n.Op)
	}
	id, _ := call.Fun.(*ast.Ident)
	if id == nil {
		return nil, fmt.Errorf("unsupported function: %T", call.Fun)
	}
	switch id.Name {
	case "RequestMethod":
		if lit.Kind != token.STRING || n.Op != token.EQL && n.Op != token.NEQ {
			return nil, fmt.Errorf("RequestMethod() compares with a string, by == or !=")
		}
		want, err := strconv.Unquote(lit.Value)
		if err != nil {
			return nil, err
		}
		eq := n.Op == token.EQL
		return func(m []byte, _, _ int) bool { return (string(m) == want) == eq }, nil
	case "Attempts", "ResponseCode":
		if lit.Kind != token.INT {
			return nil, fmt.Errorf("expected int, got %s", lit.Value)
		}
		v, err := strconv.Atoi(lit.Value)
		if err != nil {
			return nil, err
		}
		get := func(a, c int) int { return c }
		if id.Name == "Attempts" {
			get = func(a, c int) int { return a }
		}
		var cmp func(x int) bool
		switch n.Op {
		case token.EQL:
			cmp = func(x int) bool { return x == v }
		case token.NEQ:
			cmp = func(x int) bool { return x != v }
		case token.LSS:
			cmp = func(x int) bool { return x < v }
		case token.LEQ:
			cmp = func(x int) bool { return x <= v }
		case token.GTR:
			cmp = func(x int) bool { return x > v }
		case token.GEQ:
			cmp = func(x int) bool { return x >= v }
		default:
			return nil, fmt.Errorf("unsupported operator: %s", n.Op)
		}
		return func(_ []byte, a, c int) bool { return cmp(get(a, c)) }, nil
	}
	return nil, fmt.Errorf("unsupported function: %s", id.Name)
}
