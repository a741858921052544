// Command genroutes writes equivalent N-route configurations for Sluice
// (a manifests directory), HAProxy and nginx, all forwarding to the two
// benchmark backends on 127.0.0.1:9001 and 127.0.0.2:9002 (distinct IPs:
// Traefik, and so Sluice, keeps one server per endpoint IP), plus what the harness needs to
// hit them: the middle route's Host and path, and a wrk script that spreads
// requests over every route.
//
//	genroutes -kind hosts|prefix|mix -n N -out DIR [-tls-cert FILE -tls-key FILE]
//
// With a certificate (hosts only), every route is also served over TLS
// with it: by Sluice on its one port (a TLS IngressRoute beside each
// plain one, and TLSStore default naming the certificate, so that any
// server name gets it), by HAProxy on 8087 and nginx on 8088 (HTTP/1.1
// and HTTP/2 by ALPN).
//
// hosts:  route i is Host(`rNNNNNN.bench.local`) && PathPrefix(`/`).
// prefix: route i is Host(`bench.local`) && PathPrefix(`/pNNNNNN`).
// mix:    host i has four routes, the shapes real IngressRoutes mix:
//
//	Host && PathPrefix(`/api`) && Header(`X-Tenant`, `gold`),
//	Host && PathPrefix(`/api`), Host && PathRegexp(`^/users/[0-9]+$`),
//	and Host alone; the hit is /api/orders with X-Tenant: gold.
//
// mw:     hosts, each route carrying the typical chain of middlewares
//
//	(redirectScheme the request is already on, headers with security
//	headers, stripPrefix /api), and HAProxy's and nginx's equivalents
//	(redirect/return under a condition never met, set-header/add_header,
//	replace-path/rewrite); the hit is /api/x.
//
// compress: hosts, each route compressing answers (Traefik's compress
//
//	middleware; HAProxy's compression, nginx's gzip, at their defaults);
//	the hit is /page, 100 KiB of HTML.
//
// HAProxy picks the backend with one map lookup (map for hosts, map_beg
// for prefixes); nginx with a hostnames map (hosts) or one location per
// prefix (a static location tree). Both are the flat configurations those
// proxies' users would write; a list of N ACLs would be linear.
package main

import (
	"bufio"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	kind := flag.String("kind", "hosts", "hosts or prefix")
	n := flag.Int("n", 1, "number of routes")
	out := flag.String("out", "", "output directory")
	certFile := flag.String("tls-cert", "", "PEM certificate: serve the routes over TLS too (hosts only)")
	keyFile := flag.String("tls-key", "", "PEM key of -tls-cert")
	flag.Parse()
	known := map[string]bool{"hosts": true, "prefix": true, "mix": true, "mw": true, "compress": true}
	if *out == "" || *n < 1 || !known[*kind] || *certFile != "" && *kind != "hosts" {
		flag.Usage()
		os.Exit(2)
	}
	g := gen{kind: *kind, n: *n, dir: *out}
	if *certFile != "" {
		var err error
		g.cert, err = os.ReadFile(*certFile)
		must(err)
		g.key, err = os.ReadFile(*keyFile)
		must(err)
	}
	for _, d := range []string{"sluice", "nginx/tmp"} {
		must(os.MkdirAll(filepath.Join(*out, d), 0o755))
	}
	g.write("sluice/routes.yaml", g.sluice)
	g.write("haproxy.cfg", g.haproxy)
	g.write("haproxy.map", g.haproxyMap)
	if g.cert != nil {
		g.write("haproxy.pem", func(w *bufio.Writer) { w.Write(g.cert); w.Write(g.key) })
		g.write("nginx/cert.pem", func(w *bufio.Writer) { w.Write(g.cert) })
		g.write("nginx/key.pem", func(w *bufio.Writer) { w.Write(g.key) })
	}
	g.write("nginx/nginx.conf", g.nginx)
	g.write("spread.lua", g.spread)
	host, path := g.route(g.n / 2)
	g.write("hit", func(w *bufio.Writer) { fmt.Fprintf(w, "%s %s\n", host, path) })
}

type gen struct {
	kind      string
	n         int
	dir       string
	cert, key []byte // PEM: the routes are served over TLS too
}

// route returns the Host and a path that route i (and only it) matches.
func (g gen) route(i int) (host, path string) {
	switch g.kind {
	case "hosts":
		return fmt.Sprintf("r%06d.bench.local", i), "/"
	case "mix":
		return fmt.Sprintf("r%06d.bench.local", i), "/api/orders"
	case "mw":
		return fmt.Sprintf("r%06d.bench.local", i), "/api/x"
	case "compress":
		return fmt.Sprintf("r%06d.bench.local", i), "/page"
	}
	return "bench.local", fmt.Sprintf("/p%06d/x", i)
}

// hostsLike: the kind routes by host, as hosts does.
func (g gen) hostsLike() bool { return g.kind == "hosts" || g.kind == "mw" || g.kind == "compress" }

func (g gen) rule(i int) string {
	switch g.kind {
	case "hosts", "compress":
		h, _ := g.route(i)
		return fmt.Sprintf("Host(`%s`) && PathPrefix(`/`)", h)
	case "mw":
		h, _ := g.route(i)
		return fmt.Sprintf("Host(`%s`) && PathPrefix(`/api`)", h)
	}
	return fmt.Sprintf("Host(`bench.local`) && PathPrefix(`/p%06d`)", i)
}

// middlewares are the Middleware objects a route of the kind names, as
// JSON documents, and the route's reference to them.
func (g gen) middlewares() (objects []string, refs string) {
	obj := func(name, spec string) string {
		return fmt.Sprintf(`{"apiVersion":"traefik.io/v1alpha1","kind":"Middleware","metadata":{"name":%q,"namespace":"bench"},"spec":%s}`, name, spec)
	}
	switch g.kind {
	case "mw":
		return []string{
			obj("redirect", `{"redirectScheme":{"scheme":"http"}}`),
			obj("security", `{"headers":{"frameDeny":true,"contentTypeNosniff":true,"browserXssFilter":true,"referrerPolicy":"same-origin",`+
				`"contentSecurityPolicy":"default-src 'self'","stsSeconds":31536000,"customResponseHeaders":{"X-Served-By":"bench"}}}`),
			obj("strip", `{"stripPrefix":{"prefixes":["/api"]}}`),
		}, `[{"name":"redirect"},{"name":"security"},{"name":"strip"}]`
	case "compress":
		return []string{obj("compress", `{"compress":{}}`)}, `[{"name":"compress"}]`
	}
	return nil, ""
}

func (g gen) write(name string, f func(*bufio.Writer)) {
	file, err := os.Create(filepath.Join(g.dir, name))
	must(err)
	w := bufio.NewWriterSize(file, 1<<20)
	f(w)
	must(w.Flush())
	must(file.Close())
}

// sluice writes one Service, its EndpointSlice and N IngressRoutes, as
// JSON documents (valid YAML, and the quickest to decode).
func (g gen) sluice(w *bufio.Writer) {
	fmt.Fprint(w, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"bench","namespace":"bench"},`+
		`"spec":{"ports":[{"name":"http","port":80}]}}`+"\n---\n")
	fmt.Fprint(w, `{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"bench-1","namespace":"bench",`+
		`"labels":{"kubernetes.io/service-name":"bench"}},"addressType":"IPv4","ports":[{"name":"http","port":9001}],`+
		`"endpoints":[{"addresses":["127.0.0.1"]}]}`+"\n---\n")
	fmt.Fprint(w, `{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"bench-2","namespace":"bench",`+
		`"labels":{"kubernetes.io/service-name":"bench"}},"addressType":"IPv4","ports":[{"name":"http","port":9002}],`+
		`"endpoints":[{"addresses":["127.0.0.2"]}]}`+"\n")
	objects, refs := g.middlewares()
	for _, o := range objects {
		fmt.Fprint(w, "---\n"+o+"\n")
	}
	for i := 0; i < g.n; i++ {
		var routes []string
		for _, r := range g.rules(i) {
			if refs != "" {
				routes = append(routes, fmt.Sprintf(`{"match":%q,"middlewares":%s,"services":[{"name":"bench","port":80}]}`, r, refs))
				continue
			}
			routes = append(routes, fmt.Sprintf(`{"match":%q,"services":[{"name":"bench","port":80}]}`, r))
		}
		fmt.Fprintf(w, "---\n"+`{"apiVersion":"traefik.io/v1alpha1","kind":"IngressRoute","metadata":{"name":"r%06d","namespace":"bench"},`+
			`"spec":{"entryPoints":["web"],"routes":[%s]}}`+"\n", i, strings.Join(routes, ","))
		if g.cert != nil {
			fmt.Fprintf(w, "---\n"+`{"apiVersion":"traefik.io/v1alpha1","kind":"IngressRoute","metadata":{"name":"r%06ds","namespace":"bench"},`+
				`"spec":{"entryPoints":["web"],"routes":[%s],"tls":{"secretName":"bench-tls"}}}`+"\n", i, strings.Join(routes, ","))
		}
	}
	if g.cert != nil {
		b64 := base64.StdEncoding.EncodeToString
		fmt.Fprintf(w, "---\n"+`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"bench-tls","namespace":"bench"},"type":"kubernetes.io/tls",`+
			`"data":{"tls.crt":%q,"tls.key":%q}}`+"\n", b64(g.cert), b64(g.key))
		fmt.Fprint(w, "---\n"+`{"apiVersion":"traefik.io/v1alpha1","kind":"TLSStore","metadata":{"name":"default","namespace":"bench"},`+
			`"spec":{"defaultCertificate":{"secretName":"bench-tls"}}}`+"\n")
	}
}

// rules are route i's rules: one, or the four of a mix host.
func (g gen) rules(i int) []string {
	if g.kind != "mix" {
		return []string{g.rule(i)}
	}
	h, _ := g.route(i)
	host := fmt.Sprintf("Host(`%s`)", h)
	return []string{host + " && PathPrefix(`/api`) && Header(`X-Tenant`, `gold`)", host + " && PathPrefix(`/api`)",
		host + " && PathRegexp(`^/users/[0-9]+$`)", host}
}

func (g gen) haproxy(w *bufio.Writer) {
	fmt.Fprint(w, `global
    nbthread 1
    # HAProxy wants two descriptors per connection: 9,900 fits the 20,000 this
    # machine allows a process, and r1-tls-idle holds 9,000.
    maxconn 9900
defaults
    mode http
    timeout connect 5s
    timeout client  30s
    timeout server  30s
    timeout http-keep-alive 30s
    option http-keep-alive
    option forwardfor
    http-reuse safe
frontend fe_bench
    bind 127.0.0.1:8081
    bind 127.0.0.1:8085 proto h2
`)
	if g.cert != nil {
		pem, err := filepath.Abs(filepath.Join(g.dir, "haproxy.pem"))
		must(err)
		fmt.Fprintf(w, "    bind 127.0.0.1:8087 ssl crt %s alpn h2,http/1.1\n", pem)
	}
	m, err := filepath.Abs(filepath.Join(g.dir, "haproxy.map"))
	must(err)
	switch g.kind {
	case "hosts", "mw", "compress":
		fmt.Fprint(w, g.haproxyExtra())
		fmt.Fprintf(w, "    use_backend %%[req.hdr(host),lower,map(%s,be_none)]\n", m)
	case "mix": // the host map, then the four shapes in priority order
		fmt.Fprintf(w, "    acl known req.hdr(host),lower,map(%s) -m found\n", m)
		fmt.Fprint(w, "    acl api path_beg /api\n    acl gold req.hdr(x-tenant) -m str gold\n    acl users path_reg ^/users/[0-9]+$\n"+
			"    use_backend be_bench if known api gold\n    use_backend be_bench if known api\n"+
			"    use_backend be_bench if known users\n    use_backend be_bench if known\n    default_backend be_none\n")
	default:
		fmt.Fprint(w, "    use_backend be_none unless { req.hdr(host),lower -m str bench.local }\n")
		fmt.Fprintf(w, "    use_backend %%[path,map_beg(%s,be_none)]\n", m)
	}
	fmt.Fprint(w, `backend be_none
    http-request return status 404 content-type text/plain string "404 page not found\n"
backend be_bench
    balance roundrobin
    server s1 127.0.0.1:9001
    server s2 127.0.0.2:9002
`)
}

// haproxyExtra is the frontend's equivalent of the kind's middlewares.
func (g gen) haproxyExtra() string {
	switch g.kind {
	case "mw":
		return "    http-request redirect scheme http code 302 if { ssl_fc }\n" + // never taken on plain HTTP, as redirectScheme
			"    http-request set-header X-Forwarded-Prefix /api if { path_beg /api/ }\n" +
			"    http-request replace-path ^/api(/.*)$ \\1\n" +
			"    http-response set-header X-Frame-Options DENY\n" +
			"    http-response set-header X-Content-Type-Options nosniff\n" +
			"    http-response set-header X-Xss-Protection \"1; mode=block\"\n" +
			"    http-response set-header Referrer-Policy same-origin\n" +
			"    http-response set-header Content-Security-Policy \"default-src 'self'\"\n" +
			"    http-response set-header Strict-Transport-Security \"max-age=31536000; includeSubDomains\" if { ssl_fc }\n" +
			"    http-response set-header X-Served-By bench\n"
	case "compress":
		return "    compression algo gzip\n    compression type text/html\n"
	}
	return ""
}

// haproxyMap maps every route's key to the one backend: the lookup is what
// is measured, as Sluice's routes all point at one service too.
func (g gen) haproxyMap(w *bufio.Writer) {
	for i := 0; i < g.n; i++ {
		if g.kind != "prefix" {
			h, _ := g.route(i)
			fmt.Fprintf(w, "%s be_bench\n", h)
		} else {
			fmt.Fprintf(w, "/p%06d be_bench\n", i)
		}
	}
}

func (g gen) nginx(w *bufio.Writer) {
	fmt.Fprint(w, `worker_processes 1;
pid nginx.pid;
error_log nginx-error.log error;
worker_rlimit_nofile 20000;
events { worker_connections 12000; }
http {
    access_log off;
    keepalive_timeout 30s;
    keepalive_requests 1000000;
    client_max_body_size 8m;
    map_hash_max_size 262144;
    map_hash_bucket_size 64;
    client_body_temp_path tmp/body;
    proxy_temp_path       tmp/proxy;
    fastcgi_temp_path     tmp/fastcgi;
    uwsgi_temp_path       tmp/uwsgi;
    scgi_temp_path        tmp/scgi;
    upstream bench {
        server 127.0.0.1:9001;
        server 127.0.0.2:9002;
        keepalive 256;
        keepalive_requests 1000000;
    }
`)
	proxy := `proxy_pass http://bench; proxy_http_version 1.1; proxy_set_header Connection ""; ` +
		`proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`
	if g.kind == "mix" {
		g.nginxMix(w, proxy)
		return
	}
	if g.hostsLike() {
		fmt.Fprint(w, "    map $host $routed {\n        hostnames;\n        default 0;\n")
		for i := 0; i < g.n; i++ {
			h, _ := g.route(i)
			fmt.Fprintf(w, "        %s 1;\n", h)
		}
		tlsListen := ""
		if g.cert != nil {
			tlsListen = "        listen 127.0.0.1:8088 ssl http2;\n        ssl_certificate cert.pem;\n        ssl_certificate_key key.pem;\n"
		}
		fmt.Fprintf(w, "    }\n    server {\n        listen 127.0.0.1:8082;\n        listen 127.0.0.1:8086 http2;\n%s        location / {\n"+
			"            if ($routed = 0) { return 404 \"404 page not found\\n\"; }\n            %s\n            %s\n        }\n    }\n}\n",
			tlsListen, g.nginxExtra(), proxy)
		return
	}
	fmt.Fprint(w, "    server {\n        listen 127.0.0.1:8082 default_server;\n        listen 127.0.0.1:8086 http2 default_server;\n"+
		"        return 404 \"404 page not found\\n\";\n    }\n")
	fmt.Fprint(w, "    server {\n        listen 127.0.0.1:8082;\n        listen 127.0.0.1:8086 http2;\n        server_name bench.local;\n")
	fmt.Fprint(w, "        location / { return 404 \"404 page not found\\n\"; }\n")
	for i := 0; i < g.n; i++ {
		fmt.Fprintf(w, "        location /p%06d { %s }\n", i, proxy)
	}
	fmt.Fprint(w, "    }\n}\n")
}

// nginxExtra is the location's equivalent of the kind's middlewares.
func (g gen) nginxExtra() string {
	switch g.kind {
	case "mw":
		return `if ($scheme = https) { return 302 http://$host$request_uri; } ` + // never taken on plain HTTP, as redirectScheme
			`rewrite ^/api(/.*)$ $1 break; proxy_set_header X-Forwarded-Prefix /api; ` +
			`add_header X-Frame-Options DENY always; add_header X-Content-Type-Options nosniff always; ` +
			`add_header X-Xss-Protection "1; mode=block" always; add_header Referrer-Policy same-origin always; ` +
			`add_header Content-Security-Policy "default-src 'self'" always; add_header X-Served-By bench always;`
	case "compress":
		return `gzip on; gzip_types text/html; gzip_proxied any;`
	}
	return ""
}

// nginxMix: the host map, then a location per shape; the header route
// and the plain /api route differ only in a variable, as they share a
// backend.
func (g gen) nginxMix(w *bufio.Writer, proxy string) {
	fmt.Fprint(w, "    map $host $routed {\n        hostnames;\n        default 0;\n")
	for i := 0; i < g.n; i++ {
		h, _ := g.route(i)
		fmt.Fprintf(w, "        %s 1;\n", h)
	}
	notFound := `if ($routed = 0) { return 404 "404 page not found\n"; }`
	fmt.Fprintf(w, "    }\n    server {\n        listen 127.0.0.1:8082;\n        listen 127.0.0.1:8086 http2;\n"+
		"        location /api { %[1]s set $tenant plain; if ($http_x_tenant = gold) { set $tenant gold; } %[2]s }\n"+
		"        location ~ ^/users/[0-9]+$ { %[1]s %[2]s }\n"+
		"        location / { %[1]s %[2]s }\n    }\n}\n", notFound, proxy)
}

// spread is a wrk script sending each request to the next route in turn.
func (g gen) spread(w *bufio.Writer) {
	if g.kind == "mix" {
		fmt.Fprintf(w, "local n, i, k = %d, 0, 0\nlocal paths = {\"/api/orders\", \"/api/orders\", \"/users/42\", \"/\"}\n"+
			"request = function()\n  i = (i + 7919) %% n\n  k = k %% 4 + 1\n"+
			"  local h = {[\"Host\"] = string.format(\"r%%06d.bench.local\", i)}\n  if k == 1 then h[\"X-Tenant\"] = \"gold\" end\n"+
			"  return wrk.format(nil, paths[k], h)\nend\n", g.n)
		return
	}
	host, path := g.route(0)
	if g.hostsLike() {
		fmt.Fprintf(w, "local n, i = %d, 0\nrequest = function()\n  i = (i + 7919) %% n\n"+
			"  return wrk.format(nil, \"/\", {[\"Host\"] = string.format(\"r%%06d.bench.local\", i)})\nend\n", g.n)
		return
	}
	_ = path
	fmt.Fprintf(w, "local n, i = %d, 0\nrequest = function()\n  i = (i + 7919) %% n\n"+
		"  return wrk.format(nil, string.format(\"/p%%06d/x\", i), {[\"Host\"] = %q})\nend\n", g.n, host)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
