package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	binenc "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
	"golang.org/x/net/http2/hpack"

	"github.com/sluiceproxy/sluice/watch/kubetest"
)

// The Traefik oracle (make conformance; not part of make test): the real
// Traefik v3.7 and Sluice run side by side against one real
// kube-apiserver, on the same objects, with the same flags; every request
// of the corpus (conformance_corpus_test.go) is sent to both, and what
// the client gets and what the backend saw must agree. Traefik is built
// from the Go module proxy on first use (kubetest.Traefik).

// confBackend is a test backend in the network namespace: it answers
// with what it received, as JSON, and counts requests by proxy.
type confBackend struct {
	name string
	mu   sync.Mutex
	hits map[string]int // by X-Conformance-Proxy
	uris map[string]int // by X-Conformance-Proxy and request URI
}

// echo is what a backend saw of a request.
type echo struct {
	Name    string            `json:"name"`
	Method  string            `json:"method"`
	URI     string            `json:"uri"`
	Host    string            `json:"host"`
	Proto   string            `json:"proto"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func (b *confBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.hits[r.Header.Get("X-Conformance-Proxy")]++
	if b.uris == nil {
		b.uris = map[string]int{}
	}
	b.uris[r.Header.Get("X-Conformance-Proxy")+" "+r.RequestURI]++
	b.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	e := echo{Name: b.name, Method: r.Method, URI: r.RequestURI, Host: r.Host, Proto: r.Proto, Headers: map[string]string{}, Body: string(body)}
	for k, vs := range r.Header {
		e.Headers[k] = strings.Join(vs, " | ")
	}
	if strings.HasSuffix(r.URL.Path, "/stream") { // a body of unknown length, in two flushes
		io.WriteString(w, "part1 ")
		w.(http.Flusher).Flush()
		io.WriteString(w, "part2")
		return
	}
	switch r.URL.Path {
	case "/auth": // an authentication server for forwardAuth, deciding by X-Auth
		serveAuth(w, r, e)
		return
	case "/slow": // ?ms=: answers after that long
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
	case "/grpc":
		serveGRPCLike(w, r, e)
		return
	case "/body": // ?n=size&ct=type (none: no Content-Type)&chunked=1 (no length)&rand=1 (incompressible): a compressible body
		q := r.URL.Query()
		n, _ := strconv.Atoi(q.Get("n"))
		if ct := q.Get("ct"); ct == "none" {
			w.Header()["Content-Type"] = nil
		} else if ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		for _, h := range q["respond-header"] {
			if k, v, ok := strings.Cut(h, ":"); ok {
				w.Header().Add(k, v)
			}
		}
		body := backendBody(n, q.Get("rand") == "1")
		if q.Get("chunked") == "1" {
			w.(http.Flusher).Flush()
			w.Write(body[:n/2])
			w.(http.Flusher).Flush()
			w.Write(body[n/2:])
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Write(body)
		return
	case "/early": // ?n= (1) 103 Early Hints with a Link, then the answer
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		for i := range max(n, 1) {
			w.Header().Set("Link", fmt.Sprintf("</style%d.css>; rel=preload; as=style", i))
			w.WriteHeader(http.StatusEarlyHints)
		}
		w.Header().Del("Link")
		io.WriteString(w, "after hints")
		return
	case "/noct": // an answer without a Content-Type
		w.Header()["Content-Type"] = nil
		io.WriteString(w, "hello, no type")
		return
	case "/noct-bin":
		w.Header()["Content-Type"] = nil
		w.Write([]byte{0, 1, 2, 3})
		return
	case "/gzip": // gzip whatever was asked (as servers that always compress do)
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, "compressed body")
		zw.Close()
		return
	}
	var code int
	switch {
	case b.name == "alpha" && r.URL.Path == "/fail":
		code = 503
	case strings.HasPrefix(r.URL.Path, "/status/"):
		fmt.Sscanf(r.URL.Path, "/status/%d", &code)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Backend", b.name)
	for _, h := range r.URL.Query()["respond-header"] { // ?respond-header=Name:value adds a response header
		if k, v, ok := strings.Cut(h, ":"); ok {
			w.Header().Add(k, v)
		}
	}
	if code != 0 {
		w.WriteHeader(code)
	}
	_ = json.NewEncoder(w).Encode(e)
}

// backendBody is the backend's /body of n bytes: compressible text, or
// with random, bytes that do not compress (an encoder's output is about
// as long), the same for the same n.
func backendBody(n int, random bool) []byte {
	if !random {
		return []byte(strings.Repeat("<p>hello, compressible world</p>\n", n/32+1)[:n])
	}
	body := make([]byte, n)
	rnd := rand.New(rand.NewPCG(uint64(n), 1))
	for i := range body {
		body[i] = byte(rnd.Uint32())
	}
	return body
}

// serveAuth answers as an authentication server: X-Auth "ok" is a 200
// with X-Auth-User, X-Auth-Role and two cookies; "redirect" and "abs"
// redirect (relative, absolute); "401" asks for credentials; anything
// else is a 403 whose body is the echo of the auth request itself.
func serveAuth(w http.ResponseWriter, r *http.Request, e echo) {
	switch r.Header.Get("X-Auth") {
	case "ok":
		w.Header().Set("X-Auth-User", "alice")
		w.Header().Set("X-Auth-Role", "admin")
		w.Header().Add("Set-Cookie", "auth=tok; Path=/")
		w.Header().Add("Set-Cookie", "other=1")
		io.WriteString(w, "ok")
	case "redirect":
		w.Header().Set("Location", "/login?next=1")
		w.WriteHeader(302)
	case "abs":
		w.Header().Set("Location", "https://login.example/x")
		w.WriteHeader(307)
	case "401":
		w.Header().Set("Www-Authenticate", `Basic realm="auth"`)
		w.WriteHeader(401)
		io.WriteString(w, "who are you")
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Deny", "yes")
		w.WriteHeader(403)
		_ = json.NewEncoder(w).Encode(e)
	}
}

// serveGRPCLike answers as a gRPC server would, without protobuf: one
// message frame holding the echo (a second, "second", with ?frames=2),
// then the trailers grpc-status (?status=, 0) and grpc-message (?msg=);
// ?only=1 is a "trailers-only" answer (the status among the headers, no
// body).
func serveGRPCLike(w http.ResponseWriter, r *http.Request, e echo) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/grpc+proto")
	w.Header().Set("X-Backend", "grpc")
	status := or(q.Get("status"), "0")
	if q.Get("only") == "1" {
		w.Header().Set("Grpc-Status", status)
		w.Header().Set("Grpc-Message", q.Get("msg"))
		w.WriteHeader(200)
		return
	}
	w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
	frame := func(p []byte) {
		w.Write(binenc.BigEndian.AppendUint32([]byte{0}, uint32(len(p))))
		w.Write(p)
		w.(http.Flusher).Flush()
	}
	j, _ := json.Marshal(e)
	frame(j)
	if q.Get("frames") == "2" {
		frame([]byte("second"))
	}
	w.Header().Set("Grpc-Status", status)
	w.Header().Set("Grpc-Message", q.Get("msg"))
}

func (b *confBackend) count(proxy string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits[proxy]
}

// countURI is how many requests for uri the proxy sent.
func (b *confBackend) countURI(proxy, uri string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.uris[proxy+" "+uri]
}

// confEnv is the running oracle: both proxies, the backends, the objects.
type confEnv struct {
	host     *kubetest.Host
	backends map[string]*confBackend
	addrs    map[string]map[string]string // proxy -> entry point -> address
	subst    *strings.Replacer
	// clientCert is signed by the CA of the conformance Secret
	// client-ca (CLIENT_CA).
	clientCert tls.Certificate
	// logDir holds each proxy's JSON access log, <proxy>-access.log.
	logDir string
}

// accessLogFlags are the access log options both proxies run with: JSON
// to a file, the X-Log-Case header kept (it names the request).
func (env *confEnv) accessLogFlags(p string) []string {
	return []string{"--accesslog.format=json", "--accesslog.filepath=" + filepath.Join(env.logDir, p+"-access.log"),
		"--accesslog.fields.headers.names.X-Log-Case=keep"}
}

func TestConformance(t *testing.T) {
	if os.Getenv("SLUICE_CONFORMANCE") != "1" {
		t.Skip("set SLUICE_CONFORMANCE=1 (make conformance) to compare Sluice with the real Traefik")
	}
	env := startConformance(t)
	var rows []confRow
	only := os.Getenv("SLUICE_CONFORMANCE_ONLY") // a substring of the case names to run (all objects are applied)
	for _, cs := range corpus {
		if strings.Contains(cs.name, only) {
			rows = append(rows, env.run(t, cs)...)
		}
	}
	report(t, rows)
}

// startConformance starts the cluster, the backends, both proxies and
// applies the corpus's objects.
func startConformance(t *testing.T) *confEnv {
	traefikBin, crds, err := kubetest.Traefik()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kubetest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	c, err := cl.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	data, err := os.ReadFile(crds)
	if err != nil {
		t.Fatal(err)
	}
	must(t, c.Apply(ctx, string(data), false))
	must(t, c.WaitEstablished(ctx, "ingressroutes.traefik.io", "middlewares.traefik.io", "traefikservices.traefik.io",
		"tlsoptions.traefik.io", "tlsstores.traefik.io", "serverstransports.traefik.io"))
	env := &confEnv{backends: map[string]*confBackend{}, addrs: map[string]map[string]string{}, logDir: t.TempDir()}
	env.startBackends(t)
	objects := []string{"apiVersion: v1\nkind: Namespace\nmetadata: {name: conf}\n", "apiVersion: v1\nkind: Namespace\nmetadata: {name: conf2}\n",
		env.subst.Replace(confServices)}
	for _, cs := range corpus {
		if cs.objects != "" {
			objects = append(objects, env.subst.Replace(cs.objects))
		}
	}
	for _, o := range objects {
		must(t, c.Apply(ctx, o, false))
	}
	flags := []string{"--ping", "--providers.kubernetesCRD", "--providers.kubernetesCRD.namespaces=conf,conf2",
		"--providers.kubernetesCRD.allowEmptyServices=true", "--providers.kubernetesCRD.allowExternalNameServices=true",
		"--serversTransport.insecureSkipVerify=true", "--log.level=ERROR"}
	// "oracle" is Traefik: a label as long as "sluice", so that the echoes
	// that carry it are as long too.
	env.addrs["oracle"] = env.startTraefik(t, traefikBin, cl.Kubeconfig, flags)
	env.addrs["sluice"] = env.startSluice(t, cl.Kubeconfig, flags)
	for p, eps := range env.addrs {
		deadline := time.Now().Add(90 * time.Second)
		for {
			if o := env.send(t, p, confReq{host: "ready.example", path: "/"}); o.Status == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never served ready.example on %s", p, eps["web"])
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	time.Sleep(3 * time.Second) // Traefik applies configurations at most every 2 s: let the last one land
	return env
}

// confServices are the Services and EndpointSlices of the backends.
const confServices = `apiVersion: v1
kind: Service
metadata: {name: alpha, namespace: conf}
spec: {ports: [{name: http, port: 80}, {name: h2c, port: 81}, {name: https, port: 443}, {name: old, port: 90}, {name: up, port: 82}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: alpha, namespace: conf, labels: {kubernetes.io/service-name: alpha}}
addressType: IPv4
ports: [{name: http, port: 8080}, {name: h2c, port: 8081}, {name: https, port: 8443}, {name: old, port: 8090}, {name: up, port: 8082}]
endpoints: [{addresses: [ALPHA]}]
---
apiVersion: v1
kind: Service
metadata: {name: beta, namespace: conf}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: beta, namespace: conf, labels: {kubernetes.io/service-name: beta}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [BETA]}]
---
apiVersion: v1
kind: Service
metadata: {name: pair, namespace: conf}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: pair, namespace: conf, labels: {kubernetes.io/service-name: pair}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [ALPHA]}, {addresses: [BETA]}]
---
apiVersion: v1
kind: Service
metadata: {name: gamma, namespace: conf}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: gamma, namespace: conf, labels: {kubernetes.io/service-name: gamma}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [GAMMA]}]
---
apiVersion: v1
kind: Service
metadata: {name: shadow, namespace: conf}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: shadow, namespace: conf, labels: {kubernetes.io/service-name: shadow}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [SHADOW]}]
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: conf}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: conf}
spec: {type: ExternalName, externalName: EXT, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: conf2}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: other, namespace: conf2, labels: {kubernetes.io/service-name: other}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [BETA]}]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: ready, namespace: conf}
spec:
  entryPoints: [web]
  routes:
  - match: Host(` + "`ready.example`" + `)
    services: [{name: alpha, port: 80}]
`

// startBackends serves the backends in a network namespace: alpha (also
// h2c, https, an HTTP/1.0 server and an upgrade echo), beta, gamma,
// shadow (mirrors) and ext (an ExternalName's).
func (env *confEnv) startBackends(t *testing.T) {
	names := []string{"alpha", "beta", "gamma", "shadow", "ext"}
	h, err := kubetest.NewHost(len(names))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	env.host = h
	var pairs []string
	listen := func(i, port int) net.Listener {
		ln, err := h.Listen(fmt.Sprintf("%s:%d", h.Addr(i), port))
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	for i, name := range names {
		b := &confBackend{name: name, hits: map[string]int{}}
		env.backends[name] = b
		pairs = append(pairs, strings.ToUpper(name), h.Addr(i))
		go (&http.Server{Handler: b}).Serve(listen(i, 8080))
	}
	alpha := env.backends["alpha"]
	go (&http.Server{Handler: h2c.NewHandler(alpha, &http2.Server{})}).Serve(listen(0, 8081))
	ts := httptest.NewUnstartedServer(alpha)
	ts.Listener = listen(0, 8443)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	go serveHTTP10(listen(0, 8090))
	// Port 8091 on beta only: a service of alpha and beta there has one
	// server refusing connections (retry).
	go (&http.Server{Handler: env.backends["beta"]}).Serve(listen(1, 8091))
	go serveUpgradeEcho(listen(0, 8082))
	// A Redis both proxies' shared rate limits use (REDIS).
	redisAddr, _ := startRedis(t)
	pairs = append(pairs, "REDIS", redisAddr)
	env.subst = strings.NewReplacer(append(pairs, env.certificates(t)...)...)
}

// serveHTTP10 answers every request as an HTTP/1.0 server.
func serveHTTP10(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
				io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nold ok")
			}
		}()
	}
}

// serveUpgradeEcho switches protocols and says which headers it got.
func serveUpgradeEcho(ln net.Listener) {
	_ = (&http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\nxfp=%s conn=%s\n",
			r.Header.Get("Upgrade"), r.Header.Get("X-Forwarded-Proto"), r.Header.Get("Connection"))
		brw.Flush()
	})}).Serve(ln)
}

// confEntryPoints are the entry points both proxies get: web, alt,
// traefik (ping), websecure (http.tls) and redir (redirecting to
// websecure).
func confEntryPoints(t *testing.T) (map[string]string, []string) {
	eps := map[string]string{"web": addrFree(t), "alt": addrFree(t), "traefik": addrFree(t), "websecure": addrFree(t), "redir": addrFree(t), "epmw": addrFree(t)}
	args := []string{"--entryPoints.alt.address=" + eps["alt"], "--entryPoints.alt.forwardedHeaders.insecure=true",
		"--entryPoints.alt.forwardedHeaders.connection=Foobar,Authorization", "--entryPoints.traefik.address=" + eps["traefik"],
		"--entryPoints.websecure.address=" + eps["websecure"], "--entryPoints.websecure.http.tls=true",
		"--entryPoints.redir.address=" + eps["redir"], "--entryPoints.redir.http.redirections.entryPoint.to=websecure",
		"--entryPoints.epmw.address=" + eps["epmw"], "--entryPoints.epmw.http.middlewares=conf-epmw@kubernetescrd,conf-epmw2@kubernetescrd"}
	return eps, args
}

// startTraefik runs the oracle with flags and the conformance entry points.
func (env *confEnv) startTraefik(t *testing.T, bin, kubeconfig string, flags []string) map[string]string {
	eps, epArgs := confEntryPoints(t)
	args := append(append(append([]string{"--entryPoints.web.address=" + eps["web"]}, epArgs...), flags...), env.accessLogFlags("oracle")...)
	logFile := filepath.Join(t.TempDir(), "traefik.log")
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(withoutProxyEnv(os.Environ()), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("Traefik's log:\n%s", b)
		}
	})
	return eps
}

// startSluice runs Sluice with the same flags and entry points.
func (env *confEnv) startSluice(t *testing.T, kubeconfig string, flags []string) map[string]string {
	eps, epArgs := confEntryPoints(t)
	args := append(append(append(epArgs, "--kubeconfig="+kubeconfig), flags...), env.accessLogFlags("sluice")...)
	runSluice(t, eps["web"], 90*time.Second, args...)
	return eps
}

func addrFree(t *testing.T) string { return fmt.Sprintf("127.0.0.1:%d", freePort(t)) }

func withoutProxyEnv(env []string) []string {
	var out []string
	for _, e := range env {
		if !isProxyEnv(e) && !strings.HasPrefix(e, "KUBECONFIG=") {
			out = append(out, e)
		}
	}
	return out
}

// confReq is one request of the corpus.
type confReq struct {
	method, host, path string
	header             map[string]string
	body               string
	chunked            bool   // body of no declared length (chunked; HTTP/2 without content-length)
	h2                 bool   // HTTP/2 with prior knowledge (h2c)
	entry              string // entry point; "" is web
	raw                string // raw bytes to send instead (HTTP/1.x), e.g. without a Host
	repeat             int    // compare which backends served repeat requests (a balancer's shares)
	cookie             string // Cookie header; "...@name" ends with the name cookie from the previous answer
	// random: which server serves is random in Traefik (it shuffles a
	// balancer's servers when it builds it): compare that a sticky cookie
	// names the server that served, not which server it was.
	random bool
	// goError: the answer is Go's server's own to a malformed request,
	// which it writes up to the close with no Content-Length (Sluice
	// declares the length): Content-Length is left out of the comparison.
	goError bool
	// known: a response header that differs for a reason given in
	// CONFORMANCE.md ("Header: reason"); the rest must agree.
	known string
	// during: a request sent first, in the background; this one is sent
	// while that one is in flight (inFlightReq), 150 ms after it.
	during *confReq
	// varies: a response header whose value changes from one answer to
	// the next ("Header: reason"): compared present or absent.
	varies string
	// racy: a response header whose presence in Traefik's answer depends
	// on a race inside Traefik ("Header: reason"): left out of the
	// comparison, with the reason in the table.
	racy string
	// brokenBody: Traefik's answer's body fails to read to its end, for
	// this reason, a bug of Traefik's; Sluice's must read whole.
	brokenBody string
	// upgrade: an HTTP/1.1 Upgrade request; the outcome is the status and
	// the first line the server sends once switched.
	upgrade bool
	// authority: an HTTP/2 request whose :authority is this and whose
	// host header is host (written frame by frame).
	authority string
	// tls: a TLS connection, with server name sni ("" : none), HTTP/2 by
	// ALPN when h2; clientCert presents the conformance client
	// certificate; maxTLS12 caps the client at TLS 1.2.
	tls        bool
	sni        string
	clientCert bool
	maxTLS12   bool
}

// confOut is what one request gave: compared between the proxies.
type confOut struct {
	Status      int
	Proto       string
	Cert        string            // a TLS connection's certificate: its subject's common name
	Seen        *echo             // what the backend saw; nil if the answer is not a backend's echo
	RespHeaders map[string]string // but Date
	RespBody    string            // when not an echo
	Shares      map[string]int    // repeat: backend -> requests
	Interim     string            // the informational (1xx) answers before it, with their fields
	ReadError   string            // the error that ended reading the body, if any
}

// send sends req to proxy p and returns the outcome.
func (env *confEnv) send(t *testing.T, p string, req confReq) confOut {
	t.Helper()
	out := env.sendVia(t, p, req)
	if loc, ok := out.RespHeaders["Location"]; ok { // a redirection names the proxy's own websecure port
		_, port, _ := strings.Cut(env.addrs[p]["websecure"], ":")
		out.RespHeaders["Location"] = strings.ReplaceAll(loc, ":"+port, ":WEBSECURE")
	}
	return out
}

// sendVia sends req to proxy p as req says (raw, upgrade, TLS...).
func (env *confEnv) sendVia(t *testing.T, p string, req confReq) confOut {
	t.Helper()
	if bg := req.during; bg != nil {
		done := make(chan struct{})
		go func() { defer close(done); env.sendVia(t, p, *bg) }()
		time.Sleep(150 * time.Millisecond)
		defer func() { <-done }()
		req.during = nil
	}
	ep := req.entry
	if ep == "" {
		ep = "web"
	}
	addr := env.addrs[p][ep]
	switch {
	case req.raw != "":
		return sendRaw(t, addr, req.raw)
	case req.upgrade:
		return sendUpgrade(addr, req)
	case req.authority != "":
		return sendAuthority(addr, req)
	case req.tls:
		return env.sendTLS(p, addr, req)
	}
	if req.repeat == 0 {
		o := env.sendOne(t, p, addr, req)
		if req.random {
			env.unrandom(&o)
		}
		return o
	}
	shares := map[string]int{} // which backends served: a balancer's shares, not its order
	for i := 0; i < req.repeat; i++ {
		name := "none"
		if o := env.sendOne(t, p, addr, req); o.Seen != nil {
			name = o.Seen.Name
		}
		shares[name]++
	}
	return confOut{Shares: shares}
}

var lastCookies = map[string][]*http.Cookie{} // by proxy, for "@name" cookies

// unrandom replaces which server served (random in Traefik) with whether
// the sticky cookies name it.
func (env *confEnv) unrandom(o *confOut) {
	if o.Seen == nil {
		return
	}
	url := ""
	for i, name := range []string{"alpha", "beta", "gamma", "shadow", "ext"} {
		if name == o.Seen.Name {
			url = fmt.Sprintf("http://%s:8080", env.host.Addr(i))
		}
	}
	sum := sha256.Sum256([]byte(url))
	value := hex.EncodeToString(sum[:])[:16]
	o.Seen.Name = "(a server)"
	delete(o.RespHeaders, "X-Backend")
	delete(o.RespHeaders, "Content-Length") // the echo names the server: its length varies with it
	if sc, ok := o.RespHeaders["Set-Cookie"]; ok {
		o.RespHeaders["Set-Cookie"] = strings.ReplaceAll(sc, value, "(value naming the server that served)")
	}
}

// confTransport is the plain HTTP/1.1 client's: Go's default, but that
// it leaves Accept-Encoding to the case.
var confTransport = &http.Transport{DisableCompression: true}

func (env *confEnv) sendOne(t *testing.T, p, addr string, req confReq) confOut {
	t.Helper()
	method := req.method
	if method == "" {
		method = "GET"
	}
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
		if req.chunked {
			body = io.MultiReader(body) // a length Go's client cannot see
		}
	}
	hr, _ := http.NewRequest(method, "http://"+addr+req.path, body)
	hr.Host = req.host
	hr.Header.Set("X-Conformance-Proxy", p)
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
	if before, name, ok := strings.Cut(req.cookie, "@"); ok {
		for _, ck := range lastCookies[p] {
			if ck.Name == name {
				hr.Header.Set("Cookie", before+ck.Name+"="+ck.Value)
			}
		}
	} else if c := req.cookie; c != "" {
		hr.Header.Set("Cookie", c)
	}
	// The client sends the Accept-Encoding the case says, and no other:
	// Go's transport would ask gzip itself and decode the answer.
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: confTransport}
	if req.h2 {
		client.Transport = &http2.Transport{AllowHTTP: true, DisableCompression: true, DialTLSContext: func(ctx context.Context, n, a string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, n, a)
		}}
	}
	var interim []string
	hr = hr.WithContext(httptrace.WithClientTrace(hr.Context(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			fields := []string{strconv.Itoa(code)}
			for _, k := range sortedKeys(h) {
				fields = append(fields, k+": "+strings.Join(h[k], " | "))
			}
			interim = append(interim, strings.Join(fields, ", "))
			return nil
		}}))
	resp, err := client.Do(hr)
	if err != nil {
		return confOut{Status: -1, RespBody: "error: " + strings.ReplaceAll(err.Error(), addr, "PROXY"), Interim: strings.Join(interim, "; ")}
	}
	defer resp.Body.Close()
	lastCookies[p] = resp.Cookies()
	b, err := io.ReadAll(resp.Body)
	out := confOutcome(resp, b)
	out.Interim = strings.Join(interim, "; ")
	noteReadError(&out, err)
	return out
}

// confOutcome reads an answer: a backend's echo, or the proxy's own body.
func confOutcome(resp *http.Response, b []byte) confOut {
	out := confOut{Status: resp.StatusCode, Proto: resp.Proto, RespHeaders: map[string]string{}}
	for k, vs := range resp.Header {
		switch k {
		case "Date":
		case "Set-Cookie": // compared as cookies: attribute order and case are not part of them
			var cs []string
			for _, v := range vs {
				if c, err := http.ParseSetCookie(v); err == nil {
					cs = append(cs, c.String())
				}
			}
			out.RespHeaders[k] = strings.Join(cs, " | ")
		default:
			out.RespHeaders[k] = strings.Join(vs, " | ")
		}
	}
	// An encoded body is compared decoded: encoders at the same level may
	// still frame their output differently. Its length is compared as
	// present or not.
	if enc := resp.Header.Get("Content-Encoding"); enc == "gzip" || enc == "br" || enc == "zstd" {
		if d, err := decode(enc, b); err == nil {
			b = []byte(d)
		} else {
			b = []byte("undecodable " + enc + ": " + err.Error())
		}
		if _, ok := out.RespHeaders["Content-Length"]; ok {
			out.RespHeaders["Content-Length"] = "(of the encoded body)"
		}
	}
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/grpc-web") {
		grpcWebOutcome(&out, b, strings.HasPrefix(ct, "application/grpc-web-text"))
		return out
	}
	var e echo
	if json.Unmarshal(b, &e) == nil && e.Name != "" {
		delete(e.Headers, "X-Conformance-Proxy")
		out.Seen = &e
	} else {
		out.RespBody = string(b)
	}
	return out
}

// grpcWebOutcome reads a gRPC-Web answer: the base64 pieces of -text
// decoded, then its frames described, the first message that holds an
// echo taken as what the server saw. Access-Control-Expose-Headers is
// compared sorted: grpc-web lists names in Go's map order.
func grpcWebOutcome(out *confOut, b []byte, text bool) {
	if v, ok := out.RespHeaders["Access-Control-Expose-Headers"]; ok {
		l := strings.Split(v, ", ")
		sort.Strings(l)
		out.RespHeaders["Access-Control-Expose-Headers"] = strings.Join(l, ", ") + " (sorted)"
	}
	if text { // padded pieces, each a whole number of quanta
		var dec []byte
		for ; len(b) >= 4; b = b[4:] {
			d, err := base64.StdEncoding.DecodeString(string(b[:4]))
			if err != nil {
				out.RespBody = fmt.Sprintf("undecodable base64 %q", b)
				return
			}
			dec = append(dec, d...)
		}
		if len(b) > 0 {
			out.RespBody = fmt.Sprintf("base64 left over %q", b)
			return
		}
		b = dec
	}
	var desc []string
	for len(b) >= 5 {
		flag, n := b[0], int(binenc.BigEndian.Uint32(b[1:5]))
		if n > len(b)-5 {
			break
		}
		p := b[5 : 5+n]
		b = b[5+n:]
		var e echo
		switch {
		case flag&0x80 != 0:
			desc = append(desc, fmt.Sprintf("trailers %q", p))
		case out.Seen == nil && json.Unmarshal(p, &e) == nil && e.Name != "":
			delete(e.Headers, "X-Conformance-Proxy")
			out.Seen = &e
			desc = append(desc, "message (the echo)")
		default:
			desc = append(desc, fmt.Sprintf("message %q", p))
		}
	}
	if len(b) > 0 {
		desc = append(desc, fmt.Sprintf("then %q", b))
	}
	out.RespBody = strings.Join(desc, "; ")
}

// sendRaw writes raw bytes and reads one answer.
func sendRaw(t *testing.T, addr, raw string) confOut {
	resp, b, err := rawResponse(addr, raw)
	if err != nil {
		return confOut{Status: -1, RespBody: "error: " + err.Error()}
	}
	return confOutcome(resp, b)
}

// sendUpgrade sends an upgrade request and reads the switch and the line
// after it.
func sendUpgrade(addr string, req confReq) confOut {
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		return confOut{Status: -1, RespBody: err.Error()}
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", req.path, req.host)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return confOut{Status: -1, RespBody: err.Error()}
	}
	out := confOutcome(resp, nil)
	out.RespBody, _ = br.ReadString('\n')
	return out
}

// sendTLS sends req over a TLS connection and adds the certificate's
// common name to the outcome; a handshake that fails is the outcome.
func (env *confEnv) sendTLS(p, addr string, req confReq) confOut {
	cfg := &tls.Config{ServerName: req.sni, InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}
	if req.h2 {
		cfg.NextProtos = []string{"h2"}
	}
	if req.clientCert {
		cfg.Certificates = []tls.Certificate{env.clientCert}
	}
	if req.maxTLS12 {
		cfg.MaxVersion = tls.VersionTLS12
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp4", addr, cfg)
	if err != nil {
		return confOut{Status: -1, RespBody: "TLS handshake failed"}
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	method := req.method
	if method == "" {
		method = "GET"
	}
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	hr, _ := http.NewRequest(method, "https://"+req.host+req.path, body)
	hr.Host = req.host
	hr.Header.Set("X-Conformance-Proxy", p)
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
	var resp *http.Response
	if req.h2 {
		var cc *http2.ClientConn
		if cc, err = (&http2.Transport{DisableCompression: true}).NewClientConn(c); err == nil {
			resp, err = cc.RoundTrip(hr)
		}
	} else if err = hr.Write(c); err == nil {
		resp, err = http.ReadResponse(bufio.NewReader(c), hr)
	}
	if err != nil {
		return confOut{Status: -1, RespBody: "after the handshake: " + strings.ReplaceAll(err.Error(), addr, "PROXY")}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	out := confOutcome(resp, b)
	out.Cert = c.ConnectionState().PeerCertificates[0].Subject.CommonName
	noteReadError(&out, err)
	return out
}

// noteReadError adds to the outcome that its body could not be read to
// its end (a stream cut short, a length the body does not fill): the
// body read so far may still decode, so it would not show otherwise.
func noteReadError(out *confOut, err error) {
	if err != nil {
		out.ReadError = err.Error()
	}
}

// sendAuthority sends an HTTP/2 request whose :authority and host header
// differ, and returns the status, or the stream's reset.
func sendAuthority(addr string, req confReq) confOut {
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		return confOut{Status: -1, RespBody: err.Error()}
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, http2.ClientPreface)
	fr := http2.NewFramer(c, c)
	fr.WriteSettings()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":path", req.path}, {":authority", req.authority}, {"host", req.host}} {
		if f[1] != "" { // no :authority: the host field alone
			enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
	dec := hpack.NewDecoder(4096, nil)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return confOut{Status: -1, RespBody: "connection: " + err.Error()}
		}
		switch f := f.(type) {
		case *http2.RSTStreamFrame:
			return confOut{Status: -1, RespBody: "RST_STREAM " + f.ErrCode.String()}
		case *http2.GoAwayFrame:
			return confOut{Status: -1, RespBody: "GOAWAY " + f.ErrCode.String()}
		case *http2.HeadersFrame:
			fields, _ := dec.DecodeFull(f.HeaderBlockFragment())
			for _, hf := range fields {
				if hf.Name == ":status" {
					var code int
					fmt.Sscanf(hf.Value, "%d", &code)
					return confOut{Status: code}
				}
			}
		}
	}
}

// confCase is a row of the corpus: what it covers, the objects it adds,
// its requests, and optionally a check after them (given the hit counts
// of the backends by proxy).
type confCase struct {
	name     string // the seed row or gap it covers
	objects  string // YAML; ALPHA, BETA, ... are the backends' addresses
	requests []confReq
	after    func(env *confEnv) (traefik, sluice string)
}

// confRow is one compared request.
type confRow struct {
	caseName, request string
	agree             bool
	diff              string
	note              string // a known difference, explained
	outcome           string // what Sluice answered, in short
}

// randomParams are the random parameters of a digest challenge: what a
// known difference in WWW-Authenticate leaves out of the comparison.
var randomParams = regexp.MustCompile(`(nonce|opaque)="[^"]*"`)

// run sends a case's requests to both proxies, alternating, and compares.
func (env *confEnv) run(t *testing.T, cs confCase) []confRow {
	var rows []confRow
	for _, req := range cs.requests {
		a := env.send(t, "oracle", req)
		b := env.send(t, "sluice", req)
		row := confRow{caseName: cs.name, request: describeReq(req), agree: reflect.DeepEqual(a, b), diff: diffOut(a, b), outcome: b.short()}
		if k, why, ok := strings.Cut(req.varies, ": "); ok && !row.agree {
			for _, o := range []*confOut{&a, &b} {
				if _, has := o.RespHeaders[k]; has {
					o.RespHeaders[k] = "(present)"
				}
			}
			if row.agree = reflect.DeepEqual(a, b); row.agree {
				row.note = fmt.Sprintf("agree but for the value of %s (%s)", k, why)
			}
		}
		if k, why, ok := strings.Cut(req.racy, ": "); ok && !row.agree {
			delete(a.RespHeaders, k)
			delete(b.RespHeaders, k)
			if row.agree = reflect.DeepEqual(a, b); row.agree {
				row.note = fmt.Sprintf("agree but for %s, which Traefik sets or not by a race (%s)", k, why)
			}
		}
		if req.goError && !row.agree {
			delete(a.RespHeaders, "Content-Length")
			delete(b.RespHeaders, "Content-Length")
			if row.agree = reflect.DeepEqual(a, b); row.agree {
				row.note = "agree but for Content-Length (Go's own answer to a malformed request is close-delimited)"
			}
		}
		if req.brokenBody != "" && !row.agree && a.ReadError != "" && b.ReadError == "" {
			a.ReadError = ""
			if row.agree = reflect.DeepEqual(a, b); row.agree {
				row.note = "agree but for Traefik's body, which ends in an error (" + req.brokenBody + ")"
			}
		}
		if k, why, ok := strings.Cut(req.known, ": "); ok && !row.agree {
			a.RespHeaders[k], b.RespHeaders[k] = randomParams.ReplaceAllString(a.RespHeaders[k], `$1=*`), randomParams.ReplaceAllString(b.RespHeaders[k], `$1=*`)
			if row.agree = reflect.DeepEqual(a, b); row.agree {
				row.note = fmt.Sprintf("agree but for %s (%s)", k, why)
			}
		}
		rows = append(rows, row)
	}
	if cs.after != nil {
		time.Sleep(300 * time.Millisecond) // mirror copies are sent in the background
		a, b := cs.after(env)
		rows = append(rows, confRow{caseName: cs.name, request: "after: " + a, agree: a == b, diff: fmt.Sprintf("Traefik %s, Sluice %s", a, b)})
	}
	return rows
}

func describeReq(r confReq) string {
	if r.raw != "" {
		return fmt.Sprintf("raw %q", strings.Join(strings.Split(strings.TrimRight(r.raw, "\r\n"), "\r\n"), " / "))
	}
	s := fmt.Sprintf("%s %s%s", or(r.method, "GET"), r.host, r.path)
	switch {
	case r.tls && r.h2:
		s += " (TLS, h2) SNI " + or(r.sni, "none")
	case r.tls:
		s += " (TLS) SNI " + or(r.sni, "none")
	case r.h2:
		s += " (h2c)"
	}
	if r.clientCert {
		s += " with a client certificate"
	}
	if r.maxTLS12 {
		s += ", client at most TLS 1.2"
	}
	if r.entry != "" {
		s += " on " + r.entry
	}
	if r.repeat > 0 {
		s += fmt.Sprintf(" x%d", r.repeat)
	}
	if r.chunked {
		s += ", its body chunked"
	}
	for _, k := range sortedKeys(r.header) {
		s += fmt.Sprintf(" %s: %s", k, r.header[k])
	}
	if r.cookie != "" {
		s += " cookie " + r.cookie
	}
	return s
}

func or(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// diffOut names the fields where a (Traefik) and b (Sluice) differ.
// present is m[k] quoted, or "(absent)": an empty field and no field
// differ.
func present(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return strconv.Quote(v)
	}
	return "(absent)"
}

func diffOut(a, b confOut) string {
	var d []string
	add := func(what string, x, y any) {
		if !reflect.DeepEqual(x, y) {
			d = append(d, fmt.Sprintf("%s: Traefik %v, Sluice %v", what, x, y))
		}
	}
	add("status", a.Status, b.Status)
	add("proto", a.Proto, b.Proto)
	add("body", a.RespBody, b.RespBody)
	add("shares", a.Shares, b.Shares)
	add("interim answers", a.Interim, b.Interim)
	add("body read error", a.ReadError, b.ReadError)
	for _, k := range union(a.RespHeaders, b.RespHeaders) {
		add("response "+k, present(a.RespHeaders, k), present(b.RespHeaders, k))
	}
	switch {
	case a.Seen == nil || b.Seen == nil:
		add("backend", a.Seen != nil, b.Seen != nil)
	default:
		add("backend", a.Seen.Name, b.Seen.Name)
		add("method", a.Seen.Method, b.Seen.Method)
		add("uri", a.Seen.URI, b.Seen.URI)
		add("host", a.Seen.Host, b.Seen.Host)
		add("backend proto", a.Seen.Proto, b.Seen.Proto)
		add("backend body", a.Seen.Body, b.Seen.Body)
		for _, k := range union(a.Seen.Headers, b.Seen.Headers) {
			add("seen "+k, present(a.Seen.Headers, k), present(b.Seen.Headers, k))
		}
	}
	return strings.Join(d, "; ")
}

func union(a, b map[string]string) []string {
	m := map[string]string{}
	for k := range a {
		m[k] = ""
	}
	for k := range b {
		m[k] = ""
	}
	return sortedKeys(m)
}

// report prints the table of agreements and differences (also to
// $SLUICE_CONFORMANCE_OUT as Markdown) and fails on a difference.
func report(t *testing.T, rows []confRow) {
	var b strings.Builder
	agree := 0
	b.WriteString("| case | request | Traefik and Sluice | the answer |\n|---|---|---|---|\n")
	for _, r := range rows {
		verdict := "agree"
		if r.note != "" {
			verdict = r.note
		}
		if r.agree {
			agree++
		} else {
			verdict = "**differ**: " + r.diff
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.caseName, strings.ReplaceAll(r.request, "|", "\\|"), strings.ReplaceAll(verdict, "|", "\\|"),
			strings.ReplaceAll(r.outcome, "|", "\\|"))
	}
	fmt.Fprintf(&b, "\n%d requests compared, %d agree, %d differ.\n", len(rows), agree, len(rows)-agree)
	t.Log("\n" + b.String())
	if f := os.Getenv("SLUICE_CONFORMANCE_OUT"); f != "" {
		_ = os.WriteFile(f, []byte(b.String()), 0o644)
	}
	if agree != len(rows) {
		t.Errorf("%d of %d requests differ between Traefik and Sluice (table above)", len(rows)-agree, len(rows))
	}
}

// certificates makes the conformance certificates and returns the
// placeholders of the corpus that stand for them (base64, as a Secret's
// data): TLS_A_CRT/TLS_A_KEY (tls-a.example), TLS_W_CRT/TLS_W_KEY
// (*.tlsw.example), CLIENT_CA (the CA of env.clientCert).
func (env *confEnv) certificates(t *testing.T) []string {
	ca, clientCA := newTestCA(t, "conformance CA"), newTestCA(t, "conformance client CA")
	b64 := base64.StdEncoding.EncodeToString
	aCrt, aKey := ca.issue(t, "tls-a.example", "tls-a.example")
	wCrt, wKey := ca.issue(t, "wildcard tlsw", "*.tlsw.example")
	cCrt, cKey := clientCA.issue(t, "conformance client")
	var err error
	if env.clientCert, err = tls.X509KeyPair(cCrt, cKey); err != nil {
		t.Fatal(err)
	}
	return []string{"TLS_A_CRT", b64(aCrt), "TLS_A_KEY", b64(aKey), "TLS_W_CRT", b64(wCrt), "TLS_W_KEY", b64(wKey),
		"CLIENT_CA", b64(clientCA.pem)}
}

// short says what an outcome was, for the table: the status (or the
// failure), the backend that served, the certificate, a redirection.
func (o confOut) short() string {
	var parts []string
	switch {
	case o.Status == -1:
		parts = append(parts, o.RespBody)
	case o.Status != 0:
		parts = append(parts, strconv.Itoa(o.Status))
	}
	if o.Seen != nil {
		parts = append(parts, "from "+o.Seen.Name)
	}
	if o.Cert != "" {
		parts = append(parts, "certificate "+o.Cert)
	}
	if l := o.RespHeaders["Location"]; l != "" {
		parts = append(parts, "to "+l)
	}
	if len(o.Shares) > 0 {
		parts = append(parts, fmt.Sprint(o.Shares))
	}
	return strings.Join(parts, ", ")
}
