package rule

import (
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		n, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): unexpected error %v", in, err)
		}
		if got := Print(n); got != want {
			t.Fatalf("unexpected print of %q; got %q; want %q", in, got, want)
		}
	}
	f("Host(`example.org`)", "Host(`example.org`)")
	f(`Host("example.org")`, "Host(`example.org`)")
	// Four spellings per name.
	f("host(`a`) && HOST(`b`) && Host(`c`)", "Host(`a`) && Host(`b`) && Host(`c`)")
	f("Pathprefix(`/a`) || pathprefix(`/b`) || PATHPREFIX(`/c`)", "PathPrefix(`/a`) || PathPrefix(`/b`) || PathPrefix(`/c`)")
	f("Clientip(`10.0.0.0/8`) && Hostregexp(`x`) && Headerregexp(`K`, `v`) && Queryregexp(`k`)",
		"ClientIP(`10.0.0.0/8`) && HostRegexp(`x`) && HeaderRegexp(`K`, `v`) && QueryRegexp(`k`)")
	// Go precedence: && binds tighter than ||; ! tightest.
	f("Host(`a`) || Host(`b`) && Host(`c`)", "Host(`a`) || Host(`b`) && Host(`c`)")
	f("(Host(`a`) || Host(`b`)) && Host(`c`)", "(Host(`a`) || Host(`b`)) && Host(`c`)")
	f("Host(`a`) || (Host(`b`) || Host(`c`))", "Host(`a`) || (Host(`b`) || Host(`c`))")
	f("!!Host(`a`)", "!!Host(`a`)")
	f("!(Host(`a`) && Path(`/`))", "!(Host(`a`) && Path(`/`))")
	// Trailing comma, comments, newline after an operator, one trailing newline.
	f("Host(`a`,)", "Host(`a`)")
	f("Host(`a`) /* c */ && // line\nPath(`/`)", "Host(`a`) && Path(`/`)")
	f("Host(`a`) &&\nPath(`/`)\n", "Host(`a`) && Path(`/`)")
	// Interpreted strings: escapes processed; a backtick forces a quoted print.
	f(`PathRegexp("^/a\\.b$")`, "PathRegexp(`^/a\\.b$`)")
	f(`Header("X-A", "a`+"`"+`b")`, "Header(`X-A`, \"a`b\")")
	f("Query(`foo=bar`)", "Query(`foo=bar`)")
	f("ClientIP(`::1`)", "ClientIP(`::1`)")
}

func TestParseInvalid(t *testing.T) {
	f := func(in, wantReason string) {
		t.Helper()
		_, err := Parse(in)
		if err == nil {
			t.Fatalf("Parse(%q): expected an error", in)
		}
		e, ok := err.(*Error)
		if !ok || e.Col < 1 {
			t.Fatalf("Parse(%q): error %v has no column", in, err)
		}
		if !strings.Contains(err.Error(), wantReason) {
			t.Fatalf("unexpected error for %q; got %q; want it to contain %q", in, err, wantReason)
		}
	}
	f("", "expected operand")
	f("Host", "Host is not defined")
	f("`a`", "unexpected literal")
	f("pathPrefix(`/a`)", "unsupported function: pathPrefix")
	f("ClientIp(`1.2.3.4`)", "unsupported function: ClientIp")
	f("Headers(`a`, `b`)", "unsupported function: Headers")
	f("HostHeader(`a`)", "unsupported function: HostHeader")
	f("Host(`a`) & Host(`b`)", "& is not supported")
	f("Host(`a`) == Host(`b`)", "== is not supported")
	f("-Host(`a`)", "- is not supported")
	f("Host(`a`)\n&& Path(`/`)", "expected 'EOF'")
	f("Host(`a`);", "expected 'EOF'")
	f("Host('a')", "must be a string literal")
	f("Host('a.com')", "rune literal")
	f("Host(example)", "must be a string literal")
	f("Host(1)", "must be a string literal")
	f("Host((`a`))", "must be a string literal")
	f("Host(`a` + `b`)", "must be a string literal")
	f(`Host("a\.com")`, "unknown escape")
	f("Host()", "no args for matcher Host")
	f("Host(``)", "empty args for matcher Host")
	f("Host(`a`, `b`)", "col 1: Host: expected 1 argument, got 2, in \"Host(`a`, `b`)\"")
	f("Header(`a`)", "Header: expected 2 arguments, got 1, in \"Header(`a`)\"")
	f("Query(`a`, `b`, `c`)", "Query: expected 1 or 2 arguments, got 3")
	f("PathPrefix(`/a`) && host(`a`, `b`)", "col 21: host: expected 1 argument, got 2, in \"PathPrefix(`/a`) && host(`a`, `b`)\"")
	f("Path(`a`)", "does not start with a '/'")
	f("PathPrefix(`a`)", "does not start with a '/'")
	f("Host(`café.com`)", "non-ASCII")
	f("PathRegexp(`(?=a)`)", "compiling")
	f("HeaderRegexp(`K`, `(`)", "compiling")
	f("ClientIP(`10.0.0.300`)", "not a valid IP or CIDR")
	// Validation is left to right: the first bad leaf is reported.
	f("Host(`a`) && Path(`x`) && Host()", "does not start with a '/'")
}

func TestParseColumn(t *testing.T) {
	f := func(in string, wantCol int) {
		t.Helper()
		_, err := Parse(in)
		e, ok := err.(*Error)
		if !ok {
			t.Fatalf("Parse(%q): unexpected error %v", in, err)
		}
		if e.Col != wantCol {
			t.Fatalf("unexpected column for %q; got %d; want %d (%v)", in, e.Col, wantCol, err)
		}
	}
	f("Host(`a`) && pathPrefix(`/`)", 14)
	f("Host(`a`) && Path(`x`)", 14)
	f("Host(`a`) | Host(`b`)", 11)
}

func FuzzParsePrintParse(f *testing.F) {
	for _, s := range []string{
		"Host(`a`) && PathPrefix(`/b`)", "!(Query(`k`, `v`) || Method(`GET`))",
		"HeaderRegexp(`X`, \"a`b\") && ClientIP(`::1`)", "Host(`a`,) /* c */ || Path(`/\r`)",
		"PathRegexp(`^/[a-z]+$`) && !!HostRegexp(`x`)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := Parse(in)
		if err != nil {
			return
		}
		out := Print(n)
		m, err := Parse(out)
		if err != nil {
			t.Fatalf("printed rule %q (from %q) does not parse: %v", out, in, err)
		}
		if !Equal(n, m) {
			t.Fatalf("round trip changed the tree: %q -> %q", in, out)
		}
	})
}
