package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// tlsFixture is a binary serving TLS routers: a.example (its Secret),
// *.w.example (a wildcard Secret), s.example (option strict: sniStrict,
// TLS 1.3), m.example (option mtls: client certificates required), and a
// plain router for plain.example; TLSStore default names the default
// certificate.
type tlsFixture struct {
	p          *sluiceProc
	dir        string
	ca, client *testCA
	clientCert tls.Certificate
}

func newTLSFixture(t *testing.T, extra ...string) *tlsFixture {
	t.Helper()
	f := &tlsFixture{ca: newTestCA(t, "server CA"), client: newTestCA(t, "client CA"), dir: t.TempDir()}
	port := seenBackend(t, "127.0.0.2", "main", nil)
	aCrt, aKey := f.ca.issue(t, "a.example", "a.example")
	wCrt, wKey := f.ca.issue(t, "wild", "*.w.example")
	dCrt, dKey := f.ca.issue(t, "default.example", "default.example")
	cCrt, cKey := f.client.issue(t, "a client")
	var err error
	if f.clientCert, err = tls.X509KeyPair(cCrt, cKey); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(f.dir, "svc.yaml"), manifests("main", port, "127.0.0.2"))
	write(t, filepath.Join(f.dir, "a-cert.yaml"), tlsSecret("a-cert", aCrt, aKey))
	write(t, filepath.Join(f.dir, "tls.yaml"), tlsSecret("w-cert", wCrt, wKey)+tlsSecret("d-cert", dCrt, dKey)+
		caSecret("client-ca", f.client.pem)+`apiVersion: traefik.io/v1alpha1
kind: TLSStore
metadata: {name: default, namespace: e2e}
spec: {defaultCertificate: {secretName: d-cert}}
---
apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata: {name: strict, namespace: e2e}
spec: {sniStrict: true, minVersion: VersionTLS13}
---
apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata: {name: mtls, namespace: e2e}
spec: {clientAuth: {secretNames: [client-ca], clientAuthType: RequireAndVerifyClientCert}}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: a, namespace: e2e}
spec:
  routes: [{match: Host(`+"`a.example`"+`), services: [{name: main, port: 80}]}]
  tls: {secretName: a-cert}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: w, namespace: e2e}
spec:
  routes: [{match: Host(`+"`x.w.example`"+`), services: [{name: main, port: 80}]}]
  tls: {secretName: w-cert}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: s, namespace: e2e}
spec:
  routes: [{match: Host(`+"`s.example`"+`), services: [{name: main, port: 80}]}]
  tls: {options: {name: strict}}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: m, namespace: e2e}
spec:
  routes: [{match: Host(`+"`m.example`"+`), services: [{name: main, port: 80}]}]
  tls: {options: {name: mtls}}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: plain, namespace: e2e}
spec:
  routes: [{match: Host(`+"`plain.example`"+`), services: [{name: main, port: 80}]}]
`)
	f.p = startSluice(t, f.dir, extra...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(f.p.log())
		}
	})
	eventually(t, f.p.addr, "plain.example", "/", 200, "main")
	return f
}

// TestBinaryTLS: one plain entry point serves TLS routers to TLS
// clients and plain ones to plain clients; over HTTP/1.1 and HTTP/2; the
// certificate by SNI (exact, wildcard, default); sniStrict refusing;
// client certificates required; 421 when the Host belongs to another TLS
// option than the SNI; X-Forwarded-Proto https and X-Forwarded-Port 443.
func TestBinaryTLS(t *testing.T) {
	f := newTLSFixture(t)
	addr := f.p.addr
	for _, h2 := range []bool{false, true} {
		want := "HTTP/1.1"
		if h2 {
			want = "HTTP/2.0"
		}
		st, body, proto, cn, err := tlsGet(addr, "a.example", "a.example", "/x?q=1", h2, nil)
		if err != nil || st != 200 || proto != want || cn != "a.example" || !strings.Contains(body, "main GET /x?q=1 host=a.example") ||
			!strings.Contains(body, "xfproto=https") || !strings.Contains(body, "xfport=443") {
			t.Errorf("h2=%t a.example: %d %q %s cert %q %v", h2, st, body, proto, cn, err)
		}
		if st, _, _, cn, err = tlsGet(addr, "x.w.example", "x.w.example", "/", h2, nil); err != nil || st != 200 || cn != "wild" {
			t.Errorf("h2=%t wildcard: %d cert %q %v", h2, st, cn, err)
		}
		// A TLS client for a plain router, and for no router: 404, with
		// the default certificate.
		if st, _, _, cn, err = tlsGet(addr, "plain.example", "plain.example", "/", h2, nil); err != nil || st != 404 || cn != "default.example" {
			t.Errorf("h2=%t TLS to a plain router: %d cert %q %v", h2, st, cn, err)
		}
		if st, _, _, cn, err = tlsGet(addr, "", "a.example", "/", h2, nil); err != nil || st != 200 || cn != "default.example" {
			t.Errorf("h2=%t no SNI: %d cert %q %v", h2, st, cn, err)
		}
		// Domain fronting: SNI a.example (default option), Host m.example
		// (option mtls): 421.
		if st, body, _, _, err = tlsGet(addr, "a.example", "m.example", "/", h2, nil); err != nil || st != 421 || body != "Misdirected Request\n" {
			t.Errorf("h2=%t fronting: %d %q %v", h2, st, body, err)
		}
		if _, _, _, _, err = tlsGet(addr, "m.example", "m.example", "/", h2, nil); err == nil {
			t.Errorf("h2=%t mtls without a client certificate: served", h2)
		}
		if st, _, _, _, err = tlsGet(addr, "m.example", "m.example", "/", h2, &f.clientCert); err != nil || st != 200 {
			t.Errorf("h2=%t mtls with a client certificate: %d %v", h2, st, err)
		}
		if _, _, _, _, err = tlsGet(addr, "s.example", "s.example", "/", h2, nil); err == nil {
			t.Errorf("h2=%t sniStrict without a certificate for the name: served", h2)
		}
	}
	// A plain client for a TLS router: 404 (it is HTTPS only).
	if st, _ := get(t, addr, "a.example", "/"); st != 404 {
		t.Errorf("plain request to a TLS router: %d, want 404", st)
	}
}

// TestBinaryTLSSecretChange: a Secret edit is used by the next handshake
// within a second, while a connection opened before keeps serving; a
// Secret that no longer holds a certificate is reported, and its host
// gets the default certificate.
func TestBinaryTLSSecretChange(t *testing.T) {
	f := newTLSFixture(t)
	cfg := &tls.Config{ServerName: "a.example", InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}
	old, err := tls.Dial("tcp4", f.p.addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	crt, key := f.ca.issue(t, "a.example renewed", "a.example")
	write(t, filepath.Join(f.dir, "a-cert.yaml"), tlsSecret("a-cert", crt, key))
	waitCert(t, f.p.addr, "a.example", "a.example renewed")
	if st, _, _, err := httpOver(old, "a.example", "/", false); err != nil || st != 200 {
		t.Fatalf("the connection opened before the change: %d %v", st, err)
	}
	if cn := old.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "a.example" {
		t.Fatalf("the old connection's certificate changed: %q", cn)
	}
	write(t, filepath.Join(f.dir, "a-cert.yaml"), tlsSecret("a-cert", crt, []byte("not a key")))
	waitCert(t, f.p.addr, "a.example", "default.example")
	waitLog(t, f.p, 2*time.Second, "IngressRoute e2e/a", "secret e2e/a-cert")
	if strings.Contains(f.p.log(), "PRIVATE KEY") {
		t.Fatal("a private key reached the log")
	}
}

// waitCert waits until a handshake with sni is served the certificate cn.
func waitCert(t *testing.T, addr, sni, cn string) {
	t.Helper()
	got := ""
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := tls.Dial("tcp4", addr, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
		if err == nil {
			got = c.ConnectionState().PeerCertificates[0].Subject.CommonName
			c.Close()
			if got == cn {
				return
			}
		}
	}
	t.Fatalf("SNI %s: certificate %q, want %q", sni, got, cn)
}

// TestBinaryTLSEntryPoint: an entry point with http.tls serves every
// router attached to it over TLS (no tls block needed), and the plain
// entry point redirects to it with http.redirections: 301 for GET, 308
// for others, to the TLS entry point's port.
func TestBinaryTLSEntryPoint(t *testing.T) {
	port := seenBackend(t, "127.0.0.2", "main", nil)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("main", port, "127.0.0.2")+"---\n"+routeYAML("r", "site.example", "{name: main, port: 80}"))
	secure := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startSluice(t, dir, "--entryPoints.websecure.address="+secure, "--entryPoints.websecure.http.tls=true",
		"--entryPoints.web.http.redirections.entryPoint.to=websecure")
	_, securePort, _ := strings.Cut(secure, ":")
	deadline := time.Now().Add(3 * time.Second)
	for {
		st, body, _, cn, err := tlsGet(secure, "site.example", "site.example", "/p", true, nil)
		if err == nil && st == 200 && strings.Contains(body, "main GET /p") && cn == "TRAEFIK DEFAULT CERT" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("TLS entry point: %d %q cert %q %v", st, body, cn, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for method, status := range map[string]int{"GET": 301, "POST": 308} {
		resp, _, err := rawResponse(p.addr, method+" /p?x=1 HTTP/1.1\r\nHost: site.example\r\nContent-Length: 0\r\n\r\n")
		if err != nil {
			t.Fatal(err)
		}
		if want := "https://site.example:" + securePort + "/p?x=1"; resp.StatusCode != status || resp.Header.Get("Location") != want {
			t.Errorf("%s on the plain entry point: %d Location %q, want %d %s", method, resp.StatusCode, resp.Header.Get("Location"), status, want)
		}
	}
}

// TestBinaryTLSWebSocketAndGRPC: a WebSocket upgrade over TLS (the server
// sees X-Forwarded-Proto wss) and gRPC over TLS (HTTP/2 by ALPN) to an
// h2c server: a unary call, an error status in trailers, a stream.
func TestBinaryTLSWebSocketAndGRPC(t *testing.T) {
	wsPort := namedBackendFunc(t, "127.0.0.3", func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nxfp=%s\n", r.Header.Get("X-Forwarded-Proto"))
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo: " + line)
		brw.Flush()
	})
	hs, grpcPort := startHealthServer(t, "127.0.0.4")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("ws", wsPort, "127.0.0.3")+"---\n"+
		manifests("grpc", grpcPort, "127.0.0.4")+`---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
  - {match: Host(`+"`ws.example`"+`), services: [{name: ws, port: 80}]}
  - {match: Host(`+"`grpc.example`"+`), services: [{name: grpc, port: 80, scheme: h2c}]}
  tls: {}
`)
	p := startSluice(t, dir)
	eventually(t, p.addr, "nothing.example", "/", 404, "")

	c, err := tls.Dial("tcp4", p.addr, &tls.Config{ServerName: "ws.example", InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /chat HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade over TLS: %v %v", resp, err)
	}
	if line, _ := br.ReadString('\n'); line != "xfp=wss\n" {
		t.Fatalf("the server saw %q, want X-Forwarded-Proto wss", line)
	}
	io.WriteString(c, "one\n")
	if line, _ := br.ReadString('\n'); line != "echo: one\n" {
		t.Fatalf("through the upgraded TLS connection: %q", line)
	}

	conn, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})),
		grpc.WithAuthority("grpc.example"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "shop"}); err != nil || res.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("unary over TLS: %v %v", res, err)
	}
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"}); status.Code(err) != codes.NotFound {
		t.Fatalf("error status over TLS: %v", err)
	}
	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := stream.Recv(); err != nil || got.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("stream over TLS: %v %v", got, err)
	}
	hs.SetServingStatus("shop", healthpb.HealthCheckResponse_NOT_SERVING)
	if got, err := stream.Recv(); err != nil || got.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("stream update over TLS: %v %v", got, err)
	}
}

// TestBinaryTLSSharedTickets: two replicas reading one session ticket
// keys Secret (--tls.sessionTicketKeysSecret) resume each other's TLS
// sessions, over TLS 1.3 and 1.2; without it they cannot.
func TestBinaryTLSSharedTickets(t *testing.T) {
	ca := newTestCA(t, "tickets CA")
	crt, key := ca.issue(t, "a.example", "a.example")
	port := seenBackend(t, "127.0.0.2", "main", nil)
	dir := t.TempDir()
	keys := make([]byte, 64)
	for i := range keys {
		keys[i] = byte(i * 7)
	}
	write(t, filepath.Join(dir, "all.yaml"), manifests("main", port, "127.0.0.2")+"---\n"+tlsSecret("a-cert", crt, key)+
		fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: tickets, namespace: e2e}\ndata: {session-ticket-keys: %s}\n---\n",
			base64.StdEncoding.EncodeToString(keys))+`apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: a, namespace: e2e}
spec:
  routes: [{match: Host(`+"`a.example`"+`), services: [{name: main, port: 80}]}]
  tls: {secretName: a-cert}
`)
	shared := "--tls.sessionTicketKeysSecret=e2e/tickets"
	a, b, c := startSluice(t, dir, shared), startSluice(t, dir, shared), startSluice(t, dir)
	for _, p := range []*sluiceProc{a, b, c} {
		waitCert(t, p.addr, "a.example", "a.example")
	}
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		resumes := func(from, to string) bool {
			cache := tls.NewLRUClientSessionCache(4)
			cfg := &tls.Config{ServerName: "a.example", InsecureSkipVerify: true, ClientSessionCache: cache, MaxVersion: v, NextProtos: []string{"http/1.1"}}
			first, err := tls.Dial("tcp4", from, cfg)
			if err != nil {
				t.Fatal(err)
			}
			httpOver(first, "a.example", "/", false) // TLS 1.3 tickets come after the handshake
			first.Close()
			second, err := tls.Dial("tcp4", to, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer second.Close()
			return second.ConnectionState().DidResume
		}
		if !resumes(a.addr, b.addr) {
			t.Errorf("TLS %x: a session from one replica did not resume on the other sharing the keys", v)
		}
		if resumes(a.addr, c.addr) {
			t.Errorf("TLS %x: a session resumed on a replica with keys of its own", v)
		}
	}
}
