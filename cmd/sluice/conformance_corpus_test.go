package main

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ir is an IngressRoute in namespace conf with the given spec body.
func ir(name, spec string) string {
	return "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: " + name + ", namespace: conf}\nspec:\n" + spec + "---\n"
}

// route is one route: a match and its services (a YAML flow list).
func confRoute(match, services string) string {
	return fmt.Sprintf("  - match: %q\n    services: %s\n", match, services)
}

// confRouteV2 is confRoute in Traefik v2's rule syntax.
func confRouteV2(match, services string) string {
	return fmt.Sprintf("  - match: %q\n    syntax: v2\n    services: %s\n", match, services)
}

// v2Corpus: routes in Traefik v2's syntax, each matcher with several
// arguments and mux templates (issue 26).
var v2Corpus = confCase{name: "routes.syntax v2 (Traefik v2's matchers)", objects: ir("v2rules", "  routes:\n"+
	confRouteV2("Host(`v2.example`, `V2b.example`) && PathPrefix(`/h`)", "[{name: alpha, port: 80}]")+
	confRouteV2("HostHeader(`hh.v2.example`)", "[{name: beta, port: 80}]")+
	confRouteV2("HostRegexp(`{sub:[a-z]+}.re.v2.example`)", "[{name: gamma, port: 80}]")+
	confRouteV2("HostRegexp(`lit.v2.example`, `{x:[0-9]+}.lit.v2.example`)", "[{name: alpha, port: 80}]")+
	confRouteV2("Host(`v2.example`) && Path(`/p/{id:[0-9]+}`, `/p/x`)", "[{name: beta, port: 80}]")+
	confRouteV2("Host(`v2.example`) && PathPrefix(`/pp/{name}/`)", "[{name: gamma, port: 80}]")+
	confRouteV2("Host(`v2.example`) && Method(`put`, `DELETE`) && PathPrefix(`/m`)", "[{name: alpha, port: 80}]")+
	confRouteV2("Host(`v2.example`) && Headers(`X-A`, `1`, `x-b`, `2`) && PathPrefix(`/hd`)", "[{name: beta, port: 80}]")+
	confRouteV2("Host(`v2.example`) && HeadersRegexp(`X-A`, `^ab`) && PathPrefix(`/hd`)", "[{name: gamma, port: 80}]")+
	confRouteV2("Host(`v2.example`) && Query(`a=1`, `b=`) && PathPrefix(`/q`)", "[{name: alpha, port: 80}]")+
	confRouteV2("Host(`v2.example`) && Query(`k={v:[0-9]+}`) && PathPrefix(`/qf`)", "[{name: beta, port: 80}]")+
	confRouteV2("Host(`v2.example`) && ClientIP(`127.0.0.1`, `10.0.0.0/8`) && PathPrefix(`/ip`)", "[{name: gamma, port: 80}]")+
	confRouteV2("Host(`v2.example`) && Headers(`X-Odd`) && PathPrefix(`/bad`)", "[{name: alpha, port: 80}]")+
	confRouteV2("Host(`v2.example`) && Header(`X-A`, `1`) && PathPrefix(`/v3only`)", "[{name: alpha, port: 80}]")+
	confRoute("Host(`v2.example`) && HostHeader(`v2.example`) && PathPrefix(`/v2only`)", "[{name: alpha, port: 80}]")),
	requests: []confReq{
		{host: "v2.example", path: "/h"}, {host: "V2B.example", path: "/h/x"}, {host: "v2.example:8080", path: "/h"},
		{host: "hh.v2.example", path: "/"}, {host: "abc.re.v2.example", path: "/"}, {host: "ABC.re.v2.example", path: "/"},
		{host: "a1.re.v2.example", path: "/"}, {host: "LIT.v2.example", path: "/"}, {host: "42.lit.v2.example", path: "/"},
		{host: "v2.example", path: "/p/123"}, {host: "v2.example", path: "/p/x"}, {host: "v2.example", path: "/p/12a"},
		{host: "v2.example", path: "/pp/bob/"}, {host: "v2.example", path: "/pp/bob/more"}, {host: "v2.example", path: "/pp/bob"},
		{method: "PUT", host: "v2.example", path: "/m", body: "x"}, {method: "DELETE", host: "v2.example", path: "/m"},
		{host: "v2.example", path: "/m"},
		{host: "v2.example", path: "/hd", header: map[string]string{"X-A": "1", "X-B": "2"}},
		{host: "v2.example", path: "/hd", header: map[string]string{"X-A": "abc"}},
		{host: "v2.example", path: "/hd", header: map[string]string{"X-A": "1"}},
		{host: "v2.example", path: "/q?a=1&b="}, {host: "v2.example", path: "/q?a=1&b=zz"}, {host: "v2.example", path: "/q?a=1"},
		{host: "v2.example", path: "/qf?k=12&k=x"}, {host: "v2.example", path: "/qf?k=x&k=12"},
		{host: "v2.example", path: "/ip"}, {host: "v2.example", path: "/bad", header: map[string]string{"X-Odd": "1"}},
		{host: "v2.example", path: "/v3only", header: map[string]string{"X-A": "1"}}, {host: "v2.example", path: "/v2only"},
		{host: "v2.example", path: "/h2", h2: true},
	}}

// corpus is the oracle's corpus: every row of the IngressRoute reference
// that Sluice serves (TLS, middlewares and observability come with their
// issues), and every gap of the issue that added the oracle.
var corpus = []confCase{
	{name: "entryPoints", objects: ir("eps", "  entryPoints: [alt]\n  routes:\n"+confRoute("Host(`eps.example`)", "[{name: alpha, port: 80}]")),
		requests: []confReq{{host: "eps.example", path: "/a", entry: "alt"}, {host: "eps.example", path: "/a"}}},
	{name: "routes.match (the v3 rule language)", objects: ir("rules", "  routes:\n"+
		confRoute("Host(`rules.example`) && PathPrefix(`/p`)", "[{name: alpha, port: 80}]")+
		confRoute("Host(`rules.example`) && Path(`/exact`)", "[{name: beta, port: 80}]")+
		confRoute("Host(`rules.example`) && Method(`POST`) && PathPrefix(`/m`)", "[{name: beta, port: 80}]")+
		confRoute("Host(`rules.example`) && Header(`X-Env`, `prod`)", "[{name: gamma, port: 80}]")+
		confRoute("Host(`rules.example`) && HeaderRegexp(`X-Ver`, `^v[0-9]+$`)", "[{name: beta, port: 80}]")+
		confRoute("Host(`rules.example`) && Query(`q`, `1`)", "[{name: gamma, port: 80}]")+
		confRoute("Host(`rules.example`) && QueryRegexp(`r`, `^a.*`)", "[{name: beta, port: 80}]")+
		confRoute("HostRegexp(`^[a-z]+\\.regexp\\.example$`)", "[{name: gamma, port: 80}]")+
		confRoute("Host(`rules.example`) && ClientIP(`127.0.0.0/8`) && PathPrefix(`/ip`)", "[{name: gamma, port: 80}]")+
		confRoute("Host(`rules.example`) && (PathPrefix(`/or1`) || PathPrefix(`/or2`)) && !Method(`DELETE`)", "[{name: beta, port: 80}]")+
		confRoute("Host(`*.wild.example`)", "[{name: alpha, port: 80}]")),
		requests: []confReq{
			{host: "rules.example", path: "/p/1?x=y"}, {host: "rules.example", path: "/exact"}, {host: "rules.example", path: "/exact/"},
			{method: "POST", host: "rules.example", path: "/m", body: "form"}, {host: "rules.example", path: "/m"},
			{method: "POST", host: "rules.example", path: "/m", body: "a body of no length", chunked: true},
			{method: "POST", host: "rules.example", path: "/m", body: "a body of no length", chunked: true, h2: true},
			{host: "rules.example", path: "/h", header: map[string]string{"X-Env": "prod"}},
			{host: "rules.example", path: "/h", header: map[string]string{"X-Ver": "v12"}},
			{host: "rules.example", path: "/q?q=1"}, {host: "rules.example", path: "/q?r=abc"},
			{host: "any.regexp.example", path: "/"}, {host: "ANY.Regexp.Example", path: "/"},
			{host: "rules.example", path: "/ip"}, {host: "rules.example", path: "/or2/x"},
			{method: "DELETE", host: "rules.example", path: "/or1"}, {host: "a.wild.example", path: "/w"},
			{host: "rules.example:8080", path: "/p"}, {host: "rules.example", path: "/nothing"}, {host: "unknown.example", path: "/"},
		}},
	{name: "routes.priority", objects: ir("prio", "  routes:\n"+
		"  - match: Host(`prio.example`)\n    priority: 100\n    services: [{name: beta, port: 80}]\n"+
		confRoute("Host(`prio.example`) && Path(`/x`)", "[{name: alpha, port: 80}]")+
		"  - match: Host(`prio.example`) && PathPrefix(`/low`)\n    kind: Rule\n    priority: 200\n    services: [{name: gamma, port: 80}]\n"),
		requests: []confReq{{host: "prio.example", path: "/x"}, {host: "prio.example", path: "/low/1"}}},
	{name: "services: port by name and number, namespace", objects: ir("ports", "  routes:\n"+
		confRoute("Host(`ports.example`) && PathPrefix(`/name`)", "[{name: alpha, port: http}]")+
		confRoute("Host(`ports.example`) && PathPrefix(`/number`)", "[{name: alpha, port: 80}]")+
		confRoute("Host(`ports.example`) && PathPrefix(`/other-ns`)", "[{name: other, namespace: conf2, port: 80}]")+
		confRoute("Host(`ports.example`) && PathPrefix(`/missing`)", "[{name: nosuch, port: 80}]")+
		confRoute("Host(`ports.example`) && PathPrefix(`/badport`)", "[{name: alpha, port: 99}]")),
		requests: []confReq{{host: "ports.example", path: "/name"}, {host: "ports.example", path: "/number"},
			{host: "ports.example", path: "/other-ns"}, {host: "ports.example", path: "/missing"}, {host: "ports.example", path: "/badport"}}},
	{name: "services: several, weight", objects: ir("weights", "  routes:\n"+
		confRoute("Host(`weights.example`)", "[{name: alpha, port: 80, weight: 3}, {name: beta, port: 80, weight: 1}]")),
		requests: []confReq{{host: "weights.example", path: "/", repeat: 8}}},
	{name: "services.passHostHeader", objects: ir("nopass", "  routes:\n"+
		confRoute("Host(`nopass.example`)", "[{name: alpha, port: 80, passHostHeader: false}]")),
		requests: []confReq{{host: "nopass.example", path: "/n"}}},
	{name: "services.scheme (https, h2c), serversTransport", objects: ir("schemes", "  routes:\n"+
		confRoute("Host(`schemes.example`) && PathPrefix(`/https`)", "[{name: alpha, port: https}]")+
		confRoute("Host(`schemes.example`) && PathPrefix(`/h2c`)", "[{name: alpha, port: h2c, scheme: h2c}]")+
		confRoute("Host(`schemes.example`) && PathPrefix(`/st`)", "[{name: alpha, port: 443, scheme: https, serversTransport: st}]")+
		confRoute("Host(`schemes.example`) && PathPrefix(`/st-missing`)", "[{name: alpha, port: 443, scheme: https, serversTransport: nosuch}]")) +
		"apiVersion: traefik.io/v1alpha1\nkind: ServersTransport\nmetadata: {name: st, namespace: conf}\nspec: {insecureSkipVerify: true, forwardingTimeouts: {dialTimeout: 5s}}\n---\n",
		requests: []confReq{{host: "schemes.example", path: "/https"}, {host: "schemes.example", path: "/h2c"}, {host: "schemes.example", path: "/h2c", h2: true},
			{host: "schemes.example", path: "/st"}, {host: "schemes.example", path: "/st-missing"}}},
	{name: "services.sticky.cookie", objects: ir("sticky", "  routes:\n"+
		confRoute("Host(`sticky.example`)", "[{name: pair, port: 80, sticky: {cookie: {name: pin, httpOnly: true, secure: true, sameSite: strict, maxAge: 120}}}]")+
		confRoute("Host(`sticky2.example`)", "[{name: pair, port: 80, sticky: {cookie: {}}}]")+
		confRoute("Host(`sticky1.example`)", "[{name: alpha, port: 80, sticky: {cookie: {name: pin1}}}]")),
		requests: []confReq{{host: "sticky.example", path: "/", random: true}, {host: "sticky.example", path: "/", cookie: "@pin", repeat: 6},
			// the pin among other cookies (one server: the same pin in both)
			{host: "sticky1.example", path: "/"}, {host: "sticky1.example", path: "/", cookie: `a=1;b="q"; @pin1`},
			{host: "sticky1.example", path: "/"}, {host: "sticky1.example", path: "/", cookie: `o="q"; @pin1`, h2: true},
			{host: "sticky2.example", path: "/", random: true}, {host: "sticky2.example", path: "/", h2: true, random: true}}},
	{name: "services.strategy", objects: ir("strategies", "  routes:\n"+
		confRoute("Host(`hrw.example`)", "[{name: pair, port: 80, strategy: hrw}]")+
		confRoute("Host(`rr.example`)", "[{name: pair, port: 80, strategy: RoundRobin}]")+
		confRoute("Host(`p2c.example`)", "[{name: pair, port: 80, strategy: p2c}]")+
		confRoute("Host(`lt.example`)", "[{name: pair, port: 80, strategy: leasttime}]")),
		requests: []confReq{{host: "hrw.example", path: "/", repeat: 4}, {host: "rr.example", path: "/", repeat: 4},
			{host: "p2c.example", path: "/", random: true}, {host: "lt.example", path: "/", random: true}}},
	{name: "services: ExternalName, empty", objects: ir("special", "  routes:\n"+
		confRoute("Host(`ext.example`)", "[{name: ext, port: 8080}]")+
		confRoute("Host(`empty.example`)", "[{name: empty, port: 80}]")),
		requests: []confReq{{host: "ext.example", path: "/e"}, {host: "empty.example", path: "/"}}},
	{name: "TraefikService weighted (sticky), highestRandomWeight, qualified name", objects: ir("ts", "  routes:\n"+
		confRoute("Host(`tsw.example`)", "[{name: split, kind: TraefikService}]")+
		confRoute("Host(`tsh.example`)", "[{name: hrw, kind: TraefikService}]")+
		confRoute("Host(`tsq.example`)", "[{name: conf-split@kubernetescrd, kind: TraefikService}]")+
		confRoute("Host(`tsmissing.example`)", "[{name: nosuch, kind: TraefikService}]")) +
		"apiVersion: traefik.io/v1alpha1\nkind: TraefikService\nmetadata: {name: split, namespace: conf}\nspec:\n  weighted:\n    services: [{name: alpha, port: 80, weight: 1}, {name: beta, port: 80, weight: 1}]\n    sticky: {cookie: {name: tsc}}\n---\n" +
		"apiVersion: traefik.io/v1alpha1\nkind: TraefikService\nmetadata: {name: hrw, namespace: conf}\nspec:\n  highestRandomWeight:\n    services: [{name: alpha, port: 80, weight: 1}, {name: beta, port: 80, weight: 3}]\n---\n",
		requests: []confReq{{host: "tsw.example", path: "/", repeat: 6}, {host: "tsw.example", path: "/", cookie: "@tsc", repeat: 4},
			{host: "tsh.example", path: "/", repeat: 3}, {host: "tsq.example", path: "/", repeat: 4}, {host: "tsmissing.example", path: "/"}}},
	{name: "TraefikService mirroring (GET and POST: gap 1)", objects: ir("mirror", "  routes:\n"+
		confRoute("Host(`mirror.example`)", "[{name: mirrored, kind: TraefikService}]")) +
		"apiVersion: traefik.io/v1alpha1\nkind: TraefikService\nmetadata: {name: mirrored, namespace: conf}\nspec:\n  mirroring: {name: alpha, port: 80, mirrors: [{name: shadow, port: 80, percent: 50}]}\n---\n",
		requests: []confReq{{host: "mirror.example", path: "/m", repeat: 4}, {method: "POST", host: "mirror.example", path: "/m", body: "copy me", repeat: 4},
			{host: "mirror.example", path: "/m2", h2: true}},
		after: func(env *confEnv) (string, string) {
			s := env.backends["shadow"]
			return fmt.Sprint(s.count("oracle"), " mirrored"), fmt.Sprint(s.count("sluice"), " mirrored")
		}},
	{name: "TraefikService failover (GET, HEAD, POST: gap 2)", objects: ir("failover", "  routes:\n"+
		confRoute("Host(`fo.example`)", "[{name: fo, kind: TraefikService}]")) +
		"apiVersion: traefik.io/v1alpha1\nkind: TraefikService\nmetadata: {name: fo, namespace: conf}\nspec:\n  failover:\n    service: {name: alpha, port: 80}\n    fallback: {name: gamma, port: 80}\n    errors: {status: [\"500-504\"]}\n---\n",
		requests: []confReq{{host: "fo.example", path: "/fail"}, {method: "HEAD", host: "fo.example", path: "/fail"},
			{method: "POST", host: "fo.example", path: "/fail", body: "replay me"}, {host: "fo.example", path: "/ok"},
			{host: "fo.example", path: "/fail", h2: true}}},
	{name: "internal services, cross-provider references (gap 6)", objects: ir("internal", "  routes:\n"+
		confRoute("Host(`noop.example`)", "[{name: noop@internal, kind: TraefikService}]")+
		confRoute("Host(`api.example`)", "[{name: api@internal, kind: TraefikService}]")+
		confRoute("Host(`ping.example`)", "[{name: ping@internal, kind: TraefikService}]")+
		confRoute("Host(`file.example`)", "[{name: whoami@file, kind: TraefikService}]")),
		requests: []confReq{{host: "noop.example", path: "/"}, {host: "api.example", path: "/"}, {host: "ping.example", path: "/x"}, {host: "file.example", path: "/"},
			{host: "noop.example", path: "/", h2: true}, {host: "ping.example", path: "/x", h2: true}}},
	{name: "parentRefs (multi-layer routing: gap 10)", objects: ir("parent", "  routes:\n  - match: Host(`ml.example`) && PathPrefix(`/api`)\n") +
		ir("children", "  parentRefs: [{name: parent}]\n  routes:\n"+
			confRoute("Header(`X-Role`, `admin`)", "[{name: beta, port: 80}]")+
			confRoute("PathPrefix(`/api/users`)", "[{name: gamma, port: 80}]")),
		requests: []confReq{{host: "ml.example", path: "/api/users/1"}, {host: "ml.example", path: "/api/x", header: map[string]string{"X-Role": "admin"}},
			{host: "ml.example", path: "/api/none"}, {host: "ml.example", path: "/api/users/2", h2: true}}},
	{name: "HTTP/1.0 without Host (gap 7), keep-alive, bodies of unknown length; an HTTP/1.0 server's status line", objects: ir("http10", "  routes:\n"+
		confRoute("HostRegexp(`.*`) && PathPrefix(`/re`)", "[{name: alpha, port: 80}]")+
		confRoute("!Host(`example.com`) && PathPrefix(`/not`)", "[{name: alpha, port: 80}]")+
		confRoute("Host(`old.example`)", "[{name: alpha, port: old}]")),
		requests: []confReq{{raw: "GET /re HTTP/1.0\r\n\r\n"}, {raw: "GET /not HTTP/1.0\r\n\r\n"},
			{raw: "GET /re/stream HTTP/1.0\r\n\r\n"}, {raw: "GET /re/stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
			{raw: "HEAD /re/stream HTTP/1.0\r\n\r\n"}, {raw: "GET /re HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
			{host: "any.example", path: "/re/stream"}, {host: "old.example", path: "/"}}},
	{name: "forwarded headers, hop-by-hop headers, path and query", objects: ir("headers", "  routes:\n"+
		confRoute("Host(`hdr.example`)", "[{name: alpha, port: 80}]")),
		requests: []confReq{
			{host: "hdr.example", path: "/f", header: map[string]string{"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https", "X-Real-Ip": "5.6.7.8", "X-Forwarded-Host": "evil"}},
			{host: "hdr.example", path: "/c", header: map[string]string{"Connection": "X-Drop", "X-Drop": "1", "X-Keep": "2", "Te": "trailers"}},
			{host: "hdr.example", path: "/a/../b//c/./d"}, {host: "hdr.example", path: "/q?a=1;b=2&c"}, {host: "hdr.example", path: "/%2Fenc%20x"},
			{host: "hdr.example", path: "/f", h2: true, header: map[string]string{"X-Forwarded-For": "1.2.3.4"}},
			{method: "POST", host: "hdr.example", path: "/body", body: "some body", h2: true},
			{host: "hdr.example", path: "/noct"}, {host: "hdr.example", path: "/noct", h2: true},
			{host: "hdr.example", path: "/noct-bin"}, {host: "hdr.example", path: "/noct-bin", h2: true},
		}},
	{name: "WebSocket upgrade; HTTP/2 :authority and host that differ", objects: ir("upgrade", "  routes:\n"+
		confRoute("Host(`ws.example`)", "[{name: alpha, port: up}]")),
		requests: []confReq{{host: "ws.example", path: "/chat", upgrade: true},
			{host: "other.example", authority: "hdr.example", path: "/"}, {host: "hdr.example", authority: "hdr.example", path: "/"}}},
	{name: "response encoding (Traefik's transport asks for gzip and decodes it)", objects: ir("gzip", "  routes:\n"+
		confRoute("Host(`gzip.example`)", "[{name: alpha, port: 80}]")),
		requests: []confReq{{host: "gzip.example", path: "/gzip"}, {host: "gzip.example", path: "/gzip", header: map[string]string{"Accept-Encoding": "gzip"}},
			{host: "gzip.example", path: "/gzip", h2: true}, {method: "HEAD", host: "gzip.example", path: "/gzip"},
			{host: "gzip.example", path: "/echo", header: map[string]string{"Range": "bytes=0-3"}}}},
	{name: "errors: 404, 502, 503", objects: ir("errors", "  routes:\n"+
		confRoute("Host(`dead.example`)", "[{name: dead, port: 80}]")) +
		"apiVersion: v1\nkind: Service\nmetadata: {name: dead, namespace: conf}\nspec: {ports: [{name: http, port: 80}]}\n---\n" +
		"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: dead, namespace: conf, labels: {kubernetes.io/service-name: dead}}\naddressType: IPv4\nports: [{name: http, port: 9}]\nendpoints: [{addresses: [ALPHA]}]\n---\n",
		requests: []confReq{{host: "nowhere.example", path: "/"}, {host: "nowhere.example", path: "/", h2: true}, {host: "dead.example", path: "/"},
			{host: "dead.example", path: "/", h2: true}, {host: "empty.example", path: "/", h2: true}}},
	{name: "TLS: certificates by SNI (exact, wildcard, generated default), HTTPS-only routers, HTTP/2 by ALPN", objects: tlsObjects +
		ir("tls-a", "  entryPoints: [web]\n  routes:\n"+confRoute("Host(`tls-a.example`)", "[{name: alpha, port: 80}]")+"  tls: {secretName: tls-a}\n") +
		ir("tls-w", "  entryPoints: [web]\n  routes:\n"+confRoute("Host(`x.tlsw.example`)", "[{name: beta, port: 80}]")+"  tls: {secretName: tls-w}\n") +
		ir("plainonly", "  entryPoints: [web]\n  routes:\n"+confRoute("Host(`plainonly.example`)", "[{name: alpha, port: 80}]")),
		requests: []confReq{
			{tls: true, sni: "tls-a.example", host: "tls-a.example", path: "/t?q=1"},
			{tls: true, h2: true, sni: "tls-a.example", host: "tls-a.example", path: "/t2"},
			{tls: true, sni: "x.tlsw.example", host: "x.tlsw.example", path: "/"},
			{tls: true, sni: "plainonly.example", host: "plainonly.example", path: "/"},
			{host: "tls-a.example", path: "/"},
			{tls: true, host: "tls-a.example", path: "/nosni"},
			{tls: true, sni: "unknown.example", host: "tls-a.example", path: "/"},
		}},
	{name: "TLSOption: minVersion, sniStrict, client certificates, broken and unknown options, 421", objects: tlsOptionObjects +
		ir("tls-modern", "  entryPoints: [web]\n  routes:\n"+confRoute("Host(`m.tlsw.example`)", "[{name: alpha, port: 80}]")+"  tls: {options: {name: modern}}\n") +
		ir("tls-strict", "  entryPoints: [web]\n  routes:\n"+confRoute("Host(`strict.example`)", "[{name: alpha, port: 80}]")+confRoute("Host(`s.tlsw.example`)", "[{name: alpha, port: 80}]")+"  tls: {options: {name: strict}}\n") +
		ir("tls-mtls", "  entryPoints: [web]\n  routes:\n"+confRoute("Host(`mtls.tlsw.example`)", "[{name: alpha, port: 80}]")+"  tls: {options: {name: mtls}}\n") +
		ir("tls-broken", "  entryPoints: [web]\n  routes:\n"+confRoute("Host(`broken.tlsw.example`)", "[{name: alpha, port: 80}]")+"  tls: {options: {name: broken}}\n") +
		ir("tls-unknown", "  entryPoints: [web]\n  routes:\n"+confRoute("Host(`unknown.tlsw.example`)", "[{name: alpha, port: 80}]")+"  tls: {options: {name: nosuch}}\n") +
		ir("tls-defref", "  entryPoints: [web]\n  routes:\n"+confRoute("Host(`defref.tlsw.example`)", "[{name: alpha, port: 80}]")+"  tls: {options: {name: default}}\n"),
		requests: []confReq{
			{tls: true, sni: "m.tlsw.example", host: "m.tlsw.example", path: "/"},
			{tls: true, sni: "m.tlsw.example", host: "m.tlsw.example", path: "/", maxTLS12: true},
			{tls: true, sni: "tls-a.example", host: "m.tlsw.example", path: "/fronting"},
			{tls: true, sni: "strict.example", host: "strict.example", path: "/"},
			{tls: true, sni: "s.tlsw.example", host: "s.tlsw.example", path: "/"},
			{tls: true, sni: "mtls.tlsw.example", host: "mtls.tlsw.example", path: "/"},
			{tls: true, sni: "mtls.tlsw.example", host: "mtls.tlsw.example", path: "/", clientCert: true},
			{tls: true, sni: "broken.tlsw.example", host: "broken.tlsw.example", path: "/"},
			{tls: true, sni: "unknown.tlsw.example", host: "unknown.tlsw.example", path: "/"},
			{tls: true, sni: "defref.tlsw.example", host: "defref.tlsw.example", path: "/"},
		}},
	{name: "TLS option conflicts; entry points with http.tls and http.redirections", objects: ir("conflict-1", "  entryPoints: [web]\n  routes:\n"+
		confRoute("Host(`conflict.tlsw.example`) && PathPrefix(`/a`)", "[{name: alpha, port: 80}]")+"  tls: {options: {name: modern}}\n") +
		ir("conflict-2", "  entryPoints: [web]\n  routes:\n"+confRoute("Host(`conflict.tlsw.example`) && PathPrefix(`/b`)", "[{name: beta, port: 80}]")+"  tls: {}\n") +
		ir("secure-ep", "  entryPoints: [websecure]\n  routes:\n"+confRoute("Host(`secure-ep.example`)", "[{name: alpha, port: 80}]")),
		requests: []confReq{
			{tls: true, sni: "conflict.tlsw.example", host: "conflict.tlsw.example", path: "/a", maxTLS12: true},
			{tls: true, sni: "conflict.tlsw.example", host: "conflict.tlsw.example", path: "/b"},
			{tls: true, entry: "websecure", sni: "secure-ep.example", host: "secure-ep.example", path: "/s"},
			{tls: true, h2: true, entry: "websecure", sni: "secure-ep.example", host: "secure-ep.example", path: "/s2"},
			{entry: "websecure", host: "secure-ep.example", path: "/plain"},
			{entry: "redir", host: "secure-ep.example", path: "/r?x=1"},
			{entry: "redir", method: "POST", host: "secure-ep.example", path: "/r", body: "b"},
		}},
}

// tlsObjects are the TLS Secrets (certificates made by the harness).
const tlsObjects = `apiVersion: v1
kind: Secret
metadata: {name: tls-a, namespace: conf}
type: kubernetes.io/tls
data: {tls.crt: TLS_A_CRT, tls.key: TLS_A_KEY}
---
apiVersion: v1
kind: Secret
metadata: {name: tls-w, namespace: conf}
type: kubernetes.io/tls
data: {tls.crt: TLS_W_CRT, tls.key: TLS_W_KEY}
---
`

// tlsOptionObjects are the TLSOptions, with the client CA Secret.
const tlsOptionObjects = `apiVersion: v1
kind: Secret
metadata: {name: client-ca, namespace: conf}
data: {ca.crt: CLIENT_CA}
---
apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata: {name: modern, namespace: conf}
spec: {minVersion: VersionTLS13}
---
apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata: {name: strict, namespace: conf}
spec: {sniStrict: true}
---
apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata: {name: mtls, namespace: conf}
spec: {clientAuth: {secretNames: [client-ca], clientAuthType: RequireAndVerifyClientCert}}
---
apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata: {name: broken, namespace: conf}
spec: {cipherSuites: [TLS_NOT_A_SUITE]}
---
`

// confMW is a Middleware conf/name with spec (a YAML flow mapping).
func confMW(name, spec string) string {
	return "apiVersion: traefik.io/v1alpha1\nkind: Middleware\nmetadata: {name: " + name + ", namespace: conf}\nspec: " + spec + "\n---\n"
}

// confMWRoute is a route of host through the middlewares (a YAML flow
// list) to alpha.
func confMWRoute(host, middlewares string) string {
	return fmt.Sprintf("  - match: Host(`%s`)\n    middlewares: %s\n    services: [{name: alpha, port: 80}]\n", host, middlewares)
}

func init() {
	corpus = append(append(corpus, middlewareCorpus...), v2Corpus, connectionCorpus, headerShapesCorpus, respShapesCorpus)
	corpus = append(corpus, earlyHintsCorpus)
	corpus = append(corpus, statelessTwins(middlewareCorpus, "(twins over h2c)", h2Twin)...)
	corpus = append(corpus, statelessTwins(middlewareCorpus, "(GET as HEAD)", headTwin)...)
	corpus = append(corpus, statelessTwins(middlewareCorpus, "(GET as POST with a body)", postTwin)...)
	corpus = append(corpus, statelessTwins(middlewareCorpus, "(twins over TLS)", tlsTwin)...)
	corpus = append(corpus, statelessTwins(middlewareCorpus, "(with a query)", queryTwin)...)
	corpus = append(corpus, statelessTwins(middlewareCorpus, "(an encoded path)", pathTwin)...)
}

// statelessTwins are the cases of the middleware kinds that keep no
// state across requests, each request that twin accepts sent again as
// twin makes it (named after the case, with suffix): another axis of
// each kind's corpus. Requests that depend on the one before (a cookie
// from its answer), on the connection (raw bytes, upgrades, TLS) or on
// timing are left out.
func statelessTwins(cases []confCase, suffix string, twin func(*confReq) bool) []confCase {
	stateful := []string{"rateLimit", "retry", "circuitBreaker", "grpcWeb", "passTLSClientCert"}
	var twins []confCase
	for _, c := range cases {
		if slices.ContainsFunc(stateful, func(k string) bool { return strings.Contains(c.name, k) }) {
			continue
		}
		t := confCase{name: c.name + " " + suffix}
		for _, r := range c.requests {
			if r.raw != "" || r.upgrade || r.tls || r.authority != "" || r.during != nil || r.repeat > 0 ||
				strings.Contains(r.cookie, "@") || !twin(&r) {
				continue
			}
			t.requests = append(t.requests, r)
		}
		if len(t.requests) > 0 {
			twins = append(twins, t)
		}
	}
	return twins
}

// earlyHintsCorpus: a server's 103 Early Hints over HTTP/2 through the
// middlewares that hold, retry, replace or encode the answer (Traefik's
// pass the interim answer on through their response writers, or not).
var earlyHintsCorpus = func() confCase {
	c := confCase{name: "103 Early Hints through middlewares that hold or wrap the answer",
		objects: confMW("ehcb", "{circuitBreaker: {expression: 'NetworkErrorRatio() > 0.99'}}") + ir("mw-early", "  routes:\n"+
			confMWRoute("buffering.eh.example", "[{name: bufnolimit}]")+confMWRoute("retry.eh.example", "[{name: re503}]")+
			confMWRoute("retryone.eh.example", "[{name: reone}]")+confMWRoute("ct-buffering-cors.eh.example", "[{name: ct}, {name: bufnolimit}, {name: cors}]")+
			confMWRoute("ct.eh.example", "[{name: ct}]")+confMWRoute("cors.eh.example", "[{name: cors}]")+
			confMWRoute("cb.eh.example", "[{name: ehcb}]")+confMWRoute("fl.eh.example", "[{name: fl}]"))}
	// Not here (CONFORMANCE.md, known differences): compress and errors,
	// through which Traefik moves headers between the interim answers and
	// the answer.
	for _, h := range []string{"buffering", "retry", "retryone", "ct-buffering-cors", "ct", "cors", "cb", "fl"} {
		for _, q := range []string{"", "?n=2"} {
			r := confReq{host: h + ".eh.example", path: "/early" + q, h2: true, header: map[string]string{"Accept-Encoding": "gzip", "Origin": "https://a.example"}}
			c.requests = append(c.requests, r)
		}
	}
	return c
}()

// h2Twin: a request sent over HTTP/1.1 only, over h2c.
func h2Twin(r *confReq) bool {
	r.h2 = !r.h2
	return r.h2
}

// postTwin: a GET as a POST with a body, over the same protocol; every
// other one of no declared length (chunked; HTTP/2 without
// content-length).
func postTwin(r *confReq) bool {
	if r.method != "" && r.method != "GET" || r.body != "" {
		return false
	}
	postTwins++
	r.method, r.body, r.chunked = "POST", "twin body", postTwins%2 == 0
	return true
}

// postTwins counts postTwin's requests.
var postTwins int

// tlsTwin: a request to the web entry point sent to websecure over TLS
// (whose http.tls makes every router on it a TLS one), HTTP/2 by ALPN
// where it was h2c; the server name is the host's.
func tlsTwin(r *confReq) bool {
	if r.entry != "" || r.cookie != "" || r.chunked {
		return false // sendTLS sends neither cookies nor bodies of unknown length
	}
	r.tls, r.entry = true, "websecure"
	r.sni, _, _ = strings.Cut(r.host, ":")
	return true
}

// queryTwin: a request with a query of escapes, an empty value, a
// repeated key and a semicolon added to its own (or as its only one).
func queryTwin(r *confReq) bool {
	sep := "?"
	if strings.Contains(r.path, "?") {
		sep = "&"
	}
	r.path += sep + "q=a%20b+c&e=&k=1&k=2;s=%2F"
	return true
}

// pathTwin: a request whose path gains a segment of encoded characters:
// unreserved ones (Traefik decodes them), an encoded slash, a space and
// a lower-case escape.
func pathTwin(r *confReq) bool {
	path, query, _ := strings.Cut(r.path, "?")
	r.path = strings.TrimSuffix(path, "/") + "/%7Eu%41%2fb%20c%3b"
	if query != "" {
		r.path += "?" + query
	}
	return true
}

// headTwin: a GET as HEAD, over the same protocol.
func headTwin(r *confReq) bool {
	if r.method != "" && r.method != "GET" || r.body != "" {
		return false
	}
	r.method = "HEAD"
	return true
}

// respShapes are response header lines the server adds to its own
// (Content-Type: application/json, X-Backend), fields fasthttp keeps one
// of or parses among them; each set is asked on a plain route and
// through the typical chain, over HTTP/1.1 and h2c.
// (A repeated Content-Type or Server is left out: CONFORMANCE.md, known
// differences.)
var respShapes = [][]string{
	{"X-Frame-Options:SAMEORIGIN", "X-Frame-Options:ALLOW-FROM x", "X-Content-Type-Options:other"},
	{"X-Empty:", "X-Dup:1", "X-Dup:2"},
	{"Vary:Accept", "Vary:Origin", "Cache-Control:no-cache", "Cache-Control:private"},
	{"Set-Cookie:a=1", `Set-Cookie:b="q"; Path=/`, "Set-Cookie:a=2; Path=/x"},
	{"Link:</a.css>; rel=preload", "Link:</b.js>; rel=preload"},
	{"Location:/one", "Location:/two"},
}

var respShapesCorpus = func() confCase {
	c := confCase{name: "response header shapes on a plain route and through the typical chain",
		objects: confMW("rsredir", "{redirectScheme: {scheme: http}}") +
			confMW("rssec", "{headers: {frameDeny: true, contentTypeNosniff: true, browserXssFilter: true, "+
				"referrerPolicy: same-origin, contentSecurityPolicy: \"default-src 'self'\", customResponseHeaders: {X-Served-By: conf}}}") +
			confMW("rsstrip", "{stripPrefix: {prefixes: [/api]}}") +
			ir("rshapes", "  routes:\n"+confRoute("Host(`rshapes.example`)", "[{name: alpha, port: 80}]")+
				confMWRoute("rshapes-mw.example", "[{name: rsredir}, {name: rssec}, {name: rsstrip}]"))}
	// A server's 103 Early Hints, relayed over HTTP/2 before the answer,
	// as many as it sends (over HTTP/1.1 Sluice does not relay them:
	// CONFORMANCE.md, known differences).
	for _, q := range []string{"", "?n=2", "?n=6"} {
		c.requests = append(c.requests, confReq{host: "rshapes.example", path: "/early" + q, h2: true},
			confReq{host: "rshapes-mw.example", path: "/api/early" + q, h2: true})
	}
	for _, set := range respShapes {
		q := url.Values{"respond-header": set}.Encode()
		for _, h2 := range []bool{false, true} {
			c.requests = append(c.requests, confReq{host: "rshapes.example", path: "/x?" + q, h2: h2},
				confReq{host: "rshapes-mw.example", path: "/api/x?" + q, h2: h2})
		}
	}
	return c
}()

// headerShapes are request headers of the shapes fasthttp keeps apart or
// parses (repeated special fields, cookies, empty values, odd names),
// sent raw on a plain route and through the typical middleware chain:
// the server must see what Traefik's server sees.
var headerShapes = []string{
	"User-Agent: one\r\nUser-Agent: two",
	"Cookie: a=1;b=2\r\nCookie: c=\"q\"",
	"X-Dup: 1\r\nX-Dup: 2\r\nx-dup: 3",
	"X-Empty:\r\nX-Spaces:   v   ",
	"X_Under: 1\r\nx-lower-case: 2",
	"Referer: http://r.example/\r\nReferer: http://s.example/",
	"Accept-Encoding: gzip, br\r\nAccept: */*",
	"Content-Type: text/plain\r\nContent-Type: text/html",
	"Authorization: Basic dXNlcjpwYXNz\r\nProxy-Authorization: x",
	"Forwarded: for=1.2.3.4;proto=https\r\nVia: 1.1 front",
}

// oddRequests are request heads at the edge of what servers accept
// (each gets "Connection: close" and the blank line). Malformed heads
// and Expect without a body are left out: CONFORMANCE.md, known
// differences.
var oddRequests = []string{
	"GET /x HTTP/1.1\r\nHost: shapes.example\r\nX-Latin: caf\xe9\r\n",
	"GET /x HTTP/1.1\r\nHost: shapes.example\r\nX-Tab: a\tb\r\n",
	"get /x HTTP/1.1\r\nHost: shapes.example\r\n",
	"PURGE /x HTTP/1.1\r\nHost: shapes.example\r\n",
	"GET /x?a=%zz&b=%20 HTTP/1.1\r\nHost: shapes.example\r\n",
	"GET /x#frag HTTP/1.1\r\nHost: shapes.example\r\n",
	"GET /api/%2e%2e/x HTTP/1.1\r\nHost: shapes-mw.example\r\n",
	"GET /x HTTP/1.1\r\nHost: SHAPES.example\r\n",
	"GET /x HTTP/1.1\r\nHost: shapes.example.\r\n",
	"GET /x HTTP/1.1\r\nHost: shapes.example\r\nContent-Length: 0\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: shapes.example\r\n",
	"GET http://shapes.example/x?q=1 HTTP/1.1\r\nHost: ignored.example\r\n",
	"GET https://shapes.example/x HTTP/1.1\r\nHost: shapes.example\r\n",
	"GET /caf\xc3\xa9/%00/x;p=1 HTTP/1.1\r\nHost: shapes.example\r\n",
	"GET /api/a%2Fb/c HTTP/1.1\r\nHost: shapes-mw.example\r\n",
	"GET /x HTTP/1.1\r\nHost: shapes.example:\r\n",
	"GET /x HTTP/1.1\r\nHost: shapes.example:99999\r\n",
	"GET /x HTTP/1.1\r\nHost: [::1]\r\n",
	"GET /x?a=1&a=2&b HTTP/1.1\r\nHost: shapes.example\r\n",
	"POST /x HTTP/1.1\r\nHost: shapes.example\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-T: v\r\n\r\n",
	"HEAD /x HTTP/1.1\r\nHost: shapes.example\r\n",
	"GET /x HTTP/1.1\r\nHost: shapes.example\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n",
	"GET /x HTTP/1.1\r\nHost: shapes.example\r\nMax-Forwards: 0\r\nVia: 1.0 a, 1.1 b\r\n",
}

// malformedRequests are heads Go's server refuses itself (400, 501).
var malformedRequests = []string{
	"GET /x HTTP/1.1\r\nHost: shapes.example\r\nX-Ctl: a\x01b\r\n",
	"GET /x HTTP/1.1\r\nHost: shapes.example\r\nHost: other.example\r\n",
	"GET /x HTTP/1.1\r\nHost: shapes.example\r\nTransfer-Encoding: identity\r\n",
	"POST /x HTTP/1.1\r\nHost: shapes.example\r\nTransfer-Encoding: gzip, chunked\r\n",
	"POST /x HTTP/1.1\r\nHost: shapes.example\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
}

var headerShapesCorpus = func() confCase {
	c := confCase{name: "header shapes on a plain route and through the typical chain",
		objects: confMW("shredir", "{redirectScheme: {scheme: http}}") +
			confMW("shsec", "{headers: {frameDeny: true, contentTypeNosniff: true, browserXssFilter: true, "+
				"referrerPolicy: same-origin, contentSecurityPolicy: \"default-src 'self'\", customResponseHeaders: {X-Served-By: conf}, "+
				"customRequestHeaders: {X-Dup: set}}}") +
			confMW("shstrip", "{stripPrefix: {prefixes: [/api]}}") +
			ir("shapes", "  routes:\n"+confRoute("Host(`shapes.example`)", "[{name: alpha, port: 80}]")+
				confMWRoute("shapes-mw.example", "[{name: shredir}, {name: shsec}, {name: shstrip}]"))}
	for _, h := range headerShapes {
		c.requests = append(c.requests,
			confReq{raw: "GET /x HTTP/1.1\r\nHost: shapes.example\r\n" + h + "\r\nConnection: close\r\n\r\n"},
			confReq{raw: "GET /api/x HTTP/1.1\r\nHost: shapes-mw.example\r\n" + h + "\r\nConnection: close\r\n\r\n"})
	}
	for _, r := range oddRequests {
		c.requests = append(c.requests, confReq{raw: r + "Connection: close\r\n\r\n"})
	}
	for _, r := range malformedRequests {
		c.requests = append(c.requests, confReq{raw: r + "Connection: close\r\n\r\n", goError: true})
	}
	return c
}()

// connectionCorpus: the headers a request's Connection names go before
// routing and middlewares, except the ones the entry point keeps
// (forwardedHeaders.connection, on alt: Foobar and Authorization), which
// go before the server; a managed X- header stays (issue 25).
var connectionCorpus = confCase{name: "entryPoints forwardedHeaders.connection", objects: ir("fwdconn", "  routes:\n"+
	confRoute("Host(`conn.example`) && Header(`Foobar`, `yes`)", "[{name: alpha, port: 80}]")+
	confRoute("Host(`conn.example`)", "[{name: beta, port: 80}]")+
	confMWRoute("connauth.example", "[{name: basic2}]")),
	requests: []confReq{
		{host: "conn.example", path: "/", header: map[string]string{"Connection": "Foobar, Other", "Foobar": "yes", "Other": "x"}},
		{entry: "alt", host: "conn.example", path: "/", header: map[string]string{"Connection": "Foobar, Other", "Foobar": "yes", "Other": "x"}},
		{entry: "alt", host: "conn.example", path: "/", header: map[string]string{"Connection": "foobar", "Foobar": "no"}},
		{entry: "alt", host: "conn.example", path: "/", header: map[string]string{"Foobar": "yes"}},
		{entry: "alt", host: "conn.example", path: "/", header: map[string]string{"Connection": "Foobar, X-Forwarded-Host, X-Real-Ip",
			"Foobar": "yes", "X-Forwarded-Host": "front.example", "X-Real-Ip": "192.0.2.9"}},
		{entry: "alt", host: "conn.example", path: "/", method: "POST", body: "b", header: map[string]string{"Connection": "Foobar, Keep-Alive", "Foobar": "yes"}},
		{entry: "alt", host: "connauth.example", path: "/", header: map[string]string{"Connection": "Authorization", "Authorization": "Basic YWRtaW46czNjcmV0"}},
		{host: "connauth.example", path: "/", header: map[string]string{"Connection": "Authorization", "Authorization": "Basic YWRtaW46czNjcmV0"}},
		{entry: "alt", host: "conn.example", path: "/", h2: true, header: map[string]string{"Foobar": "yes"}},
	}}

// middlewareCorpus holds a case per middleware kind.
var middlewareCorpus = []confCase{
	{name: "Middleware addPrefix, stripPrefix, stripPrefixRegex, replacePath, replacePathRegex, chain", objects: confMW("add", "{addPrefix: {prefix: /api}}") +
		confMW("strip", "{stripPrefix: {prefixes: [/foo, /bar/]}}") +
		confMW("stripre", "{stripPrefixRegex: {regex: ['/v[0-9]+', '/users/[a-z]+']}}") +
		confMW("replace", "{replacePath: {path: /new/path}}") +
		confMW("replacebad", "{replacePath: {path: '/a%zz'}}") +
		confMW("replacere", "{replacePathRegex: {regex: '^/old/(.*)', replacement: '/new/$1'}}") +
		confMW("chain", "{chain: {middlewares: [{name: strip}, {name: add}]}}") +
		confMW("noprefix", "{addPrefix: {}}") +
		ir("mw-path", "  routes:\n"+confMWRoute("add.mw.example", "[{name: add}]")+confMWRoute("strip.mw.example", "[{name: strip}]")+
			confMWRoute("stripre.mw.example", "[{name: stripre}]")+confMWRoute("replace.mw.example", "[{name: replace}]")+
			confMWRoute("replacebad.mw.example", "[{name: replacebad}]")+confMWRoute("replacere.mw.example", "[{name: replacere}]")+
			confMWRoute("chain.mw.example", "[{name: chain}]")+confMWRoute("order.mw.example", "[{name: add}, {name: strip}]")+
			confMWRoute("noprefix.mw.example", "[{name: noprefix}]")+confMWRoute("missing.mw.example", "[{name: nosuch}]")),
		requests: []confReq{
			{host: "add.mw.example", path: "/users?id=1"}, {host: "add.mw.example", path: "/a%2Fb"}, {method: "POST", host: "add.mw.example", path: "/p", body: "data"},
			{host: "strip.mw.example", path: "/foo/bar"}, {host: "strip.mw.example", path: "/foo"}, {host: "strip.mw.example", path: "/bar/baz"},
			{host: "strip.mw.example", path: "/other"}, {host: "strip.mw.example", path: "/foo/a%2Fb"}, {host: "strip.mw.example", path: "/foo%2F..%2Fetc"},
			{host: "strip.mw.example", path: "/foobar"}, {host: "strip.mw.example", path: "/foo/bar", h2: true},
			{host: "strip.mw.example", path: "/foo/c", cookie: `a=1;b=2; x="q"; y = 3`}, {host: "strip.mw.example", path: "/foo/c", cookie: `a=1;b=2; x="q"; y = 3`, h2: true},
			{host: "stripre.mw.example", path: "/v2/items"}, {host: "stripre.mw.example", path: "/users/bob/photos"}, {host: "stripre.mw.example", path: "/x/v2"},
			{host: "replace.mw.example", path: "/any/thing?q=1"}, {host: "replace.mw.example", path: "/a%2Fb"}, {host: "replacebad.mw.example", path: "/x"},
			{host: "replacere.mw.example", path: "/old/a/b"}, {host: "replacere.mw.example", path: "/kept"}, {host: "replacere.mw.example", path: "/old/%2e%2e/x"},
			{host: "chain.mw.example", path: "/foo/x"}, {host: "order.mw.example", path: "/foo/x"},
			{host: "noprefix.mw.example", path: "/"}, {host: "missing.mw.example", path: "/"},
		}},
	{name: "Middleware redirectScheme, redirectRegex", objects: confMW("tohttps", "{redirectScheme: {scheme: https, permanent: true}}") +
		confMW("toport", "{redirectScheme: {scheme: https, port: '8443'}}") +
		confMW("tohttp", "{redirectScheme: {scheme: http}}") +
		confMW("re", "{redirectRegex: {regex: '^http://re.mw.example/old/(.*)', replacement: 'http://new.example/${1}'}}") +
		confMW("reperm", "{redirectRegex: {regex: '^https?://([^/]+)/perm$', replacement: 'https://$1/moved', permanent: true}}") +
		confMW("rebad", "{redirectRegex: {regex: '(', replacement: x}}") +
		ir("mw-redirect", "  routes:\n"+confMWRoute("s.mw.example", "[{name: tohttps}]")+confMWRoute("port.mw.example", "[{name: toport}]")+
			confMWRoute("http.mw.example", "[{name: tohttp}]")+confMWRoute("re.mw.example", "[{name: re}, {name: reperm}]")+
			confMWRoute("rebad.mw.example", "[{name: rebad}]")),
		requests: []confReq{
			{host: "s.mw.example", path: "/a?b=1"}, {method: "POST", host: "s.mw.example", path: "/a", body: "x"}, {method: "HEAD", host: "s.mw.example", path: "/a"},
			{host: "s.mw.example", path: "/a", header: map[string]string{"X-Forwarded-Proto": "https"}},
			{host: "http.mw.example", path: "/h", cookie: `a=1;b=2; x="q"; y = 3`},
			{host: "s.mw.example:8000", path: "/a"}, {host: "s.mw.example", path: "/a", h2: true},
			{host: "port.mw.example:8080", path: "/p"}, {method: "PUT", host: "port.mw.example", path: "/p"}, {host: "port.mw.example:8443", path: "/p", header: map[string]string{"X-Forwarded-Proto": "https"}},
			{host: "http.mw.example", path: "/h"}, {host: "http.mw.example:80", path: "/h"}, {host: "http.mw.example", path: "/h", header: map[string]string{"X-Forwarded-Proto": "https"}},
			{host: "re.mw.example", path: "/old/x/y?z=1"}, {host: "re.mw.example", path: "/perm"}, {method: "POST", host: "re.mw.example", path: "/perm"},
			{host: "re.mw.example", path: "/stay"}, {host: "rebad.mw.example", path: "/"},
		}},
	{name: "Middleware headers: custom, CORS, security", objects: confMW("custom", "{headers: {customRequestHeaders: {X-Script-Name: test, X-Remove-Me: '', x-lower: v, X-Forwarded-For: ''}, "+
		"customResponseHeaders: {X-Custom-Response: 'yes', X-Backend: ''}}}") +
		confMW("xff", "{headers: {customRequestHeaders: {X-Forwarded-For: '10.9.9.9'}}}") +
		confMW("cors", "{headers: {accessControlAllowMethods: [GET, OPTIONS, PUT], accessControlAllowHeaders: [X-Api-Key], "+
			"accessControlAllowOriginList: ['https://a.example'], accessControlAllowOriginListRegex: ['^https://.*\\.b\\.example$'], "+
			"accessControlMaxAge: 100, accessControlExposeHeaders: [X-Total], addVaryHeader: true}}") +
		confMW("corscreds", "{headers: {accessControlAllowOriginList: ['*'], accessControlAllowCredentials: true, accessControlAllowMethods: ['*'], accessControlAllowHeaders: ['*'], accessControlExposeHeaders: ['*']}}") +
		confMW("corsstar", "{headers: {accessControlAllowOriginList: ['*']}}") +
		confMW("secure", "{headers: {frameDeny: true, contentTypeNosniff: true, browserXssFilter: true, stsSeconds: 31536000, "+
			"stsIncludeSubdomains: true, stsPreload: true, contentSecurityPolicy: \"default-src 'self'\", contentSecurityPolicyReportOnly: \"script-src 'none'\", "+
			"referrerPolicy: same-origin, permissionsPolicy: 'camera=()', publicKey: 'pin-sha256=\"x\"'}}") +
		confMW("forcests", "{headers: {stsSeconds: 60, forceSTSHeader: true}}") +
		confMW("sslproxy", "{headers: {stsSeconds: 60, sslProxyHeaders: {X-Forwarded-Proto: https}}}") +
		confMW("hosts", "{headers: {allowedHosts: [hosts.mw.example], hostsProxyHeaders: [X-Alt-Host]}}") +
		confMW("empty", "{headers: {customRequestHeaders: {}}}") +
		confMW("badorigin", "{headers: {accessControlAllowOriginListRegex: ['(']}}") +
		ir("mw-headers", "  routes:\n"+confMWRoute("custom.mw.example", "[{name: custom}]")+confMWRoute("xff.mw.example", "[{name: xff}]")+
			confMWRoute("cors.mw.example", "[{name: cors}]")+confMWRoute("creds.mw.example", "[{name: corscreds}]")+
			confMWRoute("star.mw.example", "[{name: corsstar}]")+confMWRoute("secure.mw.example", "[{name: secure}]")+
			confMWRoute("force.mw.example", "[{name: forcests}]")+confMWRoute("sslproxy.mw.example", "[{name: sslproxy}]")+
			confMWRoute("hosts.mw.example", "[{name: hosts}]")+confMWRoute("other.mw.example", "[{name: hosts}]")+
			confMWRoute("empty.mw.example", "[{name: empty}]")+confMWRoute("badorigin.mw.example", "[{name: badorigin}]")+
			confMWRoute("both.mw.example", "[{name: custom}, {name: secure}, {name: tohttps-temp}]")) +
		confMW("tohttps-temp", "{redirectScheme: {scheme: https}}"),
		requests: []confReq{
			{host: "custom.mw.example", path: "/", header: map[string]string{"X-Remove-Me": "1", "X-Script-Name": "client", "X-Forwarded-For": "1.2.3.4"}},
			{host: "custom.mw.example", path: "/", h2: true}, {method: "PUT", host: "custom.mw.example", path: "/b", body: "payload"},
			{host: "xff.mw.example", path: "/"},
			{method: "OPTIONS", host: "cors.mw.example", path: "/api", header: map[string]string{"Origin": "https://a.example", "Access-Control-Request-Method": "PUT"}},
			{method: "OPTIONS", host: "cors.mw.example", path: "/api", h2: true, header: map[string]string{"Origin": "https://x.b.example", "Access-Control-Request-Method": "GET"}},
			{method: "OPTIONS", host: "cors.mw.example", path: "/api", header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}},
			{method: "OPTIONS", host: "cors.mw.example", path: "/api", header: map[string]string{"Origin": "https://a.example"}},
			{host: "cors.mw.example", path: "/r?respond-header=Vary:Accept-Encoding", header: map[string]string{"Origin": "https://a.example"}},
			{host: "cors.mw.example", path: "/r?respond-header=Vary:Origin"}, {host: "cors.mw.example", path: "/r"},
			{method: "OPTIONS", host: "creds.mw.example", path: "/", header: map[string]string{"Origin": "https://c.example", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "X-A,X-B"}},
			{host: "creds.mw.example", path: "/", header: map[string]string{"Origin": "https://c.example"}}, {host: "creds.mw.example", path: "/"},
			{host: "star.mw.example", path: "/"},
			{host: "secure.mw.example", path: "/?respond-header=X-Frame-Options:ALLOW"}, {host: "secure.mw.example", path: "/", h2: true},
			{host: "force.mw.example", path: "/"}, {host: "sslproxy.mw.example", path: "/", header: map[string]string{"X-Forwarded-Proto": "https"}},
			{host: "sslproxy.mw.example", path: "/"},
			{host: "hosts.mw.example", path: "/"}, {host: "other.mw.example", path: "/"}, {host: "other.mw.example", path: "/", header: map[string]string{"X-Alt-Host": "hosts.mw.example"}},
			{host: "hosts.mw.example:8080", path: "/"},
			{host: "empty.mw.example", path: "/"}, {host: "badorigin.mw.example", path: "/"},
			{host: "both.mw.example", path: "/x"}, {host: "both.mw.example", path: "/x", header: map[string]string{"X-Forwarded-Proto": "https"}},
		}},
	{name: "Middleware ipAllowList, ipWhiteList", objects: confMW("lo", "{ipAllowList: {sourceRange: [127.0.0.0/8]}}") +
		confMW("ten", "{ipAllowList: {sourceRange: [10.0.0.0/8, 192.168.1.7]}}") +
		confMW("ten404", "{ipAllowList: {sourceRange: [10.0.0.0/8], rejectStatusCode: 404}}") +
		confMW("depth", "{ipAllowList: {sourceRange: [10.0.0.0/8], ipStrategy: {depth: 2}}}") +
		confMW("excl", "{ipAllowList: {sourceRange: [1.2.3.4], ipStrategy: {excludedIPs: [10.0.0.0/8, 127.0.0.1]}}}") +
		confMW("subnet", "{ipAllowList: {sourceRange: ['2001:db8::'], ipStrategy: {depth: 1, ipv6Subnet: 64}}}") +
		confMW("badcode", "{ipAllowList: {sourceRange: [10.0.0.0/8], rejectStatusCode: 999}}") +
		confMW("empty", "{ipAllowList: {rejectStatusCode: 403}}") +
		confMW("white", "{ipWhiteList: {sourceRange: [10.0.0.0/8]}}") +
		ir("mw-ip", "  routes:\n"+confMWRoute("lo.ip.example", "[{name: lo}]")+confMWRoute("ten.ip.example", "[{name: ten}]")+
			confMWRoute("ten404.ip.example", "[{name: ten404}]")+confMWRoute("depth.ip.example", "[{name: depth}]")+
			confMWRoute("excl.ip.example", "[{name: excl}]")+confMWRoute("subnet.ip.example", "[{name: subnet}]")+
			confMWRoute("badcode.ip.example", "[{name: badcode}]")+confMWRoute("empty.ip.example", "[{name: empty}]")+
			confMWRoute("white.ip.example", "[{name: white}]")),
		requests: []confReq{
			{host: "lo.ip.example", path: "/"}, {host: "lo.ip.example", path: "/", h2: true}, {method: "POST", host: "lo.ip.example", path: "/", body: "b"},
			{host: "ten.ip.example", path: "/"}, {host: "ten.ip.example", path: "/", h2: true}, {host: "ten404.ip.example", path: "/"},
			{entry: "alt", host: "ten.ip.example", path: "/", header: map[string]string{"X-Forwarded-For": "10.0.0.1"}},
			{entry: "alt", host: "depth.ip.example", path: "/", header: map[string]string{"X-Forwarded-For": "10.0.0.1, 8.8.8.8"}},
			{entry: "alt", host: "depth.ip.example", path: "/", header: map[string]string{"X-Forwarded-For": "8.8.8.8, 10.0.0.1"}},
			{entry: "alt", host: "depth.ip.example", path: "/", header: map[string]string{"X-Forwarded-For": "10.0.0.1"}},
			{host: "depth.ip.example", path: "/", header: map[string]string{"X-Forwarded-For": "10.0.0.1, 8.8.8.8"}},
			{entry: "alt", host: "excl.ip.example", path: "/", header: map[string]string{"X-Forwarded-For": "1.2.3.4, 10.0.0.9"}},
			{entry: "alt", host: "excl.ip.example", path: "/", header: map[string]string{"X-Forwarded-For": "5.5.5.5, 10.0.0.9"}},
			{entry: "alt", host: "excl.ip.example", path: "/"},
			{entry: "alt", host: "subnet.ip.example", path: "/", header: map[string]string{"X-Forwarded-For": "2001:db8::1234"}},
			{entry: "alt", host: "subnet.ip.example", path: "/", header: map[string]string{"X-Forwarded-For": "2001:db9::1"}},
			{host: "badcode.ip.example", path: "/"}, {host: "empty.ip.example", path: "/"}, {host: "white.ip.example", path: "/"},
		}},
	{name: "requests without a body: Content-Length by method", objects: ir("nobody", "  routes:\n"+confRoute("Host(`nobody.example`)", "[{name: alpha, port: 80}]")),
		requests: []confReq{{method: "DELETE", host: "nobody.example", path: "/"}, {method: "OPTIONS", host: "nobody.example", path: "/"},
			{method: "POST", host: "nobody.example", path: "/"}, {method: "PATCH", host: "nobody.example", path: "/", h2: true},
			{method: "DELETE", host: "nobody.example", path: "/", h2: true}, {method: "DELETE", host: "nobody.example", path: "/", body: "x"}}},
	{name: "Middleware basicAuth, digestAuth", objects: authObjects +
		confMW("basic", "{basicAuth: {secret: htpasswd, realm: inner, headerField: X-WebAuth-User, removeHeader: true}}") +
		confMW("basic2", "{basicAuth: {secret: basic-auth}}") +
		confMW("basicmissing", "{basicAuth: {secret: nosuch}}") +
		confMW("basictwo", "{basicAuth: {secret: twokeys}}") +
		confMW("basicnosecret", "{basicAuth: {realm: x}}") +
		confMW("digest", "{digestAuth: {secret: htdigest}}") +
		ir("mw-auth", "  routes:\n"+confMWRoute("basic.auth.example", "[{name: basic}]")+confMWRoute("basic2.auth.example", "[{name: basic2}]")+
			confMWRoute("missing.auth.example", "[{name: basicmissing}]")+confMWRoute("two.auth.example", "[{name: basictwo}]")+
			confMWRoute("nosecret.auth.example", "[{name: basicnosecret}]")+confMWRoute("digest.auth.example", "[{name: digest}]")),
		requests: []confReq{
			{host: "basic.auth.example", path: "/"}, {host: "basic.auth.example", path: "/", h2: true},
			{host: "basic.auth.example", path: "/", header: map[string]string{"Authorization": "Basic dGVzdDpoZWxsbw=="}},           // test:hello, SHA
			{host: "basic.auth.example", path: "/", header: map[string]string{"Authorization": "Basic dGVzdDI6aGVsbG8y"}},           // test2:hello2, apr1
			{host: "basic.auth.example", path: "/", header: map[string]string{"Authorization": "Basic dGVzdDM6aGVsbG8z"}, h2: true}, // test3:hello3, bcrypt
			{method: "POST", host: "basic.auth.example", path: "/", body: "b", header: map[string]string{"Authorization": "Basic dGVzdDM6aGVsbG8z"}},
			{host: "basic.auth.example", path: "/", header: map[string]string{"Authorization": "Basic dGVzdDM6d3Jvbmc="}}, // test3:wrong
			{host: "basic.auth.example", path: "/", header: map[string]string{"Authorization": "basic dGVzdDpoZWxsbw=="}},
			{host: "basic.auth.example", path: "/", header: map[string]string{"Authorization": "Basic !!"}},
			{host: "basic2.auth.example", path: "/", header: map[string]string{"Authorization": "Basic YWRtaW46czNjcmV0"}}, // admin:s3cret
			{host: "basic2.auth.example", path: "/"},
			{host: "missing.auth.example", path: "/"}, {host: "two.auth.example", path: "/"}, {host: "nosecret.auth.example", path: "/"},
			{host: "digest.auth.example", path: "/", known: "Www-Authenticate: the nonce and opaque are random"},
			{host: "digest.auth.example", path: "/", header: map[string]string{"Authorization": "Digest username=\"x\", nonce=\"n\""}, known: "Www-Authenticate: the nonce and opaque are random"},
		}},
	{name: "Middleware compress", objects: confMW("comp", "{compress: {}}") +
		confMW("brfirst", "{compress: {encodings: [br, gzip], minResponseBodyBytes: 100}}") +
		confMW("def", "{compress: {defaultEncoding: zstd, excludedContentTypes: [text/css]}}") +
		confMW("incl", "{compress: {includedContentTypes: [application/json]}}") +
		confMW("badenc", "{compress: {encodings: [lzma]}}") + confMW("ctc", "{contentType: {}}") +
		confMW("both", "{compress: {includedContentTypes: [a/b], excludedContentTypes: [c/d]}}") +
		ir("mw-compress", "  routes:\n"+confMWRoute("comp.c.example", "[{name: comp}]")+confMWRoute("br.c.example", "[{name: brfirst}]")+
			confMWRoute("def.c.example", "[{name: def}]")+confMWRoute("incl.c.example", "[{name: incl}]")+
			confMWRoute("badenc.c.example", "[{name: badenc}]")+confMWRoute("both.c.example", "[{name: both}]")+
			confMWRoute("ctcomp.c.example", "[{name: ctc}, {name: comp}]")),
		requests: compressRequests()},
	{name: "Middleware contentType, encodedCharacters", objects: confMW("ct", "{contentType: {}}") + confMW("ctoff", "{contentType: {autoDetect: false}}") +
		confMW("enc", "{encodedCharacters: {allowEncodedSlash: true}}") + confMW("encall", "{encodedCharacters: {allowEncodedSlash: true, "+
		"allowEncodedBackSlash: true, allowEncodedNullCharacter: true, allowEncodedSemicolon: true, allowEncodedPercent: true, allowEncodedQuestionMark: true, allowEncodedHash: true}}") +
		ir("mw-ct", "  routes:\n"+confMWRoute("ct.m.example", "[{name: ct}]")+confMWRoute("ctoff.m.example", "[{name: ctoff}]")+
			confMWRoute("enc.m.example", "[{name: enc}]")+confMWRoute("encall.m.example", "[{name: encall}]")),
		requests: []confReq{
			{host: "ct.m.example", path: "/noct"}, {host: "ct.m.example", path: "/noct-bin"}, {host: "ct.m.example", path: "/noct", h2: true},
			{host: "ct.m.example", path: "/body?n=3000&ct=none&chunked=1",
				racy: "Content-Type: Traefik's proxy races a flush of the header (a timer of 0, flushInterval -1 for answers of unknown length) against the first body write, and sniffs only when the write wins"}, {host: "ct.m.example", path: "/body?n=300000&ct=none"}, {host: "ct.m.example", path: "/"}, {method: "HEAD", host: "ct.m.example", path: "/noct"},
			{host: "ctoff.m.example", path: "/noct"},
			{host: "enc.m.example", path: "/a%2Fb"}, {host: "enc.m.example", path: "/a%5cb"}, {host: "enc.m.example", path: "/a%3Bb"}, {host: "enc.m.example", path: "/a%25b"},
			{host: "enc.m.example", path: "/a%00"}, {host: "enc.m.example", path: "/a%3fb"}, {host: "enc.m.example", path: "/a%23b"}, {host: "enc.m.example", path: "/a/b"},
			{host: "enc.m.example", path: "/a%5cb", h2: true}, {host: "encall.m.example", path: "/a%5cb%3B"},
		}},
	{name: "Middleware buffering", objects: confMW("buf", "{buffering: {maxRequestBodyBytes: 100, maxResponseBodyBytes: 4000}}") +
		confMW("bufnolimit", "{buffering: {}}") + confMW("bufretry", "{buffering: {retryExpression: 'IsNetworkError() && Attempts() < 2'}}") +
		confMW("bufneg", "{buffering: {maxRequestBodyBytes: -1}}") +
		ir("mw-buf", "  routes:\n"+confMWRoute("buf.b.example", "[{name: buf}]")+confMWRoute("nolimit.b.example", "[{name: bufnolimit}]")+
			confMWRoute("retry.b.example", "[{name: bufretry}]")+confMWRoute("neg.b.example", "[{name: bufneg}]")),
		requests: []confReq{
			{method: "POST", host: "buf.b.example", path: "/p", body: "hello"}, {method: "POST", host: "buf.b.example", path: "/p", body: "hello", h2: true},
			{method: "POST", host: "buf.b.example", path: "/p", body: strings.Repeat("x", 200)}, {method: "PUT", host: "buf.b.example", path: "/p", body: strings.Repeat("x", 200), h2: true},
			{host: "buf.b.example", path: "/g"}, {host: "buf.b.example", path: "/body?n=3000&ct=text/plain"}, {host: "buf.b.example", path: "/body?n=3000&ct=text/plain&chunked=1"},
			{host: "buf.b.example", path: "/body?n=5000&ct=text/plain"}, {host: "buf.b.example", path: "/body?n=5000&chunked=1"},
			{host: "nolimit.b.example", path: "/body?n=3000&chunked=1"}, {method: "POST", host: "nolimit.b.example", path: "/p", body: "abc"},
			// Go's servers send a whole small output with its length: up to
			// 2048 bytes over HTTP/1.1, 4096 over HTTP/2 (the twins below).
			{host: "nolimit.b.example", path: "/body?n=2048&chunked=1"}, {host: "nolimit.b.example", path: "/body?n=2049&chunked=1"},
			{host: "nolimit.b.example", path: "/body?n=4096&chunked=1"}, {host: "nolimit.b.example", path: "/body?n=4097&chunked=1"},
			{host: "retry.b.example", path: "/"}, {host: "neg.b.example", path: "/"},
		}},
	{name: "Middleware on the entry point (http.middlewares)", objects: confMW("epmw", "{addPrefix: {prefix: /ep}}") +
		confMW("epmw2", "{headers: {customResponseHeaders: {X-Entry: 'yes'}}}") + confMW("routemw", "{addPrefix: {prefix: /route}}") +
		ir("mw-ep", "  routes:\n"+confMWRoute("ep.e.example", "[{name: routemw}]")+confMWRoute("bare.e.example", "[]")),
		requests: []confReq{
			{entry: "epmw", host: "ep.e.example", path: "/x"}, {entry: "epmw", host: "bare.e.example", path: "/x"},
			{entry: "epmw", method: "POST", host: "bare.e.example", path: "/x", body: "b", h2: true}, {entry: "epmw", host: "nowhere.e.example", path: "/x"},
			{host: "ep.e.example", path: "/x"},
		}},
	{name: "Middleware passTLSClientCert", objects: confMW("pass", "{passTLSClientCert: {pem: true, info: {notAfter: true, notBefore: true, sans: true, serialNumber: true, "+
		"subject: {country: true, province: true, locality: true, organization: true, organizationalUnit: true, commonName: true, serialNumber: true, domainComponent: true}, "+
		"issuer: {country: true, commonName: true, domainComponent: true}}}}") +
		ir("mw-pass", "  entryPoints: [web]\n  routes:\n"+confMWRoute("pass.tlsw.example", "[{name: pass}]")+"  tls: {options: {name: mtls}}\n") +
		ir("mw-pass-plain", "  entryPoints: [web]\n  routes:\n"+confMWRoute("pass.tlsw.example", "[{name: pass}]")),
		requests: []confReq{
			{tls: true, sni: "pass.tlsw.example", host: "pass.tlsw.example", path: "/", clientCert: true},
			{tls: true, h2: true, sni: "pass.tlsw.example", host: "pass.tlsw.example", path: "/", clientCert: true},
			{host: "pass.tlsw.example", path: "/", header: map[string]string{"X-Forwarded-Tls-Client-Cert": "forged"}},
		}},
	{name: "Middleware rateLimit, inFlightReq", objects: confMW("rl", "{rateLimit: {average: 1, period: 10s, burst: 2, sourceCriterion: {requestHeaderName: X-Key}}}") +
		confMW("rlhost", "{rateLimit: {average: 1, period: 1m, sourceCriterion: {requestHost: true}}}") +
		confMW("rlfast", "{rateLimit: {average: 100, burst: 1, sourceCriterion: {requestHeaderName: X-Key}}}") +
		confMW("rlbad", "{rateLimit: {average: 1, sourceCriterion: {requestHost: true, requestHeaderName: X-A}}}") +
		confMW("rlneg", "{rateLimit: {average: 1, period: -1s}}") +
		confMW("rlredis", "{rateLimit: {average: 1, period: 10s, burst: 2, sourceCriterion: {requestHeaderName: X-Conformance-Proxy}, redis: {endpoints: [REDIS]}}}") +
		confMW("rlnoredis", "{rateLimit: {average: 1, redis: {endpoints: ['127.0.0.1:9'], dialTimeout: 1s}}}") +
		confMW("fl", "{inFlightReq: {amount: 1}}") + confMW("flkey", "{inFlightReq: {amount: 1, sourceCriterion: {requestHeaderName: X-Key}}}") +
		ir("mw-state", "  routes:\n"+confMWRoute("rl.s.example", "[{name: rl}]")+confMWRoute("host.s.example", "[{name: rlhost}]")+
			confMWRoute("fast.s.example", "[{name: rlfast}]")+confMWRoute("bad.s.example", "[{name: rlbad}]")+
			confMWRoute("neg.s.example", "[{name: rlneg}]")+confMWRoute("fl.s.example", "[{name: fl}]")+
			confMWRoute("redis.s.example", "[{name: rlredis}]")+confMWRoute("noredis.s.example", "[{name: rlnoredis}]")+confMWRoute("flkey.s.example", "[{name: flkey}]")),
		requests: statefulRequests()},
	{name: "Middleware forwardAuth", objects: confMW("fa", "{forwardAuth: {address: 'http://GAMMA:8080/auth', authResponseHeaders: [X-Auth-User], trustForwardHeader: true}}") +
		confMW("faold", "{forwardAuth: {address: 'http://GAMMA:8080/auth', authResponseHeadersRegex: '^X-Auth-'}}") +
		confMW("fanotrust", "{forwardAuth: {address: 'http://GAMMA:8080/auth', trustForwardHeader: false, authRequestHeaders: [X-Auth, Cookie]}}") +
		confMW("fabody", "{forwardAuth: {address: 'http://GAMMA:8080/auth', forwardBody: true, maxBodySize: 10, preserveRequestMethod: true, trustForwardHeader: true}}") +
		confMW("facookie", "{forwardAuth: {address: 'http://GAMMA:8080/auth', addAuthCookiesToResponse: [auth], trustForwardHeader: true}}") +
		confMW("fasignin", "{forwardAuth: {address: 'http://GAMMA:8080/auth', authSigninURL: 'https://login.example/signin', trustForwardHeader: true}}") +
		confMW("fapreserve", "{forwardAuth: {address: 'http://GAMMA:8080/auth', preserveLocationHeader: true, trustForwardHeader: true}}") +
		confMW("fadown", "{forwardAuth: {address: 'http://ALPHA:9/auth', trustForwardHeader: true}}") +
		confMW("fanoaddr", "{forwardAuth: {trustForwardHeader: true}}") +
		confMW("fabadre", "{forwardAuth: {address: 'http://GAMMA:8080/auth', authResponseHeadersRegex: '('}}") +
		ir("mw-fa", "  routes:\n"+confMWRoute("fa.f.example", "[{name: fa}]")+confMWRoute("old.f.example", "[{name: faold}]")+
			confMWRoute("notrust.f.example", "[{name: fanotrust}]")+confMWRoute("body.f.example", "[{name: fabody}]")+
			confMWRoute("cookie.f.example", "[{name: facookie}]")+confMWRoute("signin.f.example", "[{name: fasignin}]")+
			confMWRoute("preserve.f.example", "[{name: fapreserve}]")+confMWRoute("down.f.example", "[{name: fadown}]")+
			confMWRoute("noaddr.f.example", "[{name: fanoaddr}]")+confMWRoute("badre.f.example", "[{name: fabadre}]")),
		requests: forwardAuthRequests()},
	{name: "Middleware retry", objects: confMW("re", "{retry: {attempts: 3, initialInterval: 10ms}}") +
		confMW("re503", "{retry: {attempts: 3, status: ['503', '500-502']}}") +
		confMW("renonidem", "{retry: {attempts: 2, status: ['503'], retryNonIdempotentMethod: true}}") +
		confMW("renonet", "{retry: {attempts: 2, disableRetryOnNetworkError: true, status: ['500-599']}}") +
		confMW("reone", "{retry: {attempts: 1}}") + confMW("rezero", "{retry: {}}") +
		confMW("renothing", "{retry: {attempts: 2, disableRetryOnNetworkError: true}}") +
		"apiVersion: v1\nkind: Service\nmetadata: {name: half, namespace: conf}\nspec: {ports: [{name: http, port: 80}]}\n---\n" +
		"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: half, namespace: conf, labels: {kubernetes.io/service-name: half}}\naddressType: IPv4\n" +
		"ports: [{name: http, port: 8091}]\nendpoints: [{addresses: [ALPHA]}, {addresses: [BETA]}]\n---\n" +
		ir("mw-retry", "  routes:\n"+
			"  - match: Host(`half.r.example`)\n    middlewares: [{name: re}]\n    services: [{name: half, port: 80}]\n"+
			"  - match: Host(`halfnone.r.example`)\n    middlewares: [{name: reone}]\n    services: [{name: half, port: 80}]\n"+
			"  - match: Host(`deadnonet.r.example`)\n    middlewares: [{name: renonet}]\n    services: [{name: dead, port: 80}]\n"+
			confMWRoute("s503.r.example", "[{name: re503}]")+confMWRoute("nonidem.r.example", "[{name: renonidem}]")+
			confMWRoute("zero.r.example", "[{name: rezero}]")+confMWRoute("nothing.r.example", "[{name: renothing}]")),
		requests: []confReq{
			{host: "half.r.example", path: "/h", repeat: 6}, {host: "half.r.example", path: "/h", h2: true, repeat: 4},
			{method: "POST", host: "half.r.example", path: "/h", body: "not sent yet", repeat: 4},
			{host: "deadnonet.r.example", path: "/"},
			{host: "s503.r.example", path: "/status/503?c=get"}, {method: "POST", host: "s503.r.example", path: "/status/503?c=post", body: "b"},
			{host: "s503.r.example", path: "/status/504?c=other"}, {host: "s503.r.example", path: "/status/500?c=h2", h2: true},
			{method: "POST", host: "nonidem.r.example", path: "/status/503?c=nonidem", body: "again"},
			{host: "zero.r.example", path: "/"}, {host: "nothing.r.example", path: "/"},
		},
		after: func(env *confEnv) (string, string) {
			count := func(p string) string {
				var out []string
				for _, uri := range []string{"/status/503?c=get", "/status/503?c=post", "/status/504?c=other", "/status/500?c=h2", "/status/503?c=nonidem"} {
					out = append(out, fmt.Sprintf("%s %d", uri, env.backends["alpha"].countURI(p, uri)))
				}
				return strings.Join(out, ", ")
			}
			return count("oracle"), count("sluice")
		}},
	{name: "Middleware errors", objects: confMW("ep", "{errors: {status: ['500-599'], service: {name: gamma, port: 80}, query: '/err/{status}?orig={originalStatus}&u={url}'}}") +
		confMW("eprw", "{errors: {status: ['404', '500-599'], statusRewrites: {'502-504': 500, '404': 410}, service: {name: gamma, port: 80}, query: '{status}.html'}}") +
		confMW("ephdr", "{errors: {status: ['400-499'], errorRequestHeaders: [X-Keep, accept], service: {name: gamma, port: 80}}}") +
		confMW("epdead", "{errors: {status: ['500-599'], service: {name: dead, port: 80}, query: /x}}") +
		confMW("epnosvc", "{errors: {status: ['500-599'], service: {name: nosuch, port: 80}}}") +
		confMW("epbad", "{errors: {status: ['500,502'], service: {name: gamma, port: 80}}}") +
		ir("mw-errors", "  routes:\n"+confMWRoute("ep.er.example", "[{name: ep}]")+confMWRoute("rw.er.example", "[{name: eprw}]")+
			confMWRoute("hdr.er.example", "[{name: ephdr}]")+confMWRoute("dead.er.example", "[{name: epdead}]")+
			confMWRoute("nosvc.er.example", "[{name: epnosvc}]")+confMWRoute("bad.er.example", "[{name: epbad}]")+
			"  - match: Host(`down.er.example`)\n    middlewares: [{name: ep}]\n    services: [{name: dead, port: 80}]\n"),
		requests: []confReq{
			{host: "ep.er.example", path: "/status/503?q=1", header: map[string]string{"X-Client": "c"}}, {host: "ep.er.example", path: "/ok"},
			{host: "ep.er.example", path: "/status/500", h2: true}, {method: "POST", host: "ep.er.example", path: "/status/502", body: "data"},
			{host: "ep.er.example", path: "/status/404"}, {host: "down.er.example", path: "/"},
			{host: "rw.er.example", path: "/status/503"}, {host: "rw.er.example", path: "/status/404"}, {host: "rw.er.example", path: "/status/501"},
			{host: "hdr.er.example", path: "/status/403", header: map[string]string{"X-Keep": "k", "X-Drop": "d", "Accept": "text/html"}},
			{host: "dead.er.example", path: "/status/500"}, {host: "nosvc.er.example", path: "/"}, {host: "bad.er.example", path: "/"},
		}},
	{name: "Middleware circuitBreaker", objects: confMW("cbnet", "{circuitBreaker: {expression: 'NetworkErrorRatio() > 0.5', fallbackDuration: 1m}}") +
		confMW("cbcode", "{circuitBreaker: {expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.4', responseCode: 418, fallbackDuration: 1m}}") +
		confMW("cblat", "{circuitBreaker: {expression: 'LatencyAtQuantileMS(50.0) > 300', fallbackDuration: 1m}}") +
		confMW("cbbad", "{circuitBreaker: {expression: 'NetworkErrorRatio() > 1'}}") + confMW("cbempty", "{circuitBreaker: {}}") +
		ir("mw-cb", "  routes:\n"+
			"  - match: Host(`net.cb.example`)\n    middlewares: [{name: cbnet}]\n    services: [{name: dead, port: 80}]\n"+
			confMWRoute("code.cb.example", "[{name: cbcode}]")+confMWRoute("lat.cb.example", "[{name: cblat}]")+
			confMWRoute("bad.cb.example", "[{name: cbbad}]")+confMWRoute("empty.cb.example", "[{name: cbempty}]")),
		requests: []confReq{
			{host: "net.cb.example", path: "/"}, {host: "net.cb.example", path: "/"}, {host: "net.cb.example", path: "/", h2: true},
			{host: "code.cb.example", path: "/ok"}, {host: "code.cb.example", path: "/status/500"}, {host: "code.cb.example", path: "/ok"},
			{host: "lat.cb.example", path: "/slow?ms=400"}, {host: "lat.cb.example", path: "/ok"},
			{host: "bad.cb.example", path: "/"}, {host: "empty.cb.example", path: "/"},
		}},
	{name: "Middleware buffering retryExpression", objects: confMW("bre", "{buffering: {retryExpression: 'IsNetworkError() && Attempts() < 3'}}") +
		confMW("bremeth", "{buffering: {retryExpression: 'RequestMethod() == \"PUT\" && ResponseCode() == 500 && Attempts() <= 1'}}") +
		confMW("brebad", "{buffering: {retryExpression: 'Attempts() < 2.5'}}") +
		ir("mw-bre", "  routes:\n"+confMWRoute("bre.b.example", "[{name: bre}]")+confMWRoute("meth.b.example", "[{name: bremeth}]")+
			confMWRoute("bad.b.example", "[{name: brebad}]")),
		requests: []confReq{
			{method: "POST", host: "bre.b.example", path: "/status/502?c=bpost", body: "x"}, {host: "bre.b.example", path: "/status/502?c=bget"},
			{method: "POST", host: "bre.b.example", path: "/status/500?c=b500", body: "x"},
			{method: "PUT", host: "meth.b.example", path: "/status/500?c=bput", body: "x"}, {method: "POST", host: "meth.b.example", path: "/status/500?c=bpost2", body: "x"},
			{host: "bad.b.example", path: "/"},
		},
		after: func(env *confEnv) (string, string) {
			count := func(p string) string {
				var out []string
				for _, c := range []string{"bpost", "bget", "b500", "bput", "bpost2"} {
					out = append(out, fmt.Sprintf("%s %d", c, env.backends["alpha"].countURI(p, "/status/"+map[bool]string{true: "500", false: "502"}[c != "bpost" && c != "bget"]+"?c="+c)))
				}
				return strings.Join(out, ", ")
			}
			return count("oracle"), count("sluice")
		}},
	{name: "Middleware grpcWeb", objects: confMW("gw", "{grpcWeb: {allowOrigins: ['https://app.example']}}") +
		confMW("gwany", "{grpcWeb: {allowOrigins: ['*']}}") + confMW("gwnone", "{grpcWeb: {}}") +
		ir("mw-grpcweb", "  routes:\n"+gwRoute("gw.g.example", "gw", "port: h2c, scheme: h2c")+gwRoute("h1.g.example", "gw", "port: 80")+
			gwRoute("any.g.example", "gwany", "port: h2c, scheme: h2c")+gwRoute("none.g.example", "gwnone", "port: h2c, scheme: h2c")),
		requests: grpcWebRequests()},
}

// authObjects are the auth middlewares' Secrets: htpasswd lines (go-http-auth's
// test users: SHA, apr1, bcrypt), a basic-auth Secret (admin:s3cret), one
// with two keys, and htdigest lines.
const authObjects = `apiVersion: v1
kind: Secret
metadata: {name: htpasswd, namespace: conf}
stringData:
  users: |
    test:{SHA}qvTGHdzF6KLavt4PO0gs2a6pQ00=
    test2:$apr1$a0j62R97$mYqFkloXH0/UOaUnAiV2b0
    test3:$2y$05$ih3C91zUBSTFcAh2mQnZYuob0UOZVEf16wl/ukgjDhjvj.xgM1WwS
---
apiVersion: v1
kind: Secret
metadata: {name: basic-auth, namespace: conf}
type: kubernetes.io/basic-auth
stringData: {username: admin, password: s3cret}
---
apiVersion: v1
kind: Secret
metadata: {name: twokeys, namespace: conf}
stringData: {a: "u:{SHA}x", b: "v:{SHA}y"}
---
apiVersion: v1
kind: Secret
metadata: {name: htdigest, namespace: conf}
stringData: {users: "test:traefik:aa78524fceb0e50fd8ca96dd818b8cf9"}
---
`

// compressRequests are the compress case's requests: each encoding and
// the choice between them, the answers left alone, streamed bodies.
func compressRequests() []confReq {
	var rs []confReq
	add := func(host, path, ae string, extra ...func(*confReq)) {
		r := confReq{host: host, path: path, header: map[string]string{}}
		if ae != "" {
			r.header["Accept-Encoding"] = ae
		}
		for _, e := range extra {
			e(&r)
		}
		rs = append(rs, r)
	}
	h2 := func(r *confReq) { r.h2 = true }
	head := func(r *confReq) { r.method = "HEAD" }
	for _, ae := range []string{"gzip", "br", "zstd", "gzip;q=0.5, br", "zstd, br, gzip", "*", "identity", "compress", "gzip;q=0", "GZIP"} {
		add("comp.c.example", "/body?n=5000&ct=text/html", ae)
	}
	add("comp.c.example", "/body?n=5000&ct=text/html", "")
	add("comp.c.example", "/body?n=5000&ct=text/html", "br", h2)
	add("comp.c.example", "/body?n=5000&ct=text/html", "gzip", h2)
	add("comp.c.example", "/body?n=5000&ct=text/html", "gzip", head)
	add("comp.c.example", "/body?n=500&ct=text/html", "gzip")
	add("comp.c.example", "/body?n=1024&ct=text/html", "zstd")
	add("comp.c.example", "/body?n=500&ct=text/html&chunked=1", "gzip")
	add("comp.c.example", "/body?n=500&ct=text/html&chunked=1", "br")
	add("comp.c.example", "/body?n=200000&ct=text/html&chunked=1", "gzip")
	add("comp.c.example", "/body?n=300000&ct=text/plain", "zstd")
	add("comp.c.example", "/body?n=5000&ct=none", "gzip")
	add("comp.c.example", "/body?n=5000&ct=none", "br")
	add("comp.c.example", "/body?n=500&ct=none", "gzip")
	add("comp.c.example", "/body?n=0&ct=text/html", "gzip")
	add("comp.c.example", "/gzip", "gzip")
	add("comp.c.example", "/gzip", "")
	add("comp.c.example", "/body?n=5000&ct=application/grpc", "gzip")
	// Go's servers send a whole small output with its length: up to 2048
	// bytes over HTTP/1.1, 4096 over HTTP/2; these bodies do not compress.
	for _, n := range []string{"1900", "2100", "3000", "4200"} {
		for _, ae := range []string{"gzip", "br", "zstd"} {
			add("comp.c.example", "/body?ct=text/html&rand=1&n="+n, ae)
			add("comp.c.example", "/body?ct=text/html&rand=1&n="+n, ae, h2)
		}
	}
	add("comp.c.example", "/body?n=5000&ct=text/html&respond-header=Content-Range:bytes%200-4999/9000", "gzip")
	add("comp.c.example", "/body?n=5000&ct=text/html&respond-header=Accept-Ranges:bytes&respond-header=ETag:%22x%22", "gzip")
	add("comp.c.example", "/body?n=5000&ct=text/html&respond-header=Vary:Cookie", "br")
	add("comp.c.example", "/status/404", "gzip")
	add("comp.c.example", "/body?n=5000&ct=text/html", "gzip", func(r *confReq) { r.method, r.body = "POST", "x"; r.header["Content-Type"] = "application/grpc" })
	add("br.c.example", "/body?n=300&ct=text/html", "gzip, br")
	add("def.c.example", "/body?n=5000&ct=text/html", "")
	add("def.c.example", "/gzip", "")
	add("def.c.example", "/body?n=5000&ct=text/css", "gzip")
	add("incl.c.example", "/body?n=5000&ct=application/json", "gzip")
	add("incl.c.example", "/body?n=5000&ct=application/json", "br")
	add("incl.c.example", "/body?n=5000&ct=text/html", "br")
	add("badenc.c.example", "/", "gzip")
	add("both.c.example", "/", "gzip")
	add("ctcomp.c.example", "/body?n=5000&ct=none", "gzip")
	add("ctcomp.c.example", "/body?n=5000&ct=none", "br")
	add("ctcomp.c.example", "/body?n=500&ct=none", "gzip")
	return rs
}

// gwRoute is a route of host through the grpcWeb middleware mw to alpha
// at the port (and scheme) given.
func gwRoute(host, mw, port string) string {
	return fmt.Sprintf("  - match: Host(`%s`)\n    middlewares: [{name: %s}]\n    services: [{name: alpha, %s}]\n", host, mw, port)
}

// grpcWebRequests: gRPC-Web (binary and text) over HTTP/1.1 and h2c, to
// an h2c and an HTTP/1.1 server, with a status in trailers, a
// trailers-only answer, two messages; origins allowed and not; CORS
// preflights; requests that are not gRPC-Web.
func grpcWebRequests() []confReq {
	msg := "\x00\x00\x00\x00\x05hello"
	web := func(host, path, origin string, text, h2 bool) confReq {
		r := confReq{method: "POST", host: host, path: path, body: msg, h2: h2,
			header: map[string]string{"Content-Type": "application/grpc-web+proto", "X-Grpc-Web": "1"}}
		if text {
			r.body = base64.StdEncoding.EncodeToString([]byte(msg))
			r.header["Content-Type"] = "application/grpc-web-text"
		}
		if origin != "" {
			r.header["Origin"] = origin
		}
		return r
	}
	preflight := func(host, origin, method, headers string) confReq {
		r := confReq{method: "OPTIONS", host: host, path: "/grpc", header: map[string]string{"Access-Control-Request-Headers": headers}}
		if origin != "" {
			r.header["Origin"] = origin
		}
		if method != "" {
			r.header["Access-Control-Request-Method"] = method
		}
		return r
	}
	// Traefik's trailers-only grpc-web-text answer over HTTP/2 declares a
	// Content-Length of 0 and sends the trailer frame after it.
	overrun := func(r confReq) confReq {
		r.brokenBody = "Traefik's HTTP/2 writer sends grpc-web's trailer frame past the Content-Length of 0 the server declared; Sluice sends neither"
		return r
	}
	app := "https://app.example"
	return []confReq{
		web("gw.g.example", "/grpc", app, false, false), web("gw.g.example", "/grpc", app, false, true),
		web("gw.g.example", "/grpc", app, true, false), web("gw.g.example", "/grpc", app, true, true),
		web("gw.g.example", "/grpc?status=5&msg=not%20found", app, false, false), web("gw.g.example", "/grpc?frames=2", "", true, false),
		web("gw.g.example", "/grpc?only=1&status=7&msg=denied", app, false, false), overrun(web("gw.g.example", "/grpc?only=1&status=7", app, true, true)),
		web("gw.g.example", "/grpc", "https://evil.example", false, false), web("h1.g.example", "/grpc?status=3", app, false, false),
		web("any.g.example", "/grpc", "https://whoever.example", true, false), web("none.g.example", "/grpc", app, false, false),
		preflight("gw.g.example", app, "POST", "x-grpc-web,content-type,x-user-agent"), preflight("gw.g.example", app, "post", "X-Grpc-Web, x_custom.h"),
		preflight("gw.g.example", "https://evil.example", "POST", "x-grpc-web"), preflight("gw.g.example", app, "DELETE", "x-grpc-web"),
		// Not here: an OPTIONS asking for x-grpc-web without a method
		// goes on converted, and Traefik then sends an empty
		// Content-Type field, which Sluice leaves out (CONFORMANCE.md).
		preflight("gw.g.example", "", "POST", "x-grpc-web"),
		func() confReq {
			r := preflight("gw.g.example", app, "POST", "content-type")
			r.path = "/plain"
			return r
		}(),
		{host: "gw.g.example", path: "/grpc-get"}, {method: "POST", host: "gw.g.example", path: "/json", body: "{}", header: map[string]string{"Content-Type": "application/json"}},
	}
}

// statefulRequests: a burst of two then a refusal per source (header and
// host sources, HTTP/1.1 and h2c), a wait just over Traefik's bound,
// invalid limits; a second request in flight refused, per host and per
// header.
func statefulRequests() []confReq {
	key := func(host, k string, h2 bool) confReq {
		return confReq{host: host, path: "/", h2: h2, header: map[string]string{"X-Key": k}, varies: "X-Retry-In: the time to the next token, to the nanosecond"}
	}
	slow := func(host, k string) *confReq {
		r := key(host, k, false)
		r.path = "/slow?ms=600"
		return &r
	}
	during := func(r confReq, bg *confReq) confReq { r.during = bg; return r }
	return []confReq{
		key("rl.s.example", "a", false), key("rl.s.example", "a", false), key("rl.s.example", "a", false), key("rl.s.example", "b", false),
		key("rl.s.example", "c", true), key("rl.s.example", "c", true), key("rl.s.example", "c", true), key("rl.s.example", "", false),
		{host: "host.s.example", path: "/"}, {host: "host.s.example", path: "/", varies: "X-Retry-In: the time to the next token, to the nanosecond"},
		key("fast.s.example", "a", false), key("fast.s.example", "a", false), // the second would wait ~10 ms, over the 5 ms bound
		{host: "bad.s.example", path: "/"}, {host: "neg.s.example", path: "/"},
		during(key("fl.s.example", "a", false), slow("fl.s.example", "a")), key("fl.s.example", "a", false),
		during(key("fl.s.example", "a", true), slow("fl.s.example", "b")),
		during(key("flkey.s.example", "b", false), slow("flkey.s.example", "a")),
		during(key("flkey.s.example", "a", false), slow("flkey.s.example", "a")),
		// Shared through Redis, each proxy its own bucket (the source is the
		// header naming the proxy): the same burst and refusal.
		key("redis.s.example", "", false), key("redis.s.example", "", true), key("redis.s.example", "", false),
		{host: "noredis.s.example", path: "/"},
	}
}

// forwardAuthRequests: each decision of the auth server through each
// header mode, what the auth server and the backend saw, bodies, cookies,
// redirects, the sign-in URL, an unreachable auth server, invalid
// configurations.
func forwardAuthRequests() []confReq {
	auth := func(host, decision string, extra ...func(*confReq)) confReq {
		r := confReq{host: host, path: "/p/q?a=1", header: map[string]string{"X-Auth": decision, "User-Agent": "conf-client",
			"Cookie": "c=1", "X-Custom": "v", "X-Forwarded-Prefix": "/pre", "Connection": "X-Custom"}}
		for _, e := range extra {
			e(&r)
		}
		return r
	}
	h2 := func(r *confReq) { r.h2 = true; delete(r.header, "Connection") }
	alt := func(r *confReq) {
		r.entry = "alt"
		r.header["X-Forwarded-For"] = "1.2.3.4"
		r.header["X-Forwarded-Proto"] = "https"
	}
	post := func(body string) func(*confReq) { return func(r *confReq) { r.method, r.body = "POST", body } }
	noUA := func(r *confReq) { delete(r.header, "User-Agent") }
	// kept: alt's forwardedHeaders.connection keeps Foobar for the
	// middlewares; Traefik's auth request leaves it out all the same.
	kept := func(r *confReq) {
		r.entry = "alt"
		r.header["Connection"], r.header["Foobar"] = "X-Custom, Foobar", "yes"
	}
	return []confReq{
		auth("fa.f.example", "deny", kept), auth("fa.f.example", "ok", kept), auth("old.f.example", "deny", kept),
		auth("fa.f.example", "ok"), auth("fa.f.example", "deny"), auth("fa.f.example", "deny", alt), auth("fa.f.example", "deny", h2),
		auth("fa.f.example", "deny", noUA), auth("fa.f.example", "redirect"), auth("fa.f.example", "abs"), auth("fa.f.example", "401"),
		auth("fa.f.example", "deny", post("hello")), auth("fa.f.example", "ok", h2),
		auth("old.f.example", "ok"), auth("old.f.example", "deny"), auth("old.f.example", "deny", alt), auth("old.f.example", "deny", noUA),
		auth("notrust.f.example", "deny"), auth("notrust.f.example", "deny", alt), auth("notrust.f.example", "ok"),
		auth("body.f.example", "deny", post("hello")), auth("body.f.example", "deny", post("this body is too long")),
		auth("body.f.example", "ok", post("hello")), auth("body.f.example", "deny"),
		auth("cookie.f.example", "ok", func(r *confReq) { r.path = "/r?respond-header=Set-Cookie:srv=1&respond-header=Set-Cookie:auth=server" }),
		auth("signin.f.example", "401"), auth("signin.f.example", "deny"), auth("signin.f.example", "401", post("x")),
		auth("preserve.f.example", "redirect"), auth("down.f.example", "ok"), auth("down.f.example", "ok", h2),
		auth("noaddr.f.example", "ok"), auth("badre.f.example", "ok"),
	}
}
