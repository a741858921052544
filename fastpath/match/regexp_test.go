package match

import (
	"regexp"
	"testing"
)

func TestRegexpReductionAgreesWithRE2(t *testing.T) {
	inputs := []string{"", "/", "/api", "/api/v1", "/API/v1", "/x/api", "/r12/345", "/r12/", "\xff/api", "/\xff", "/a.b"}
	for _, tc := range []struct {
		expr   string
		kind   reKind
		prefix string
	}{
		{"/api", reContains, ""},
		{"^/api", rePrefix, "/api"},
		{"^/api$", reExact, "/api"},
		{"api$", reSuffix, ""},
		{"^/api.*", rePrefix, "/api"},
		{"(?i)^/api", reGeneric, ""},
		{"^/r12/[0-9]+$", reGeneric, "/r12/"},
		{"^/a\\.b", rePrefix, "/a.b"},
		{"(?m)^/api", reGeneric, ""},
		{"^/(?i:API)", reGeneric, "/"},
		{"^/\uFFFD", reGeneric, "/"},
		{"\uFFFD", reGeneric, ""},
		{"^(/api|/web)", reGeneric, ""}, // not looked into: conservative
		{"^x|^y", reGeneric, ""},
	} {
		re, err := CompileRegexp(tc.expr)
		if err != nil {
			t.Fatalf("CompileRegexp(%q): %v", tc.expr, err)
		}
		if re.kind != tc.kind || re.AnchoredPrefix() != tc.prefix {
			t.Errorf("%q: got kind %d prefix %q; want kind %d prefix %q", tc.expr, re.kind, re.AnchoredPrefix(), tc.kind, tc.prefix)
		}
		std := regexp.MustCompile(tc.expr)
		for _, in := range inputs {
			got, want := re.Match([]byte(in)), std.MatchString(in)
			if got != want {
				t.Errorf("%q on %q: got %v; want %v (RE2)", tc.expr, in, got, want)
			}
			if want && len(in) < len(re.prefix) || want && in[:len(re.prefix)] != re.prefix {
				t.Errorf("%q matches %q, which does not start with its anchored prefix %q", tc.expr, in, re.prefix)
			}
		}
	}
}
