package main

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// v2Routes are IngressRoute routes in Traefik v2's syntax (one backend
// each, answering with its name), with Traefik's v2 matcher cases
// (pkg/muxer/http/matcher_v2_test.go) in mind.
var v2Routes = []struct{ name, match string }{
	{"hosts", "Host(`example.com`, `Example.org`) && PathPrefix(`/h`)"},
	{"hostheader", "HostHeader(`hh.example`)"},
	{"hostregexp", "HostRegexp(`{sub:[a-z]+}.hr.example`)"},
	{"hostregexp-literal", "HostRegexp(`lit.example`)"},
	{"insensitive", "HostRegexp(`{dummy:[a-z-]+\\.bar\\.com}`)"},
	{"path", "Host(`p.example`) && Path(`/p/{id:[0-9]+}`, `/p/x`)"},
	{"prefix", "Host(`p.example`) && PathPrefix(`/pp/{name}/`)"},
	{"method", "Host(`m.example`) && Method(`put`, `DELETE`)"},
	{"headers", "Host(`hd.example`) && Headers(`X-A`, `1`, `x-b`, `2`)"},
	{"headersregexp", "Host(`hd.example`) && HeadersRegexp(`X-A`, `^ab`)"},
	{"query", "Host(`q.example`) && Query(`a=1`, `b=`)"},
	{"queryfirst", "Host(`q.example`) && Query(`k={v:[0-9]+}`)"},
	{"clientip", "Host(`ip.example`) && ClientIP(`127.0.0.1`, `10.0.0.0/8`)"},
	{"notip", "Host(`ip.example`) && !ClientIP(`127.0.0.0/8`)"},
}

// v2Requests: method, host, target, a header or "", the route that
// answers ("" for 404).
var v2Requests = []struct{ method, host, target, header, want string }{
	{"GET", "example.com", "/h", "", "hosts"},
	{"GET", "EXAMPLE.org", "/h/x", "", "hosts"},
	{"GET", "example.com:8080", "/h", "", "hosts"},
	{"GET", "example.net", "/h", "", ""},
	{"GET", "hh.example", "/", "", "hostheader"},
	{"GET", "abc.hr.example", "/", "", "hostregexp"},
	{"GET", "ABC.hr.example", "/", "", "hostregexp"},
	{"GET", "a1.hr.example", "/", "", ""},
	{"GET", "x.y.hr.example", "/", "", ""},
	{"GET", "LIT.example", "/", "", "hostregexp-literal"},
	{"GET", "FOO.bar.com", "/", "", "insensitive"},
	{"GET", "fooubar.com", "/", "", ""},
	{"GET", "p.example", "/p/123", "", "path"},
	{"GET", "p.example", "/p/x", "", "path"},
	{"GET", "p.example", "/p/12a", "", ""},
	{"GET", "p.example", "/p/123/", "", ""},
	{"GET", "p.example", "/pp/bob/", "", "prefix"},
	{"GET", "p.example", "/pp/bob/more", "", "prefix"},
	{"GET", "p.example", "/pp/bob", "", ""},
	{"PUT", "m.example", "/", "", "method"},
	{"DELETE", "m.example", "/", "", "method"},
	{"GET", "m.example", "/", "", ""},
	{"GET", "hd.example", "/", "X-A: 1|X-B: 2", "headers"},
	{"GET", "hd.example", "/", "X-A: 1", ""},
	{"GET", "hd.example", "/", "X-A: abc", "headersregexp"},
	{"GET", "hd.example", "/", "X-A: xab", ""},
	{"GET", "q.example", "/?a=1&b=", "", "query"},
	{"GET", "q.example", "/?a=1&b=zz", "", "query"},
	{"GET", "q.example", "/?a=1", "", ""},
	{"GET", "q.example", "/?a=2&b=1", "", ""},
	{"GET", "q.example", "/?k=12", "", "queryfirst"},
	{"GET", "q.example", "/?k=12&k=x", "", "queryfirst"},
	{"GET", "q.example", "/?k=x&k=12", "", ""}, // v2 looks at the first value only
	{"GET", "ip.example", "/", "", "clientip"},
}

// TestBinaryV2Rules: routes with syntax: v2 served through the binary
// over HTTP/1.1 and h2c, beside a v3 route; and --core.defaultRuleSyntax=v2
// reading routes without a syntax field as v2 (issue 26).
func TestBinaryV2Rules(t *testing.T) {
	dir := t.TempDir()
	var yaml strings.Builder
	yaml.WriteString("apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: v2, namespace: e2e}\nspec:\n  routes:\n")
	for _, r := range v2Routes {
		port := namedBackend(t, "127.0.0.1", r.name)
		write(t, filepath.Join(dir, r.name+".yaml"), manifests(r.name, port, "127.0.0.1"))
		fmt.Fprintf(&yaml, "  - {match: %q, syntax: v2, services: [{name: %s, port: 80}]}\n", r.match, r.name)
	}
	v3 := namedBackend(t, "127.0.0.1", "v3")
	write(t, filepath.Join(dir, "v3.yaml"), manifests("v3", v3, "127.0.0.1")+"---\n"+
		routeYAML("v3", "v3.example", "{name: v3, port: 80}"))
	write(t, filepath.Join(dir, "v2.yaml"), yaml.String())
	p := startSluice(t, dir)
	eventually(t, p.addr, "v3.example", "/", 200, "v3 /")
	if strings.Contains(p.log(), "route disabled") {
		t.Fatalf("a v2 route is disabled:\n%s", p.log())
	}
	for _, proto := range []struct {
		name string
		c    *http.Client
	}{{"HTTP/1.1", http.DefaultClient}, {"h2c", h2cHTTPClient()}} {
		for _, rq := range v2Requests {
			got := v2Do(t, proto.c, p.addr, rq.method, rq.host, rq.target, rq.header)
			if got != rq.want {
				t.Errorf("%s %s %s%s [%s]: served by %q, want %q", proto.name, rq.method, rq.host, rq.target, rq.header, got, rq.want)
			}
		}
	}

	// The same rule without a syntax field: v3 reads it (and refuses
	// HostHeader), --core.defaultRuleSyntax=v2 reads it as v2.
	dir2 := t.TempDir()
	port := namedBackend(t, "127.0.0.1", "dflt")
	write(t, filepath.Join(dir2, "r.yaml"), manifests("dflt", port, "127.0.0.1")+"---\n"+
		"apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: d, namespace: e2e}\nspec:\n  routes:\n"+
		"  - {match: \"HostHeader(`d.example`, `e.example`)\", services: [{name: dflt, port: 80}]}\n")
	p3 := startSluice(t, dir2)
	eventually(t, p3.addr, "e.example", "/", 404, "")
	if !strings.Contains(p3.log(), "unsupported function: HostHeader") {
		t.Errorf("v3 did not refuse HostHeader:\n%s", p3.log())
	}
	p2 := startSluice(t, dir2, "--core.defaultRuleSyntax=v2")
	eventually(t, p2.addr, "e.example", "/", 200, "dflt /")
}

// v2Do sends one request and returns the name of the backend that
// answered ("" for a 404).
func v2Do(t *testing.T, c *http.Client, addr, method, host, target, header string) string {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+addr+target, nil)
	req.Host = host
	for _, h := range strings.Split(header, "|") {
		if k, v, ok := strings.Cut(h, ": "); ok {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, host, target, err)
	}
	defer resp.Body.Close()
	b := readBody(t, resp)
	if resp.StatusCode == 404 {
		return ""
	}
	name, _, _ := strings.Cut(string(b), " ")
	return name
}

// TestRouteExplainsV2: sluice route names a v2 rule's v3 reading; sluice
// check reports a v2 rule Traefik refuses with mux's reason, and reads
// routes without a syntax field as v2 under --core.defaultRuleSyntax=v2.
func TestRouteExplainsV2(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "r.yaml"), manifests("app", 8080, "10.0.0.1")+"---\n"+
		"apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: old, namespace: e2e}\nspec:\n  routes:\n"+
		"  - {match: \"Host(`a.example`, `b.example`) && Path(`/u/{id:[0-9]+}`)\", syntax: v2, services: [{name: app, port: 80}]}\n"+
		"  - {match: \"Host(`c.example`) && Headers(`X-Odd`)\", syntax: v2, services: [{name: app, port: 80}]}\n"+
		"  - {match: \"HostHeader(`d.example`)\", services: [{name: app, port: 80}]}\n")
	out, _ := exec.Command(binary(t), "route", "--manifests", dir, "GET", "http://B.example/u/42").CombinedOutput()
	if !strings.Contains(string(out), "syntax:     v2, matched as (Host(`a.example`) || Host(`b.example`)) && PathRegexp(`^/u/(?P<v0>[0-9]+)$`)") {
		t.Errorf("sluice route:\n%s", out)
	}
	out, _ = exec.Command(binary(t), "check", dir).CombinedOutput()
	for _, want := range []string{
		"spec.routes[1].match: col 22: Headers: mux: number of parameters must be multiple of 2, got [X-Odd]",
		"(read as Traefik v2 syntax); route disabled",
		"spec.routes[2].match: col 1: unsupported function: HostHeader",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("sluice check lacks %q:\n%s", want, out)
		}
	}
	out, _ = exec.Command(binary(t), "check", dir, "--core.defaultRuleSyntax=v2").CombinedOutput()
	if strings.Contains(string(out), "HostHeader") {
		t.Errorf("with --core.defaultRuleSyntax=v2, HostHeader is still refused:\n%s", out)
	}
}
