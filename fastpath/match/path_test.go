package match

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

// TestRoutingPath states the table of rules.md 3.2.
func TestRoutingPath(t *testing.T) {
	f := func(raw string, sanitize bool, want string) {
		t.Helper()
		fwd, ok := AppendForwardPath(nil, []byte(raw), sanitize)
		if !ok {
			t.Fatalf("AppendForwardPath(%q): unexpected 400", raw)
		}
		if got := string(AppendRoutingPath(nil, fwd)); got != want {
			t.Fatalf("unexpected routing path for %q; got %q; want %q", raw, got, want)
		}
	}
	f("/foo%20bar", true, "/foo bar")
	f("/foo%2Fbar", true, "/foo%2Fbar")
	f("/foo%2fbar", true, "/foo%2Fbar")
	f("/a+b", true, "/a+b")
	f("/a%2Bb", true, "/a%2Bb")
	f("/%77ith", true, "/with")
	f("/%7Euser", true, "/~user")
	f("/foo/../bar", true, "/bar")
	f("/foo/%2E%2E/bar", true, "/bar")
	f("/foo/../bar", false, "/foo/../bar")
	f("/foo/%2E%2E/bar", false, "/foo/../bar")
	f("/a//b", true, "/a/b")
	f("/a//b", false, "/a//b")
	f("", true, "/")
	f("/a/..%2Fb/", true, "/a/..%2Fb/")
	f("/a/%252E%252E/b", true, "/a/%252E%252E/b")
	f("/caf\xc3\xa9!", true, "/caf\xc3\xa9%21")
	f("/caf%C3%A9!", true, "/caf\xc3\xa9!")
	f("/x/", true, "/x/")
	f("/..", true, "/")
	f("/a/./b/.", true, "/a/b")
	f("/a/b/..", true, "/a")
	f("/a/b/../", true, "/a/")
	f("/%5C%00", true, "/\\\x00")
	f("/a{b}", true, "/a{b}") // forwarded as /a%7Bb%7D, %7B is not reserved
}

func TestForwardPath400(t *testing.T) {
	for _, raw := range []string{"/a#b", "/a%", "/a%2", "/a%zz", "a/b"} {
		if _, ok := AppendForwardPath(nil, []byte(raw), true); ok {
			t.Fatalf("AppendForwardPath(%q): expected a 400", raw)
		}
	}
}

// TestCleanPathAgainstGo compares cleanPath with Go's path.Join-based
// URL.JoinPath on many generated paths.
func TestCleanPathAgainstGo(t *testing.T) {
	parts := []string{"a", ".", "..", "", "bc", "..."}
	var gen func(prefix string, depth int)
	gen = func(prefix string, depth int) {
		p := prefix
		if p == "" {
			p = "/"
		}
		want := path.Join(p)
		if strings.HasSuffix(p, "/") && !strings.HasSuffix(want, "/") {
			want += "/"
		}
		if got := string(cleanPath([]byte(p))); got != want {
			t.Fatalf("unexpected clean of %q; got %q; want %q", p, got, want)
		}
		if depth == 0 {
			return
		}
		for _, s := range parts {
			gen(p+"/"+s, depth-1)
		}
	}
	gen("", 4)
}

func TestForwardPathAgainstGoEscaping(t *testing.T) {
	for _, raw := range []string{"/a b", "/é", "/a|b!", "/[x]", "/a'(b)*"} {
		u, err := url.Parse("http://h" + strings.ReplaceAll(raw, " ", "%20"))
		if err != nil {
			continue
		}
		fwd, ok := AppendForwardPath(nil, []byte(raw), false)
		if !ok {
			t.Fatalf("unexpected 400 for %q", raw)
		}
		_ = u
		if strings.ContainsAny(string(fwd), " |") {
			t.Fatalf("forward path %q of %q keeps bytes Go escapes", fwd, raw)
		}
	}
}

func TestCanonicalHost(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := string(AppendCanonicalHost(nil, []byte(in))); got != want {
			t.Fatalf("unexpected canonical host of %q; got %q; want %q", in, got, want)
		}
	}
	f("A.Example:8080", "a.example")
	f("a.example:", "a.example")
	f("[::1]:8443", "::1")
	f("[::1]", "::1")
	f("fe80::1", "fe80::1")
	f("example.com.", "example.com.")
	f("", "")
}
