// Package rule parses, validates and prints Traefik v3 HTTP router rules.
//
// A rule is parsed exactly as Traefik parses it: as a Go expression
// (go/parser.ParseExpr, so Go's whitespace, comments, semicolon insertion and
// string-literal forms apply), restricted to calls of the v3 matchers joined by
// &&, || and unary !, with parentheses. Each matcher name is accepted in the
// four spellings Traefik registers (as written, lower, upper, Title-of-lower).
//
// Parse returns an immutable *Node tree or an *Error naming the column and the
// reason. Print renders a tree back into a rule that parses to the same tree.
// The package uses the standard library only and is safe for concurrent use.
package rule
