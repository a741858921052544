package match

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

type reKind uint8

const (
	reGeneric  reKind = iota // run the regexp
	reContains               // unanchored literal
	rePrefix                 // ^lit
	reSuffix                 // lit$
	reExact                  // ^lit$
)

// Regexp is an RE2 search (unanchored, like Traefik's MatchString) that
// answers with a literal comparison when the expression is one.
type Regexp struct {
	kind   reKind
	lit    []byte
	prefix string
	re     *regexp.Regexp
}

// CompileRegexp compiles expr; see regexp.Compile for the syntax.
func CompileRegexp(expr string) (*Regexp, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	r := &Regexp{re: re}
	r.kind, r.lit = reduce(expr)
	r.prefix = anchoredPrefix(expr)
	return r, nil
}

// AnchoredPrefix returns the literal every matching input starts with
// ("" when the expression is not anchored at the beginning of the text by
// a case-sensitive literal). It lets an index key narrow, never decide.
func (r *Regexp) AnchoredPrefix() string { return r.prefix }

func anchoredPrefix(expr string) string {
	t, err := syntax.Parse(expr, syntax.Perl)
	if err != nil || t.Op != syntax.OpConcat || len(t.Sub) < 2 || t.Sub[0].Op != syntax.OpBeginText {
		return ""
	}
	var lit []byte
	for _, s := range t.Sub[1:] {
		if s.Op != syntax.OpLiteral || s.Flags&syntax.FoldCase != 0 {
			break
		}
		for _, c := range s.Rune {
			if c == utf8.RuneError {
				return string(lit)
			}
			lit = utf8.AppendRune(lit, c)
		}
	}
	return string(lit)
}

// plainRunes rejects U+FFFD: the regexp engine matches it against any
// invalid UTF-8 byte, which a byte comparison would not.
func plainRunes(rs []rune) bool {
	for _, c := range rs {
		if c == utf8.RuneError {
			return false
		}
	}
	return true
}

// reduce recognises lit, ^lit, lit$, ^lit$ and a redundant trailing .* in
// an unanchored-end pattern.
func reduce(expr string) (reKind, []byte) {
	t, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return reGeneric, nil
	}
	subs := []*syntax.Regexp{t}
	if t.Op == syntax.OpConcat {
		subs = t.Sub
	}
	begin, end := false, false
	if len(subs) > 0 && subs[0].Op == syntax.OpBeginText {
		begin, subs = true, subs[1:]
	}
	if len(subs) > 0 && subs[len(subs)-1].Op == syntax.OpEndText {
		end, subs = true, subs[:len(subs)-1]
	}
	if !end && len(subs) > 0 {
		last := subs[len(subs)-1]
		if last.Op == syntax.OpStar && last.Sub[0].Op == syntax.OpAnyCharNotNL {
			subs = subs[:len(subs)-1] // "x.*" finds a match exactly where "x" does
		}
	}
	var lit []byte
	for _, s := range subs {
		if s.Op != syntax.OpLiteral || s.Flags&syntax.FoldCase != 0 || !plainRunes(s.Rune) {
			return reGeneric, nil
		}
		lit = append(lit, string(s.Rune)...)
	}
	switch {
	case begin && end:
		return reExact, lit
	case begin:
		return rePrefix, lit
	case end:
		return reSuffix, lit
	}
	return reContains, lit
}

// Match reports whether the expression finds a match in b.
func (r *Regexp) Match(b []byte) bool {
	switch r.kind {
	case reContains:
		return bytes.Contains(b, r.lit)
	case rePrefix:
		return bytes.HasPrefix(b, r.lit)
	case reSuffix:
		return bytes.HasSuffix(b, r.lit)
	case reExact:
		return string(b) == string(r.lit)
	}
	return r.re.Match(b)
}

// MatchesEmpty reports whether the expression matches the empty string.
func (r *Regexp) MatchesEmpty() bool { return r.re.MatchString("") }

// String returns the source expression.
func (r *Regexp) String() string { return r.re.String() }
