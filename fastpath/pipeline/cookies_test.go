package pipeline

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/h2"
)

// readRequestHeader parses raw header lines as the front end does.
func readRequestHeader(t testing.TB, lines ...string) *fasthttp.RequestHeader {
	t.Helper()
	var h fasthttp.RequestHeader
	raw := "GET / HTTP/1.1\r\nHost: x.example\r\n" + strings.Join(lines, "\r\n")
	if len(lines) > 0 {
		raw += "\r\n"
	}
	if err := h.Read(bufio.NewReader(strings.NewReader(raw + "\r\n"))); err != nil {
		t.Fatal(err)
	}
	return &h
}

// TestRequestCookieEqualsGo: RequestCookie gives what Go's
// Request.Cookie gives (Traefik's sticky lookup), for fixed and random
// Cookie lines, and leaves the header as it was.
func TestRequestCookieEqualsGo(t *testing.T) {
	cases := [][]string{
		{"pin=abc"}, {"a=1;pin=2"}, {"a=1; pin=\"q\""}, {"pin=\"q"}, {" pin = v "}, {"pin= v"},
		{"pin=a b"}, {"pin=a\\b"}, {"pin=", "pin=later"}, {"x=1", "pin=2; pin=3"}, {"pin"}, {"PIN=1"},
		{"p(in=1; pin=ok"}, {";;pin=1;"}, {"pin=é"}, {"pin=\"\""}, {},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"pin", "=", ";", " ", "\"", "a", "\\", "\t", "p", "é", "(", ","}
	for range 3000 {
		var lines []string
		for range 1 + rng.IntN(3) {
			var b strings.Builder
			for range rng.IntN(10) {
				b.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			lines = append(lines, b.String())
		}
		cases = append(cases, lines)
	}
	for _, lines := range cases {
		var cl []string
		for _, l := range lines {
			cl = append(cl, "Cookie: "+l)
		}
		h := readRequestHeader(t, cl...)
		before := string(h.Header())
		got, ok := RequestCookie(h, "pin")
		// Go's server keeps each line as the client sent it, trimmed as
		// header values are: ask Go the same of those values.
		gr := &http.Request{Header: http.Header{}}
		for _, v := range h.PeekAll("Cookie") {
			gr.Header.Add("Cookie", string(v))
		}
		want, err := gr.Cookie("pin")
		if ok != (err == nil) || ok && string(got) != want.Value {
			t.Errorf("%q: got %q %v, Go %v %v", lines, got, ok, want, err)
		}
		if after := string(h.Header()); after != before {
			t.Errorf("%q: the header changed:\n%q\n%q", lines, before, after)
		}
	}
}

// TestEachRequestHeaderKeepsCookies: walking a request's headers leaves
// its Cookie lines to be forwarded as they came, and yields each of
// them and every other header.
func TestEachRequestHeaderKeepsCookies(t *testing.T) {
	for _, lines := range [][]string{
		{"Accept: */*", "X-A: 1"},
		{"Cookie: a=1;b=2", "X-A: 1", "Cookie: x=\"q\"; y = 2 "},
		{"Cookie: ", "User-Agent: t"},
	} {
		h := readRequestHeader(t, lines...)
		h.SetCanonical([]byte("X-Added"), []byte("v"))
		before := string(h.Header())
		seen := map[string][]string{}
		EachRequestHeader(h, func(k, v []byte) { seen[string(k)] = append(seen[string(k)], string(v)) })
		if after := string(h.Header()); after != before {
			t.Errorf("%q: the header changed:\n%q\n%q", lines, before, after)
		}
		want := map[string][]string{"Host": {"x.example"}, "X-Added": {"v"}}
		for _, l := range lines {
			k, v, _ := strings.Cut(l, ":")
			want[k] = append(want[k], strings.TrimSpace(v))
		}
		for k, vs := range want {
			if strings.Join(seen[k], "|") != strings.Join(vs, "|") {
				t.Errorf("%q: %s seen %q, want %q", lines, k, seen[k], vs)
			}
		}
		if len(seen) != len(want) {
			t.Errorf("%q: seen %v, want %v", lines, seen, want)
		}
	}
}

// TestBeginHTTP2Repeated: an HTTP/2 request's cookie fields become one
// Cookie line joined with "; ", its first user-agent is the one sent and
// every content-type goes on, in order: what Go's server and transport
// (Traefik's) make of them.
func TestBeginHTTP2Repeated(t *testing.T) {
	f := func(n, v string) h2.Field { return h2.Field{Name: []byte(n), Value: []byte(v)} }
	r := &h2.Request{Method: []byte("GET"), Scheme: []byte("https"), Authority: []byte("a.example"), Path: []byte("/p"),
		ContentLength: -1, Fields: []h2.Field{f("cookie", "a=1"), f("user-agent", "one"), f("content-type", "text/plain"),
			f("cookie", `x="q"`), f("user-agent", "two"), f("content-type", "text/html"), f("cookie", "y = 2")}}
	x := Acquire()
	defer Release(x)
	if !x.BeginHTTP2(r, nil, &EntryPoint{ServerName: []byte("s")}, netip.MustParseAddr("192.0.2.1")) {
		t.Fatal("refused")
	}
	h := &x.Out.Header
	if got := string(h.UserAgent()); got != "one" {
		t.Errorf("User-Agent %q, want the first", got)
	}
	var ct []string
	EachRequestHeader(h, func(k, v []byte) {
		if string(k) == "Content-Type" {
			ct = append(ct, string(v))
		}
	})
	if strings.Join(ct, "|") != "text/plain|text/html" {
		t.Errorf("Content-Type lines %q", ct)
	}
	if got := h.PeekAll("Cookie"); len(got) != 1 || string(got[0]) != `a=1; x="q"; y = 2` {
		t.Errorf("Cookie lines %q", got)
	}
	if s := h.String(); !strings.Contains(s, "\r\nCookie: a=1; x=\"q\"; y = 2\r\n") || strings.Count(s, "Content-Type:") != 2 {
		t.Errorf("sent as:\n%s", s)
	}
}

// TestSetReplacesEveryLine: SetResponse and SetRequest leave one line of
// the name, as Go's Header.Set, where fasthttp's SetCanonical replaces
// the first; ResponseRepeats finds a repeated name.
func TestSetReplacesEveryLine(t *testing.T) {
	var resp fasthttp.ResponseHeader
	raw := "HTTP/1.1 200 OK\r\nX-Frame-Options: SAMEORIGIN\r\nX-A: 1\r\nX-Frame-Options: ALLOW-FROM x\r\nContent-Length: 0\r\n\r\n"
	if err := resp.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	rep := ResponseRepeats(&resp)
	if !rep {
		t.Fatal("two X-Frame-Options lines not seen")
	}
	SetResponse(&resp, []byte("X-Frame-Options"), []byte("DENY"), rep)
	if s := resp.String(); strings.Count(s, "X-Frame-Options:") != 1 || !strings.Contains(s, "X-Frame-Options: DENY\r\n") {
		t.Errorf("after SetResponse:\n%s", s)
	}
	if ResponseRepeats(&resp) {
		t.Error("a repeat after the set")
	}
	var plain fasthttp.ResponseHeader
	plain.Set("X-A", "1")
	plain.Set("X-B", "2")
	if ResponseRepeats(&plain) {
		t.Error("a repeat in a header without one")
	}
	req := readRequestHeader(t, "X-User: a", "X-Other: 1", "X-User: b")
	SetRequest(req, []byte("X-User"), []byte("c"))
	if got := req.PeekAll("X-User"); len(got) != 1 || string(got[0]) != "c" {
		t.Errorf("X-User lines after SetRequest: %q", got)
	}
}

// TestSetNamesRepeats holds SetNames.Repeats to counting: true exactly
// when one of its names has two lines, on random responses (other names
// repeated, cookies, special fields), and ResponseRepeats' answer past
// 64 names.
func TestSetNamesRepeats(t *testing.T) {
	pool := []string{"X-Frame-Options", "Vary", "X-A", "X-B", "Referrer-Policy", "Set-Cookie", "Server", "Content-Type", "X-Served-By", "Xa", "Ax"}
	set := NewSetNames([]byte("X-Frame-Options"), []byte("Vary"), []byte("Set-Cookie"), []byte("X-Served-By"), []byte("Vary"))
	rnd := rand.New(rand.NewPCG(7, 9))
	for i := range 3000 {
		var b strings.Builder
		b.WriteString("HTTP/1.1 200 OK\r\n")
		for range rnd.IntN(8) {
			n := pool[rnd.IntN(len(pool))]
			fmt.Fprintf(&b, "%s: v%d=1\r\n", n, rnd.IntN(3))
		}
		b.WriteString("Content-Length: 0\r\n\r\n")
		var h fasthttp.ResponseHeader
		if err := h.Read(bufio.NewReader(strings.NewReader(b.String()))); err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for k := range h.All() {
			counts[string(k)]++
		}
		want := counts["X-Frame-Options"] > 1 || counts["Vary"] > 1 || counts["Set-Cookie"] > 1 || counts["X-Served-By"] > 1
		if got := set.Repeats(&h); got != want {
			t.Fatalf("case %d: Repeats %v, want %v for\n%s", i, got, want, b.String())
		}
	}
	var h fasthttp.ResponseHeader
	h.Add("X-A", "1")
	h.Add("X-A", "2")
	if none := NewSetNames(); none.Repeats(&h) {
		t.Error("no names, yet a repeat")
	}
	var many [][]byte
	for i := range 70 {
		many = append(many, fmt.Appendf(nil, "X-N%d", i))
	}
	if wide := NewSetNames(many...); !wide.Repeats(&h) {
		t.Error("past 64 names the answer is not ResponseRepeats'")
	}
}
