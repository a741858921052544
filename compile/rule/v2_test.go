package rule

import (
	"strings"
	"testing"
)

// TestParseV2 states what each v2 matcher becomes (Traefik v3.7's
// matcher_v2.go over containous/mux), printed as the v3 tree.
func TestParseV2(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Host(`Example.com`)", "Host(`example.com`)"},
		{"Host(`a.com`, `b.com`)", "Host(`a.com`) || Host(`b.com`)"},
		{"HostHeader(`a.com`)", "Host(`a.com`)"},
		{"hostheader(`a.com`) && HOST(`b`)", "Host(`a.com`) && Host(`b`)"},
		{"Host(`*.a.com`)", "HostRegexp(`(?i)^\\*\\.a\\.com$`)"},
		{"HostRegexp(`example.com`, `Example.org`)", "Host(`example.com`) || Host(`example.org`)"},
		{"HostRegexp(`(example.com`)", "Host(`(example.com`)"},
		{"HostRegexp(`{sub:[a-z]+}.example.com`)", "HostRegexp(`(?i)^(?P<v0>[a-z]+)\\.example\\.com$`)"},
		{"HostRegexp(`{sub}.{dom}.com`)", "HostRegexp(`(?i)^(?P<v0>[^.]+)\\.(?P<v1>[^.]+)\\.com$`)"},
		{"Path(`/a`, `/b`)", "Path(`/a`) || Path(`/b`)"},
		{"Path(`/a/{id:[0-9]+}`)", "PathRegexp(`^/a/(?P<v0>[0-9]+)$`)"},
		{"PathPrefix(`/api`)", "PathPrefix(`/api`)"},
		{"PathPrefix(`/u/{name}`)", "PathRegexp(`^/u/(?P<v0>[^/]+)`)"},
		{"Path(`/a.b`)", "Path(`/a.b`)"},
		{"Method(`get`, `Post`)", "Method(`GET`) || Method(`POST`)"},
		{"Headers(`x-a`, `1`, `X-B`, `2`)", "Header(`X-A`, `1`) && Header(`X-B`, `2`)"},
		{"Headers(`X-A`, `1`, `x-a`, `2`)", "Header(`X-A`, `2`)"},
		{"HeadersRegexp(`X-A`, `^1`)", "HeaderRegexp(`X-A`, `^1`)"},
		{"Query(`a=1`, `b=`)", "QueryV2(`a`, `^a=1$`) && QueryV2(`b`, `^b=.*$`)"},
		{"Query(`a`, `b`)", "QueryV2(`a`, `^a=b$`)"},
		{"Query(`id={id:[0-9]+}`)", "QueryV2(`id`, `^id=(?P<v0>[0-9]+)$`)"},
		{"Query(`q=a=b`)", "QueryV2(`q`, `^q=a=b$`)"},
		{"ClientIP(`10.0.0.0/8`, `::1`)", "ClientIP(`10.0.0.0/8`) || ClientIP(`::1`)"},
		{"!Host(`a`, `b`) && (Path(`/x`) || Method(`GET`))", "!(Host(`a`) || Host(`b`)) && (Path(`/x`) || Method(`GET`))"},
	} {
		n, err := ParseV2(tc.in)
		if err != nil {
			t.Errorf("ParseV2(%q): %v", tc.in, err)
			continue
		}
		if got := Print(n); got != tc.want {
			t.Errorf("ParseV2(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestParseV2Errors: the rules Traefik refuses in v2 syntax, with its
// reason; and the v3-only and v2-only matchers refused by the other.
func TestParseV2Errors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Host()", "no args for matcher Host"},
		{"Host(``)", "empty args for matcher Host"},
		{"Host(`🦭.com`)", "non-ASCII characters are not allowed"},
		{"HostRegexp(`🦭.com`)", "non-ASCII characters are not allowed"},
		{"HostRegexp(`{sub:[a-z]+.example.com`)", "mux: unbalanced braces"},
		{"HostRegexp(`{:[a-z]+}.com`)", "mux: missing name or pattern"},
		{"Path(`a`)", "mux: path must start with a slash"},
		{"PathPrefix(`/{id:(}`)", "missing closing )"},
		{"Headers(`X-A`)", "mux: number of parameters must be multiple of 2, got [X-A]"},
		{"Headers(`X-A`, ``)", "empty args"},
		{"HeadersRegexp(`X-A`, `(`)", "missing closing )"},
		{"Query(`a`)", "mux: number of parameters must be multiple of 2, got [a]"},
		{"Query(`a={x}`, `b={x}`)", "duplicated route variable"},
		{"ClientIP(`10.0.0.300`)", "could not initialize IP Checker"},
		{"Header(`X-A`, `1`)", "unsupported function: Header"},
		{"PathRegexp(`^/a`)", "unsupported function: PathRegexp"},
		{"Host(`a`) && QueryV2(`a`, `b`)", "unsupported function: QueryV2"},
	} {
		_, err := ParseV2(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseV2(%q): %v, want an error with %q", tc.in, err, tc.want)
		}
	}
	// v2 matchers are not v3's.
	for _, in := range []string{"Headers(`X-A`, `1`)", "HostHeader(`a`)", "Host(`a`, `b`)", "QueryV2(`a`, `^a=b$`)"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) (v3) accepted a v2-only rule", in)
		}
	}
}

// parseDesugared reads what Print writes of a ParseV2 tree: v3 plus
// QueryV2.
func parseDesugared(s string) (*Node, error) {
	names := map[string]string{QueryV2: QueryV2}
	for k, v := range spellings {
		names[k] = v
	}
	return parseExpr(s, names)
}

// FuzzParseV2Print: a v2 rule that parses prints as a tree that reads back
// equal, and parsing never panics.
func FuzzParseV2Print(f *testing.F) {
	for _, s := range []string{
		"Host(`a`, `b`) && PathPrefix(`/{x:[0-9]+}`)", "!(Query(`k=v`, `j`) || Method(`GET`, `put`))",
		"HeadersRegexp(`X`, \"a`b\") && ClientIP(`::1`, `10.0.0.0/8`)", "HostRegexp(`{a}.{b:x|y}.c`) || Path(`/\r`)",
		"HostHeader(`*.a`) && Headers(`a`, `1`, `A`, `2`)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := ParseV2(in)
		if err != nil {
			return
		}
		out := Print(n)
		m, err := parseDesugared(out)
		if err != nil {
			t.Fatalf("ParseV2(%q) printed %q, which does not parse: %v", in, out, err)
		}
		if !Equal(n, m) {
			t.Fatalf("ParseV2(%q) printed %q, which parses to %q", in, out, Print(m))
		}
	})
}
