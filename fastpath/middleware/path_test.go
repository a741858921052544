package middleware

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// The path middlewares are checked against a direct transcription of
// Traefik v3.7's own (pkg/middlewares/addprefix, stripprefix,
// stripprefixregex, replacepath, replacepathregex) on Go's net/url: the
// same request must give the same status, forwarded request URI and
// added headers. The transcriptions below are the reference.

// refResult is what a path middleware did to a request.
type refResult struct {
	status int    // 0: passed on
	uri    string // the request URI forwarded (Traefik's proxy reparses RequestURI)
	hdr    string // X-Forwarded-Prefix / X-Replaced-Path added, "" if none
}

// refRun applies a Traefik transcription to a request URI.
func refRun(t testing.TB, uri string, f func(req *http.Request) int) refResult {
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		t.Skip("not a request URI")
	}
	req := &http.Request{URL: u, RequestURI: uri, Header: http.Header{}}
	if st := f(req); st != 0 {
		return refResult{status: st}
	}
	out, err := url.ParseRequestURI(req.RequestURI)
	if err != nil {
		return refResult{status: -1}
	}
	fwd := out.EscapedPath()
	if fwd == "" {
		fwd = "/"
	}
	if out.RawQuery != "" || out.ForceQuery {
		fwd += "?" + out.RawQuery
	}
	return refResult{uri: fwd, hdr: req.Header.Get("X-Forwarded-Prefix") + req.Header.Get("X-Replaced-Path")}
}

func refLeadingSlash(s string) string {
	if s == "" || s[0] == '/' {
		return s
	}
	return "/" + s
}

func refEncodedPrefixLen(raw, prefix string) int {
	decoded, i := 0, 0
	for i < len(raw) && decoded < len(prefix) {
		if raw[i] == '%' && i+2 < len(raw) {
			i += 3
		} else {
			i++
		}
		decoded++
	}
	return i
}

// refJoin is the JoinPath check of stripPrefix and its kin.
func refJoin(req *http.Request) int {
	path := req.URL.Path
	if path != "" {
		req.URL = req.URL.JoinPath()
	}
	if path != req.URL.Path {
		return 400
	}
	return 0
}

func refAddPrefix(prefix string) func(*http.Request) int {
	return func(req *http.Request) int {
		req.URL.Path = refLeadingSlash(prefix + req.URL.Path)
		if req.URL.RawPath != "" {
			req.URL.RawPath = refLeadingSlash(prefix + req.URL.RawPath)
		}
		req.RequestURI = req.URL.RequestURI()
		return 0
	}
}

func refStripPrefix(prefixes []string, force bool) func(*http.Request) int {
	return func(req *http.Request) int {
		for _, p := range prefixes {
			p = strings.TrimSpace(p)
			if !strings.HasPrefix(req.URL.Path, p) {
				continue
			}
			rest, rawRest := strings.TrimPrefix(req.URL.Path, p), ""
			if req.URL.RawPath != "" {
				rawRest = req.URL.RawPath[refEncodedPrefixLen(req.URL.RawPath, p):]
			}
			if force {
				req.URL.Path = "/" + strings.TrimPrefix(rest, "/")
				if req.URL.RawPath != "" {
					req.URL.RawPath = "/" + strings.TrimPrefix(rawRest, "/")
				}
			} else {
				req.URL.Path = refLeadingSlash(rest)
				if req.URL.RawPath != "" {
					req.URL.RawPath = refLeadingSlash(rawRest)
				}
			}
			if st := refJoin(req); st != 0 {
				return st
			}
			req.Header.Add("X-Forwarded-Prefix", p)
			req.RequestURI = req.URL.RequestURI()
			break
		}
		return 0
	}
}

func refStripPrefixRegex(exps []string) func(*http.Request) int {
	return func(req *http.Request) int {
		for _, e := range exps {
			parts := regexp.MustCompile(strings.TrimSpace(e)).FindStringSubmatch(req.URL.Path)
			if len(parts) == 0 || len(parts[0]) == 0 || !strings.HasPrefix(req.URL.Path, parts[0]) {
				continue
			}
			prefix := parts[0]
			req.Header.Add("X-Forwarded-Prefix", prefix)
			req.URL.Path = refLeadingSlash(strings.Replace(req.URL.Path, prefix, "", 1))
			if req.URL.RawPath != "" {
				req.URL.RawPath = refLeadingSlash(req.URL.RawPath[refEncodedPrefixLen(req.URL.RawPath, prefix):])
			}
			if st := refJoin(req); st != 0 {
				return st
			}
			req.RequestURI = req.URL.RequestURI()
			break
		}
		return 0
	}
}

func refReplacePath(path string) func(*http.Request) int {
	return func(req *http.Request) int {
		cur := req.URL.RawPath
		if cur == "" {
			cur = req.URL.EscapedPath()
		}
		req.Header.Add("X-Replaced-Path", cur)
		req.URL.RawPath = path
		var err error
		if req.URL.Path, err = url.PathUnescape(path); err != nil {
			return 500
		}
		req.RequestURI = req.URL.RequestURI()
		return 0
	}
}

func refReplacePathRegex(exp, repl string) func(*http.Request) int {
	re := regexp.MustCompile(strings.TrimSpace(exp))
	repl = strings.TrimSpace(repl)
	return func(req *http.Request) int {
		cur := req.URL.RawPath
		if cur == "" {
			cur = req.URL.EscapedPath()
		}
		if !re.MatchString(cur) {
			return 0
		}
		req.Header.Add("X-Replaced-Path", cur)
		req.URL.RawPath = re.ReplaceAllString(cur, repl)
		var err error
		if req.URL.Path, err = url.PathUnescape(req.URL.RawPath); err != nil {
			return 500
		}
		req.RequestURI = req.URL.RequestURI()
		return refJoin(req)
	}
}

// run serves a request URI through mw and reports what it did.
func run(t testing.TB, mw pipeline.Middleware, uri string) refResult {
	x := pipeline.Acquire()
	defer pipeline.Release(x)
	var resp fasthttp.Response
	x.Resp = &resp
	x.Out.Header.SetRequestURI(uri)
	x.Out.Header.SetHost("h.example")
	passed := false
	mw(pipeline.HandlerFunc(func(*pipeline.Exchange) { passed = true })).Serve(x)
	if !passed {
		return refResult{status: resp.StatusCode()}
	}
	return refResult{uri: string(x.Out.Header.RequestURI()),
		hdr: string(x.Out.Header.Peek("X-Forwarded-Prefix")) + string(x.Out.Header.Peek("X-Replaced-Path"))}
}

// pathCase is a middleware and its Traefik transcription.
type pathCase struct {
	name string
	mw   func() (pipeline.Middleware, error)
	ref  func(*http.Request) int
}

var pathCases = []pathCase{
	{"addPrefix /api", AddPrefix{"/api"}.Middleware, refAddPrefix("/api")},
	{"addPrefix no slash", AddPrefix{"v1"}.Middleware, refAddPrefix("v1")},
	{"addPrefix with escape", AddPrefix{"/a%2Fb"}.Middleware, refAddPrefix("/a%2Fb")},
	{"stripPrefix", StripPrefix{Prefixes: []string{"/foo", " /bar/ "}}.Middleware, refStripPrefix([]string{"/foo", " /bar/ "}, false)},
	{"stripPrefix slash", StripPrefix{Prefixes: []string{"/"}}.Middleware, refStripPrefix([]string{"/"}, false)},
	{"stripPrefix forceSlash", StripPrefix{Prefixes: []string{"/foo"}, ForceSlash: true}.Middleware, refStripPrefix([]string{"/foo"}, true)},
	{"stripPrefix encoded", StripPrefix{Prefixes: []string{"/a/b", "/é"}}.Middleware, refStripPrefix([]string{"/a/b", "/é"}, false)},
	{"stripPrefixRegex", StripPrefixRegex{Regex: []string{"/api/v[0-9]+", "/[a-z]{3}"}}.Middleware, refStripPrefixRegex([]string{"/api/v[0-9]+", "/[a-z]{3}"})},
	{"stripPrefixRegex inner", StripPrefixRegex{Regex: []string{"b+"}}.Middleware, refStripPrefixRegex([]string{"b+"})},
	{"replacePath", ReplacePath{"/new"}.Middleware, refReplacePath("/new")},
	{"replacePath escaped", ReplacePath{"/a%2Fb c"}.Middleware, refReplacePath("/a%2Fb c")},
	{"replacePath bad escape", ReplacePath{"/a%zz"}.Middleware, refReplacePath("/a%zz")},
	{"replacePath empty", ReplacePath{""}.Middleware, refReplacePath("")},
	{"replacePathRegex", ReplacePathRegex{"^/api/(.*)", "/v2/$1"}.Middleware, refReplacePathRegex("^/api/(.*)", "/v2/$1")},
	{"replacePathRegex dots", ReplacePathRegex{"^/x/(.*)", "/y/../$1"}.Middleware, refReplacePathRegex("^/x/(.*)", "/y/../$1")},
	{"replacePathRegex bad escape", ReplacePathRegex{"^/p(.*)", "/%$1"}.Middleware, refReplacePathRegex("^/p(.*)", "/%$1")},
}

// pathURIs are request URIs as the entry point forwards them.
var pathURIs = []string{
	"/", "/foo", "/foo/", "/foo/bar", "/foobar", "/foo?x=1", "/foo/bar?", "/bar/baz", "/bar", "/api/v2/users?id=3",
	"/a%2Fb/c", "/a%2fb", "/%C3%A9t%C3%A9", "/%2e%2e/x", "/foo/%2e%2e/etc", "/api/x%20y", "/abc/def", "/bbb/b",
	"/foo%2Fbar", "/foo/..%2F", "/x/a", "/p1", "/pzz", "/api/", "/foo//bar", "/a/b%20c",
}

func TestPathMiddlewaresAgreeWithTraefik(t *testing.T) {
	for _, c := range pathCases {
		mw, err := c.mw()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, uri := range pathURIs {
			want := refRun(t, uri, c.ref)
			if got := run(t, mw, uri); got != want {
				t.Errorf("%s %s: got %+v, Traefik's %+v", c.name, uri, got, want)
			}
		}
	}
}

func FuzzPathMiddlewares(f *testing.F) {
	for _, u := range pathURIs {
		f.Add(u, uint8(0))
	}
	var mws []pipeline.Middleware
	for _, c := range pathCases {
		mw, _ := c.mw()
		mws = append(mws, mw)
	}
	f.Fuzz(func(t *testing.T, uri string, which uint8) {
		if !strings.HasPrefix(uri, "/") || strings.ContainsAny(uri, " #\x00\r\n\t") || strings.Contains(uri, "*") {
			t.Skip()
		}
		u, err := url.ParseRequestURI(uri)
		if err != nil {
			t.Skip()
		}
		uri = u.RequestURI() // as the entry point forwards it
		c := pathCases[int(which)%len(pathCases)]
		want := refRun(t, uri, c.ref)
		if got := run(t, mws[int(which)%len(mws)], uri); got != want {
			t.Errorf("%s %q: got %+v, Traefik's %+v", c.name, uri, got, want)
		}
	})
}

func TestAddPrefixEmptyIsAnError(t *testing.T) {
	if _, err := (AddPrefix{}).Middleware(); err == nil || err.Error() != "prefix cannot be empty" {
		t.Fatalf("err = %v", err)
	}
}
