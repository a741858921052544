package main

import (
	"encoding/base64"
	"testing"
)

// TestBinaryForwardedHeadersConnection: with
// --entryPoints.web.forwardedHeaders.connection=Foobar,Authorization the
// headers a request's Connection names still reach the router's rule and
// the middlewares when they are kept (a Header rule matches, basicAuth
// reads Authorization) and never reach the server; the ones not kept go
// before routing; a managed X- header stays whatever Connection says.
// Over HTTP/1.1 and HTTPS (HTTP/2 has no Connection header: there the
// kept names are ordinary headers). Issue 25.
func TestBinaryForwardedHeadersConnection(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	rule := "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: rule, namespace: e2e}\nspec:\n  routes:\n" +
		"  - match: Host(`conn.example`) && Header(`Foobar`, `yes`)\n    services: [{name: echo, port: 80}]\n" +
		"    middlewares: [{name: tag}]\n" +
		"  - match: Host(`conn.example`)\n    services: [{name: echo, port: 80}]\n---\n"
	f := newMWFixture(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: one, namespace: e2e}\ntype: kubernetes.io/basic-auth\n"+
		"data: {username: "+b64("admin")+", password: "+b64("s3cret")+"}\n---\n"+
		mwObject("basic", "{basicAuth: {secret: one}}")+
		mwObject("tag", "{headers: {customRequestHeaders: {X-Rule: foobar}}}")+
		mwRoute("auth", "auth.example", "[{name: basic}]")+rule,
		"--entryPoints.web.forwardedHeaders.connection=Foobar,Authorization", "--entryPoints.web.forwardedHeaders.insecure=true")
	creds := "Basic " + b64("admin:s3cret")
	for _, cl := range f.clients {
		h2 := cl.name == "h2c" || cl.name == "HTTP/2 over TLS"
		cases := []struct {
			mwCase
			h2 bool // the case holds for HTTP/2 clients (no Connection header)
		}{
			{mwCase{name: "a kept header matches the rule, then goes", host: "conn.example", path: "/",
				header: map[string]string{"Connection": "Foobar, Other", "Foobar": "yes", "Other": "x"}, status: 200,
				seen: map[string]string{"X-Rule": "foobar", "Foobar": "", "Other": ""}}, false},
			{mwCase{name: "a header not kept goes before the rule", host: "conn.example", path: "/",
				header: map[string]string{"Connection": "Other", "Other": "yes"}, status: 200,
				seen: map[string]string{"X-Rule": "", "Other": ""}}, false},
			{mwCase{name: "a kept header reaches basicAuth, then goes", host: "auth.example", path: "/",
				header: map[string]string{"Connection": "authorization", "Authorization": creds}, status: 200,
				seen: map[string]string{"Authorization": ""}}, false},
			{mwCase{name: "a managed header stays", host: "conn.example", path: "/",
				header: map[string]string{"Connection": "X-Forwarded-Host, Foobar", "Foobar": "no", "X-Forwarded-Host": "front.example"}, status: 200,
				seen: map[string]string{"X-Forwarded-Host": "front.example", "X-Rule": "", "Foobar": ""}}, false},
			{mwCase{name: "with a body", method: "POST", body: "b", host: "conn.example", path: "/",
				header: map[string]string{"Connection": "Foobar", "Foobar": "yes"}, status: 200,
				seen: map[string]string{"X-Rule": "foobar", "Foobar": ""}}, false},
			{mwCase{name: "not named in Connection: an ordinary header", host: "conn.example", path: "/",
				header: map[string]string{"Foobar": "yes"}, status: 200, seen: map[string]string{"X-Rule": "foobar", "Foobar": "yes"}}, true},
		}
		for _, c := range cases {
			if h2 && !c.h2 {
				continue
			}
			r := f.do(t, cl, c.mwCase)
			if r.status != c.status || r.seen == nil {
				t.Errorf("%s over %s: %d %q", c.name, cl.name, r.status, r.body)
				continue
			}
			for k, v := range c.seen {
				if got := r.seen.Headers[k]; got != v {
					t.Errorf("%s over %s: the server saw %s: %q, want %q", c.name, cl.name, k, got, v)
				}
			}
		}
	}
}
