package rule

import (
	"fmt"
	"regexp"
	"strings"
)

// muxKind is what a gorilla/mux template matches.
type muxKind uint8

const (
	muxHost   muxKind = iota // a host: case-insensitive, variables [^.]+
	muxPath                  // a whole path, variables [^/]+
	muxPrefix                // a path prefix
	muxQuery                 // key=value, variables .*
)

// muxRegexp is the regexp gorilla/mux (Traefik's fork, which v2 rules run
// on) builds from a template, and the template's variable names: literal
// text quoted, {name} and {name:pattern} a group of the pattern (or the
// kind's default), anchored at the start and, but for a prefix, at the
// end; hosts match case-insensitively. Its errors are mux's.
func muxRegexp(tpl string, kind muxKind) (string, []string, error) {
	idxs, err := braceIndices(tpl)
	if err != nil {
		return "", nil, err
	}
	def := "[^/]+"
	switch kind {
	case muxQuery:
		def = ".*"
	case muxHost:
		def = "[^.]+"
	}
	var b strings.Builder
	if kind == muxHost {
		b.WriteString("(?i)")
	}
	b.WriteByte('^')
	var vars []string
	end := 0
	for i := 0; i < len(idxs); i += 2 {
		raw := tpl[end:idxs[i]]
		end = idxs[i+1]
		name, patt, found := strings.Cut(tpl[idxs[i]+1:end-1], ":")
		if !found {
			patt = def
		}
		if name == "" || patt == "" {
			return "", nil, fmt.Errorf("mux: missing name or pattern in %q", tpl[idxs[i]:end])
		}
		fmt.Fprintf(&b, "%s(?P<v%d>%s)", regexp.QuoteMeta(raw), i/2, patt)
		vars = append(vars, name)
		if _, err := regexp.Compile("^" + patt + "$"); err != nil {
			return "", nil, err
		}
	}
	b.WriteString(regexp.QuoteMeta(tpl[end:]))
	if kind == muxQuery {
		if _, v, _ := strings.Cut(tpl, "="); v == "" {
			b.WriteString(def)
		}
	}
	if kind != muxPrefix {
		b.WriteByte('$')
	}
	re := b.String()
	if _, err := regexp.Compile(re); err != nil {
		return "", nil, err
	}
	return re, vars, nil
}

// braceIndices returns the first-level brace pairs of s, as mux does.
func braceIndices(s string) ([]int, error) {
	var level, idx int
	var idxs []int
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			if level++; level == 1 {
				idx = i
			}
		case '}':
			if level--; level == 0 {
				idxs = append(idxs, idx, i+1)
			} else if level < 0 {
				return nil, fmt.Errorf("mux: unbalanced braces in %q", s)
			}
		}
	}
	if level != 0 {
		return nil, fmt.Errorf("mux: unbalanced braces in %q", s)
	}
	return idxs, nil
}
