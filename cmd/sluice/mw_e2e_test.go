package main

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// The middleware tests run the real binary with a middleware fixture:
// every IngressRoute of a test is served twice, on plain HTTP and on TLS
// (a copy with tls: {secretName}), and every case is sent over HTTP/1.1,
// h2c, HTTPS and HTTP/2 over TLS: one pipeline must give one answer.

// mwFixture is a running binary and its clients.
type mwFixture struct {
	p       *sluiceProc
	dir     string
	clients []mwClient
}

// mwClient is one of the four ways a client reaches Sluice.
type mwClient struct {
	name string
	tls  bool
	c    *http.Client
}

// newMWFixture serves objects (Middlewares and IngressRoutes of namespace
// e2e whose services are echo, port 80) with the echo backend.
func newMWFixture(t *testing.T, objects string, extra ...string) *mwFixture {
	t.Helper()
	f := &mwFixture{dir: t.TempDir()}
	back := &confBackend{name: "echo", hits: map[string]int{}}
	port := namedBackendFunc(t, "127.0.0.2", back.ServeHTTP)
	ca := newTestCA(t, "mw CA")
	crt, key := ca.issue(t, "mw", "*.example", "example")
	write(t, filepath.Join(f.dir, "svc.yaml"), manifests("echo", port, "127.0.0.2")+"---\n"+tlsSecret("mw-cert", crt, key))
	write(t, filepath.Join(f.dir, "objects.yaml"), objects+withTLSCopies(objects))
	f.p = startSluice(t, f.dir, extra...)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(f.p.log(), "routing table published"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no routing table; logs:\n%s", f.p.log())
		}
	}
	for _, line := range strings.Split(f.p.log(), "\n") {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
			t.Log(line)
		}
	}
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, f.p.addr)
	}
	// one config per client: HTTP/2's transport adds h2 to its ALPN list
	tlsConf := &tls.Config{RootCAs: ca.pool}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	f.clients = []mwClient{
		{"HTTP/1.1", false, &http.Client{Timeout: 10 * time.Second, CheckRedirect: noRedirect,
			Transport: &http.Transport{DialContext: dial, DisableCompression: true}}},
		{"h2c", false, &http.Client{Timeout: 10 * time.Second, Transport: &http2.Transport{AllowHTTP: true, DisableCompression: true,
			DialTLSContext: func(ctx context.Context, network, _ string, _ *tls.Config) (net.Conn, error) {
				return dial(ctx, network, "")
			}}}},
		{"HTTPS", true, &http.Client{Timeout: 10 * time.Second, CheckRedirect: noRedirect,
			Transport: &http.Transport{DialContext: dial, TLSClientConfig: tlsConf.Clone(), DisableCompression: true, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}},
		{"HTTP/2 over TLS", true, &http.Client{Timeout: 10 * time.Second, CheckRedirect: noRedirect,
			Transport: &http.Transport{DialContext: dial, TLSClientConfig: tlsConf.Clone(), DisableCompression: true, ForceAttemptHTTP2: true}}},
	}
	f.clients[1].c.CheckRedirect = noRedirect
	return f
}

// withTLSCopies repeats each IngressRoute of objects as <name>-tls with
// tls: {secretName: mw-cert}.
func withTLSCopies(objects string) string {
	var b strings.Builder
	for _, doc := range strings.Split(objects, "---\n") {
		if !strings.Contains(doc, "kind: IngressRoute") || strings.Contains(doc, "\n  tls:") {
			continue // TLS-only already
		}
		i := strings.Index(doc, "metadata: {name: ")
		j := i + len("metadata: {name: ")
		k := j + strings.IndexAny(doc[j:], ",}")
		doc = doc[:k] + "-tls" + doc[k:]
		b.WriteString("---\n" + strings.TrimRight(doc, "\n") + "\n  tls: {secretName: mw-cert}\n")
	}
	return b.String()
}

// mwCase is one request and what every client must see.
type mwCase struct {
	name                 string
	method, host, path   string
	header               map[string]string
	body                 string
	chunked              bool // the body of no declared length (chunked; HTTP/2 without content-length)
	plainOnly, tlsOnly   bool
	status               int
	uri                  string            // the echo's request URI ("" : not checked / no echo)
	seen                 map[string]string // request headers the backend must see ("" : absent)
	respHeader           map[string]string // response headers ("" : absent)
	respBody             string            // when the answer is not the echo's
	statusTLS, statusH2c int               // when the status differs there
}

// mwResult is what one client got.
type mwResult struct {
	status int
	header http.Header
	body   string
	seen   *echo
}

func (f *mwFixture) do(t *testing.T, cl mwClient, c mwCase) mwResult {
	t.Helper()
	scheme := "http://"
	if cl.tls {
		scheme = "https://"
	}
	var rd io.Reader
	if c.body != "" {
		rd = strings.NewReader(c.body)
		if c.chunked {
			rd = io.MultiReader(rd) // a length the client cannot see
		}
	}
	req, err := http.NewRequest(or(c.method, "GET"), scheme+c.host+c.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := cl.c.Do(req)
	if err != nil {
		t.Fatalf("%s over %s: %v\n%s", c.name, cl.name, err, f.p.log())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("%s over %s: the body ends in an error after %d bytes: %v", c.name, cl.name, len(b), err)
	}
	r := mwResult{status: resp.StatusCode, header: resp.Header, body: string(b)}
	var e echo
	if resp.Header.Get("X-Backend") == "echo" && json.Unmarshal(b, &e) == nil {
		r.seen = &e
	}
	return r
}

// run sends every case over every client and checks it.
func (f *mwFixture) run(t *testing.T, cases []mwCase) {
	t.Helper()
	for _, c := range cases {
		for _, cl := range f.clients {
			if c.plainOnly && cl.tls || c.tlsOnly && !cl.tls {
				continue
			}
			r := f.do(t, cl, c)
			want := c.status
			if cl.tls && c.statusTLS != 0 {
				want = c.statusTLS
			}
			if cl.name == "h2c" && c.statusH2c != 0 {
				want = c.statusH2c
			}
			if r.status != want {
				t.Errorf("%s over %s: status %d, want %d (body %q)", c.name, cl.name, r.status, want, r.body)
				continue
			}
			if c.uri != "" && (r.seen == nil || r.seen.URI != c.uri) {
				t.Errorf("%s over %s: backend saw %+v, want URI %q", c.name, cl.name, r.seen, c.uri)
			}
			for k, v := range c.seen {
				got := ""
				if r.seen != nil {
					got = r.seen.Headers[k]
				}
				if got != v {
					t.Errorf("%s over %s: backend saw %s: %q, want %q", c.name, cl.name, k, got, v)
				}
			}
			for k, v := range c.respHeader {
				if got := strings.Join(r.header.Values(k), " | "); got != v {
					t.Errorf("%s over %s: response %s: %q, want %q", c.name, cl.name, k, got, v)
				}
			}
			if c.respBody != "" && r.body != c.respBody {
				t.Errorf("%s over %s: body %q, want %q", c.name, cl.name, r.body, c.respBody)
			}
		}
	}
}

// mwRoute is an IngressRoute e2e/name for host, with the route's
// middlewares (a YAML flow list) and the echo service.
func mwRoute(name, host, middlewares string) string {
	return "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: " + name + ", namespace: e2e}\nspec:\n  routes:\n" +
		"  - match: Host(`" + host + "`)\n    middlewares: " + middlewares + "\n    services: [{name: echo, port: 80}]\n---\n"
}

// mwObject is a Middleware e2e/name with spec (YAML flow mapping).
func mwObject(name, spec string) string {
	return "apiVersion: traefik.io/v1alpha1\nkind: Middleware\nmetadata: {name: " + name + ", namespace: e2e}\nspec: " + spec + "\n---\n"
}

// TestBinaryPathMiddlewares: addPrefix, stripPrefix (X-Forwarded-Prefix,
// the first matching prefix, encoded paths, the 400 of a path that
// cleaning changes), stripPrefixRegex, replacePath (X-Replaced-Path),
// replacePathRegex, and a chain of them, as Traefik's tests state them.
func TestBinaryPathMiddlewares(t *testing.T) {
	f := newMWFixture(t, mwObject("add", "{addPrefix: {prefix: /api}}")+
		mwObject("strip", "{stripPrefix: {prefixes: [/foo, /bar/]}}")+
		mwObject("stripre", "{stripPrefixRegex: {regex: ['/v[0-9]+', '/users/[a-z]+']}}")+
		mwObject("replace", "{replacePath: {path: /new/path}}")+
		mwObject("replacere", "{replacePathRegex: {regex: '^/old/(.*)', replacement: '/new/$1'}}")+
		mwObject("both", "{chain: {middlewares: [{name: strip}, {name: add}]}}")+
		mwRoute("add", "add.example", "[{name: add}]")+
		mwRoute("strip", "strip.example", "[{name: strip}]")+
		mwRoute("stripre", "stripre.example", "[{name: stripre}]")+
		mwRoute("replace", "replace.example", "[{name: replace}]")+
		mwRoute("replacere", "replacere.example", "[{name: replacere}]")+
		mwRoute("chain", "chain.example", "[{name: both}]")+
		mwRoute("order", "order.example", "[{name: add}, {name: strip}]"))
	eventually(t, f.p.addr, "add.example", "/x", 200, "")
	f.run(t, []mwCase{
		{name: "addPrefix", host: "add.example", path: "/users?id=1", status: 200, uri: "/api/users?id=1"},
		{name: "addPrefix with a body", method: "POST", host: "add.example", path: "/p", body: "data", status: 200, uri: "/api/p"},
		{name: "stripPrefix", host: "strip.example", path: "/foo/bar", status: 200, uri: "/bar", seen: map[string]string{"X-Forwarded-Prefix": "/foo"}},
		{name: "stripPrefix to root", host: "strip.example", path: "/foo", status: 200, uri: "/", seen: map[string]string{"X-Forwarded-Prefix": "/foo"}},
		{name: "stripPrefix: the Cookie goes on as sent", host: "strip.example", path: "/foo/c", header: map[string]string{"Cookie": cookieAsSent},
			status: 200, uri: "/c", seen: map[string]string{"Cookie": cookieAsSent, "X-Forwarded-Prefix": "/foo"}},
		{name: "stripPrefix slash prefix", host: "strip.example", path: "/bar/baz", status: 200, uri: "/baz", seen: map[string]string{"X-Forwarded-Prefix": "/bar/"}},
		{name: "stripPrefix not a prefix", host: "strip.example", path: "/other", status: 200, uri: "/other", seen: map[string]string{"X-Forwarded-Prefix": ""}},
		{name: "stripPrefix encoded", host: "strip.example", path: "/foo/a%2Fb", status: 200, uri: "/a%2Fb"},
		{name: "stripPrefix: a path cleaning changes is a 400", host: "strip.example", path: "/foo%2F..%2Fetc", status: 400, respBody: "Bad Request\n",
			respHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}},
		{name: "stripPrefixRegex", host: "stripre.example", path: "/v2/items", status: 200, uri: "/items", seen: map[string]string{"X-Forwarded-Prefix": "/v2"}},
		{name: "stripPrefixRegex second", host: "stripre.example", path: "/users/bob/photos", status: 200, uri: "/photos", seen: map[string]string{"X-Forwarded-Prefix": "/users/bob"}},
		{name: "replacePath", host: "replace.example", path: "/any/thing?q=1", status: 200, uri: "/new/path?q=1", seen: map[string]string{"X-Replaced-Path": "/any/thing"}},
		{name: "replacePathRegex", host: "replacere.example", path: "/old/a/b", status: 200, uri: "/new/a/b", seen: map[string]string{"X-Replaced-Path": "/old/a/b"}},
		{name: "replacePathRegex no match", host: "replacere.example", path: "/kept", status: 200, uri: "/kept", seen: map[string]string{"X-Replaced-Path": ""}},
		{name: "chain: strip then add", host: "chain.example", path: "/foo/x", status: 200, uri: "/api/x", seen: map[string]string{"X-Forwarded-Prefix": "/foo"}},
		{name: "declared order: add then strip", host: "order.example", path: "/foo/x", status: 200, uri: "/api/foo/x", seen: map[string]string{"X-Forwarded-Prefix": ""}},
	})
}

// cookieAsSent is a Cookie value fasthttp's cookie jar would rewrite
// (quotes, spaces) if anything on the way read the request's cookies
// through it; Go's proxy, so Traefik, forwards it as it came. (Over
// HTTP/2 Go's client sends it as crumbs split at "; ", which the server
// joins with "; ": the same value.)
const cookieAsSent = `a=1; x="q"; y = 3`

// TestBinaryRedirectMiddlewares: redirectScheme (to https; a request
// already on https passes; X-Forwarded-Proto from a trusted peer counts;
// the port; 302/307 by method, 301/308 when permanent) and redirectRegex
// (groups in the replacement; no match passes; permanent), answered
// before any server is chosen.
func TestBinaryRedirectMiddlewares(t *testing.T) {
	f := newMWFixture(t, mwObject("tohttps", "{redirectScheme: {scheme: https, permanent: true}}")+
		mwObject("toport", "{redirectScheme: {scheme: https, port: '8443'}}")+
		mwObject("re", "{redirectRegex: {regex: '^http://re.example/old/(.*)', replacement: 'http://new.example/${1}'}}")+
		mwObject("reperm", "{redirectRegex: {regex: '^https?://([^/]+)/perm$', replacement: 'https://$1/moved', permanent: true}}")+
		mwRoute("s", "s.example", "[{name: tohttps}]")+
		mwRoute("port", "port.example", "[{name: toport}]")+
		mwRoute("re", "re.example", "[{name: re}, {name: reperm}]"),
		"--entryPoints.web.forwardedHeaders.trustedIPs=127.0.0.1")
	eventually(t, f.p.addr, "re.example", "/x", 200, "")
	noBody := map[string]string{"Content-Type": ""}
	f.run(t, []mwCase{
		{name: "redirectScheme permanent GET", host: "s.example", path: "/a?b=1", plainOnly: true, status: 301, respBody: "Moved Permanently",
			respHeader: map[string]string{"Location": "https://s.example/a?b=1", "Content-Type": ""}},
		// Traefik turns a query's ';' into '&' in the URL it forwards only:
		// its redirects rebuild the request URI, which keeps them.
		{name: "redirectScheme: the query's semicolons kept", host: "s.example", path: "/a?k=1;s=%2F&e=", plainOnly: true, status: 301,
			respHeader: map[string]string{"Location": "https://s.example/a?k=1;s=%2F&e="}},
		{name: "redirectRegex: the query's semicolons kept", host: "re.example", path: "/old/q?a=1;b=2", plainOnly: true, status: 302,
			respHeader: map[string]string{"Location": "http://new.example/q?a=1;b=2"}},
		{name: "the forwarded query's semicolons made '&'", host: "re.example", path: "/stay?a=1;b=2", status: 200, uri: "/stay?a=1&b=2"},
		{name: "redirectScheme permanent POST", method: "POST", host: "s.example", path: "/a", body: "x", plainOnly: true, status: 308,
			respHeader: map[string]string{"Location": "https://s.example/a"}},
		{name: "redirectScheme: already https", host: "s.example", path: "/a", tlsOnly: true, status: 200, uri: "/a"},
		{name: "redirectScheme not taken: the Cookie goes on as sent", host: "s.example", path: "/a", header: map[string]string{"Cookie": cookieAsSent},
			tlsOnly: true, status: 200, uri: "/a", seen: map[string]string{"Cookie": cookieAsSent}},
		{name: "redirectScheme: X-Forwarded-Proto https from a trusted peer", host: "s.example", path: "/a", header: map[string]string{"X-Forwarded-Proto": "https"}, status: 200, uri: "/a"},
		{name: "redirectScheme with a port", host: "port.example:8080", path: "/p", status: 302, respHeader: map[string]string{"Location": "https://port.example:8443/p"}},
		{name: "redirectScheme with a port, POST", method: "POST", host: "port.example", path: "/p", status: 307, respHeader: map[string]string{"Location": "https://port.example:8443/p"}},
		{name: "redirectScheme: on the port already", host: "port.example:8443", path: "/p", tlsOnly: true, status: 200, uri: "/p"},
		{name: "redirectRegex", host: "re.example", path: "/old/x/y?z=1", plainOnly: true, status: 302, respHeader: map[string]string{"Location": "http://new.example/x/y?z=1"}},
		{name: "redirectRegex over TLS: the URL is https, no match", host: "re.example", path: "/old/x", tlsOnly: true, status: 200, uri: "/old/x"},
		{name: "redirectRegex permanent", host: "re.example", path: "/perm", status: 301, respHeader: map[string]string{"Location": "https://re.example/moved"}},
		{name: "redirectRegex permanent POST", method: "POST", host: "re.example", path: "/perm", status: 308, respHeader: noBody},
		{name: "redirectRegex no match", host: "re.example", path: "/stay", status: 200, uri: "/stay"},
	})
}

// TestBinaryHeadersMiddleware: custom request and response headers (an
// empty value removes), CORS (the preflight answered by Sluice, the
// origin list and regexes, credentials, Vary), and the security headers
// (HSTS only over TLS unless forced, allowedHosts' 500, development mode).
func TestBinaryHeadersMiddleware(t *testing.T) {
	f := newMWFixture(t, mwObject("custom", "{headers: {customRequestHeaders: {X-Script-Name: test, X-Remove-Me: '', x-lower: v}, "+
		"customResponseHeaders: {X-Custom-Response: 'yes', X-Backend-Extra: ''}}}")+
		mwObject("cors", "{headers: {accessControlAllowMethods: [GET, OPTIONS, PUT], accessControlAllowHeaders: [X-Api-Key], "+
			"accessControlAllowOriginList: ['https://a.example'], accessControlAllowOriginListRegex: ['^https://.*\\.b\\.example$'], "+
			"accessControlMaxAge: 100, accessControlExposeHeaders: [X-Total], addVaryHeader: true}}")+
		mwObject("corscreds", "{headers: {accessControlAllowOriginList: ['*'], accessControlAllowCredentials: true, accessControlAllowMethods: ['*'], accessControlAllowHeaders: ['*']}}")+
		mwObject("secure", "{headers: {frameDeny: true, contentTypeNosniff: true, browserXssFilter: true, stsSeconds: 31536000, "+
			"stsIncludeSubdomains: true, stsPreload: true, contentSecurityPolicy: \"default-src 'self'\", referrerPolicy: same-origin, "+
			"permissionsPolicy: 'camera=()', customFrameOptionsValue: SAMEORIGIN}}")+
		mwObject("forcests", "{headers: {stsSeconds: 60, forceSTSHeader: true, sslProxyHeaders: {X-Forwarded-Proto: https}}}")+
		mwObject("hosts", "{headers: {allowedHosts: [hosts.example], hostsProxyHeaders: [X-Forwarded-Host]}}")+
		mwObject("devhosts", "{headers: {allowedHosts: [nowhere.example], isDevelopment: true, stsSeconds: 60}}")+
		mwRoute("custom", "custom.example", "[{name: custom}]")+
		mwRoute("cors", "cors.example", "[{name: cors}]")+
		mwRoute("corscreds", "creds.example", "[{name: corscreds}]")+
		mwRoute("secure", "secure.example", "[{name: secure}]")+
		mwRoute("forcests", "force.example", "[{name: forcests}]")+
		mwRoute("hosts", "hosts.example", "[{name: hosts}]")+
		mwRoute("hosts2", "other-host.example", "[{name: hosts}]")+
		mwRoute("devhosts", "dev.example", "[{name: devhosts}]"))
	eventuallyWithin(t, 5*time.Second, f.p.addr, "custom.example", "/x", 200, "")
	f.run(t, []mwCase{
		{name: "custom request headers", host: "custom.example", path: "/?respond-header=X-Backend-Extra:gone", header: map[string]string{"X-Remove-Me": "1", "X-Script-Name": "client"},
			status: 200, seen: map[string]string{"X-Script-Name": "test", "X-Remove-Me": "", "X-Lower": "v"},
			respHeader: map[string]string{"X-Custom-Response": "yes", "X-Backend-Extra": ""}},
		{name: "custom headers with a body", method: "PUT", host: "custom.example", path: "/b", body: "payload", status: 200, seen: map[string]string{"X-Script-Name": "test"}},
		{name: "CORS preflight", method: "OPTIONS", host: "cors.example", path: "/api", header: map[string]string{"Origin": "https://a.example", "Access-Control-Request-Method": "PUT"},
			status: 200, respHeader: map[string]string{"Access-Control-Allow-Origin": "https://a.example", "Access-Control-Allow-Methods": "GET,OPTIONS,PUT",
				"Access-Control-Allow-Headers": "X-Api-Key", "Access-Control-Max-Age": "100", "Access-Control-Expose-Headers": "X-Total",
				"Content-Length": "0", "Content-Type": "", "Vary": "", "X-Backend": ""}},
		{name: "CORS preflight, origin by regex", method: "OPTIONS", host: "cors.example", path: "/api", header: map[string]string{"Origin": "https://x.b.example", "Access-Control-Request-Method": "GET"},
			status: 200, respHeader: map[string]string{"Access-Control-Allow-Origin": "https://x.b.example"}},
		{name: "CORS preflight, unknown origin", method: "OPTIONS", host: "cors.example", path: "/api", header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
			status: 200, respHeader: map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": "GET,OPTIONS,PUT"}},
		{name: "OPTIONS without Access-Control-Request-Method goes to the server", method: "OPTIONS", host: "cors.example", path: "/api", header: map[string]string{"Origin": "https://a.example"},
			status: 200, uri: "/api"},
		{name: "CORS response", host: "cors.example", path: "/r?respond-header=Vary:Accept-Encoding", header: map[string]string{"Origin": "https://a.example"}, status: 200, uri: "/r?respond-header=Vary:Accept-Encoding",
			respHeader: map[string]string{"Access-Control-Allow-Origin": "https://a.example", "Access-Control-Expose-Headers": "X-Total", "Vary": "Accept-Encoding,Origin"}},
		{name: "CORS response without Origin", host: "cors.example", path: "/r", status: 200, respHeader: map[string]string{"Access-Control-Allow-Origin": "", "Vary": "Origin"}},
		{name: "CORS credentials and *", method: "OPTIONS", host: "creds.example", path: "/", header: map[string]string{"Origin": "https://c.example", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "X-A,X-B"},
			status: 200, respHeader: map[string]string{"Access-Control-Allow-Origin": "https://c.example", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "DELETE", "Access-Control-Allow-Headers": "X-A,X-B"}},
		{name: "security headers, plain", host: "secure.example", path: "/", plainOnly: true, status: 200,
			respHeader: map[string]string{"X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff", "X-Xss-Protection": "1; mode=block",
				"Content-Security-Policy": "default-src 'self'", "Referrer-Policy": "same-origin", "Permissions-Policy": "camera=()", "Strict-Transport-Security": ""}},
		{name: "security headers, TLS", host: "secure.example", path: "/", tlsOnly: true, status: 200,
			respHeader: map[string]string{"X-Frame-Options": "SAMEORIGIN", "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload"}},
		{name: "security headers replace every line of the server's", host: "secure.example", path: "/r?respond-header=X-Frame-Options:DENY&" +
			"respond-header=X-Frame-Options:ALLOW-FROM%20x&respond-header=X-Content-Type-Options:a&respond-header=X-Content-Type-Options:b",
			status: 200, respHeader: map[string]string{"X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff"}},
		{name: "forceSTSHeader", host: "force.example", path: "/", status: 200, respHeader: map[string]string{"Strict-Transport-Security": "max-age=60"}},
		{name: "allowedHosts", host: "hosts.example", path: "/", status: 200, uri: "/"},
		{name: "allowedHosts: another host is a 500", host: "other-host.example", path: "/", status: 500, respBody: "Bad Host\n",
			respHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{name: "isDevelopment: any host, no HSTS", host: "dev.example", path: "/", tlsOnly: true, status: 200, respHeader: map[string]string{"Strict-Transport-Security": ""}},
	})
}

// TestBinaryNoBodyContentLength: a request without a body reaches the
// server with "Content-Length: 0" only for POST, PUT and PATCH, as Go's
// transport (Traefik's) sends it; fasthttp would send it on every method
// but GET and HEAD.
func TestBinaryNoBodyContentLength(t *testing.T) {
	f := newMWFixture(t, mwRoute("plain", "plain.example", "[]"))
	var cases []mwCase
	for _, m := range []string{"DELETE", "OPTIONS", "GET", "TRACE"} {
		cases = append(cases, mwCase{name: m + " without a body", method: m, host: "plain.example", path: "/n", status: 200, seen: map[string]string{"Content-Length": ""}})
	}
	for _, m := range []string{"POST", "PUT", "PATCH"} {
		cases = append(cases, mwCase{name: m + " without a body", method: m, host: "plain.example", path: "/n", status: 200, seen: map[string]string{"Content-Length": "0"}})
	}
	cases = append(cases, mwCase{name: "DELETE with a body", method: "DELETE", host: "plain.example", path: "/n", body: "abc", status: 200, seen: map[string]string{"Content-Length": "3"}})
	f.run(t, cases)
}

// TestBinaryAuthMiddlewares: basicAuth from an htpasswd Secret (SHA,
// apr1, bcrypt lines) and from a kubernetes.io/basic-auth Secret, realm,
// headerField, removeHeader; digestAuth from an htdigest Secret, with a
// client answering its challenge; a missing Secret disables the route.
func TestBinaryAuthMiddlewares(t *testing.T) {
	htpasswd := "test:{SHA}qvTGHdzF6KLavt4PO0gs2a6pQ00=\ntest2:$apr1$a0j62R97$mYqFkloXH0/UOaUnAiV2b0\n" +
		"test3:$2y$05$ih3C91zUBSTFcAh2mQnZYuob0UOZVEf16wl/ukgjDhjvj.xgM1WwS\n"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	f := newMWFixture(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: users, namespace: e2e}\ndata: {users: "+b64(htpasswd)+"}\n---\n"+
		"apiVersion: v1\nkind: Secret\nmetadata: {name: one, namespace: e2e}\ntype: kubernetes.io/basic-auth\ndata: {username: "+b64("admin")+", password: "+b64("s3cret")+"}\n---\n"+
		"apiVersion: v1\nkind: Secret\nmetadata: {name: digest, namespace: e2e}\ndata: {users: "+b64("dig:traefik:"+md5hex("dig:traefik:pass")+"\n")+"}\n---\n"+
		mwObject("basic", "{basicAuth: {secret: users, realm: inner, headerField: X-WebAuth-User, removeHeader: true}}")+
		mwObject("basic2", "{basicAuth: {secret: one}}")+
		mwObject("nosecret", "{basicAuth: {secret: nosuch}}")+
		mwObject("digest", "{digestAuth: {secret: digest, headerField: X-Digest-User}}")+
		mwRoute("basic", "basic.example", "[{name: basic}]")+mwRoute("basic2", "basic2.example", "[{name: basic2}]")+
		mwRoute("nosecret", "nosecret.example", "[{name: nosecret}]")+mwRoute("digest", "digest.example", "[{name: digest}]"))
	auth := func(user, pw string) map[string]string {
		return map[string]string{"Authorization": "Basic " + b64(user+":"+pw)}
	}
	f.run(t, []mwCase{
		{name: "no credentials", host: "basic.example", path: "/", status: 401, respBody: "401 Unauthorized\n",
			respHeader: map[string]string{"Www-Authenticate": `Basic realm="inner"`, "Content-Type": "text/plain"}},
		{name: "SHA", host: "basic.example", path: "/", header: auth("test", "hello"), status: 200, seen: map[string]string{"X-Webauth-User": "test", "Authorization": ""}},
		{name: "apr1, with a body", method: "POST", host: "basic.example", path: "/", body: "b", header: auth("test2", "hello2"), status: 200, seen: map[string]string{"X-Webauth-User": "test2"}},
		{name: "bcrypt", host: "basic.example", path: "/", header: auth("test3", "hello3"), status: 200},
		{name: "bcrypt, wrong", host: "basic.example", path: "/", header: auth("test3", "hello"), status: 401},
		{name: "basic-auth Secret", host: "basic2.example", path: "/", header: auth("admin", "s3cret"), status: 200, seen: map[string]string{"Authorization": "Basic " + b64("admin:s3cret")}},
		{name: "basic-auth Secret, default realm", host: "basic2.example", path: "/", status: 401, respHeader: map[string]string{"Www-Authenticate": `Basic realm="traefik"`}},
		{name: "missing Secret: the route is not served", host: "nosecret.example", path: "/", status: 404},
	})
	for _, cl := range f.clients {
		r := f.do(t, cl, mwCase{name: "digest challenge", host: "digest.example", path: "/d/x?y=1"})
		m := regexp.MustCompile(`nonce="([^"]+)", opaque="([^"]+)"`).FindStringSubmatch(r.header.Get("Www-Authenticate"))
		if r.status != 401 || m == nil {
			t.Fatalf("digest over %s: %d %v", cl.name, r.status, r.header)
		}
		for i, want := range []int{200, 401} { // the second reuses the nonce count
			resp := md5hex(strings.Join([]string{md5hex("dig:traefik:pass"), m[1], "00000001", "cn", "auth", md5hex("GET:/d/x?y=1")}, ":"))
			h := fmt.Sprintf(`Digest username="dig", realm="traefik", nonce="%s", uri="/d/x?y=1", qop=auth, nc=00000001, cnonce="cn", response="%s", opaque="%s"`, m[1], resp, m[2])
			r := f.do(t, cl, mwCase{name: "digest answer", host: "digest.example", path: "/d/x?y=1", header: map[string]string{"Authorization": h}})
			if r.status != want || want == 200 && (r.seen == nil || r.seen.Headers["X-Digest-User"] != "dig") {
				t.Errorf("digest answer %d over %s: %d %+v", i, cl.name, r.status, r.seen)
			}
		}
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestBinaryCookiesForwardedAsSent: a sticky service reads its cookie
// from the request without changing the Cookie header the server gets
// (fasthttp's cookie jar would re-serialise it: pipeline/cookies.go), and
// a sticky cookie among others, quoted ones included, still pins.
// Repeated lines go on as Go's server and transport (Traefik's) send
// them: every Cookie and Content-Type line, the first User-Agent.
func TestBinaryCookiesForwardedAsSent(t *testing.T) {
	sticky := "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: sticky, namespace: e2e}\nspec:\n  routes:\n" +
		"  - match: Host(`sticky.example`)\n    services: [{name: echo, port: 80, sticky: {cookie: {name: pin}}}]\n---\n"
	f := newMWFixture(t, sticky)
	eventually(t, f.p.addr, "sticky.example", "/x", 200, "")
	f.run(t, []mwCase{
		{name: "sticky: the Cookie goes on as sent", host: "sticky.example", path: "/c", header: map[string]string{"Cookie": cookieAsSent},
			status: 200, uri: "/c", seen: map[string]string{"Cookie": cookieAsSent}},
	})
	_, body, err := rawResponse(f.p.addr, "GET /r HTTP/1.1\r\nHost: sticky.example\r\nUser-Agent: one\r\nCookie: a=1;b=2\r\n"+
		"Content-Type: text/plain\r\nUser-Agent: two\r\nCookie: c=\"q\"\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
	var e echo
	if err != nil || json.Unmarshal(body, &e) != nil {
		t.Fatalf("repeated lines: %v %s", err, body)
	}
	for k, want := range map[string]string{"User-Agent": "one", "Cookie": `a=1;b=2 | c="q"`, "Content-Type": "text/plain | text/html"} {
		if e.Headers[k] != want {
			t.Errorf("repeated lines: the server saw %s %q, want %q", k, e.Headers[k], want)
		}
	}
	// The answer's pin, sent back among other cookies, is honoured: no
	// new Set-Cookie (one is set only when no valid cookie routed).
	first, _ := http.NewRequest("GET", "http://sticky.example/", nil)
	resp, err := f.clients[0].c.Do(first)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	pin := resp.Cookies()
	if len(pin) != 1 || pin[0].Name != "pin" {
		t.Fatalf("first answer's cookies: %v", pin)
	}
	for _, cl := range f.clients {
		req, _ := http.NewRequest("GET", "http://sticky.example/", nil)
		if cl.tls {
			req.URL.Scheme = "https"
		}
		req.Header.Set("Cookie", `a="q"; pin=`+pin[0].Value+"; b = 2")
		resp, err := cl.c.Do(req)
		if err != nil {
			t.Fatal(cl.name, err)
		}
		resp.Body.Close()
		if sc := resp.Header.Get("Set-Cookie"); resp.StatusCode != 200 || sc != "" {
			t.Errorf("%s: status %d, Set-Cookie %q: the pin was not read", cl.name, resp.StatusCode, sc)
		}
	}
}

// TestBinaryOddRequestHeads: a fragment in the request path is Traefik's
// entry point's 400 (an empty body, the connection kept); a declared
// empty body goes on as Traefik's proxy sends it (no Content-Length on a
// GET, "Content-Length: 0" on a POST); a Transfer-Encoding other than one
// "chunked" is Go's 501; and every Connection line's names go, a
// "Connection: close" line beside them included.
func TestBinaryOddRequestHeads(t *testing.T) {
	f := newMWFixture(t, "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: plain, namespace: e2e}\nspec:\n  routes:\n"+
		"  - match: Host(`plain.example`)\n    services: [{name: echo, port: 80}]\n---\n")
	eventually(t, f.p.addr, "plain.example", "/x", 200, "")
	c, err := net.Dial("tcp4", f.p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /x#frag HTTP/1.1\r\nHost: plain.example\r\n\r\nGET /y HTTP/1.1\r\nHost: plain.example\r\n\r\n")
	br := bufio.NewReader(c)
	for i, want := range []int{400, 200} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		b := readBody(t, resp)
		resp.Body.Close()
		if resp.StatusCode != want || i == 0 && (len(b) != 0 || resp.Header.Get("Content-Type") != "") {
			t.Errorf("answer %d: %d %q %v, want %d (the first with no body or type)", i, resp.StatusCode, b, resp.Header, want)
		}
	}
	for _, tc := range []struct{ method, want string }{{"GET", ""}, {"DELETE", ""}, {"POST", "0"}, {"PUT", "0"}} {
		_, body, err := rawResponse(f.p.addr, tc.method+" /e HTTP/1.1\r\nHost: plain.example\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		var e echo
		if err != nil || json.Unmarshal(body, &e) != nil {
			t.Fatalf("%s: %v %s", tc.method, err, body)
		}
		if got := e.Headers["Content-Length"]; got != tc.want {
			t.Errorf("%s with Content-Length: 0: the server saw Content-Length %q, want %q", tc.method, got, tc.want)
		}
	}
	for _, te := range []string{"identity", "gzip, chunked", "chunked\r\nTransfer-Encoding: chunked"} {
		resp, body, err := rawResponse(f.p.addr, "POST /te HTTP/1.1\r\nHost: plain.example\r\nTransfer-Encoding: "+te+"\r\n\r\n0\r\n\r\n")
		if err != nil || resp.StatusCode != 501 || string(body) != "Unsupported transfer encoding" || !resp.Close {
			t.Errorf("Transfer-Encoding %q: %v %v %q, want 501 and the connection closed", te, resp, err, body)
		}
	}
	_, body, err := rawResponse(f.p.addr, "GET /c HTTP/1.1\r\nHost: plain.example\r\nX-Secret: 1\r\nX-Other: 2\r\n"+
		"Connection: X-Secret\r\nConnection: close\r\nConnection: X-Other\r\n\r\n")
	var e echo
	if err != nil || json.Unmarshal(body, &e) != nil {
		t.Fatalf("Connection lines: %v %s", err, body)
	}
	if e.Headers["X-Secret"] != "" || e.Headers["X-Other"] != "" {
		t.Errorf("headers named by Connection reached the server: %v", e.Headers)
	}
}
