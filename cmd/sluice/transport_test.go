package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"
)

// testPKI is a CA with one server and one client certificate.
type testPKI struct {
	caPEM                 []byte
	server                tls.Certificate
	clientCert, clientKey []byte
	pool                  *x509.CertPool
}

func newPKI(t *testing.T, serverName string) *testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(cn string, usage x509.ExtKeyUsage, dns []string) ([]byte, []byte) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.URIs = []*url.URL{{Scheme: "spiffe", Host: "test.example", Path: "/backend"}} // for peerCertURI
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kd, _ := x509.MarshalECPrivateKey(k)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
	}
	p := &testPKI{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	sc, sk := leaf(serverName, x509.ExtKeyUsageServerAuth, []string{serverName})
	if p.server, err = tls.X509KeyPair(sc, sk); err != nil {
		t.Fatal(err)
	}
	p.clientCert, p.clientKey = leaf("sluice-client", x509.ExtKeyUsageClientAuth, nil)
	return p
}

// TestBinaryServersTransport: an https service reached through a
// ServersTransport (serverName, rootCAs and a client certificate from
// Secrets, or rootCAs from a ConfigMap) verifies the server and presents the certificate; without it
// the unknown CA is a 502; insecureSkipVerify skips verification; a
// missing ServersTransport disables the route (404). peerCertURI requires
// the server's certificate to name the URI, and its chain to verify even
// with insecureSkipVerify, as Traefik's; spiffe without a Workload API
// (--spiffe.workloadAPIAddr) falls back to the default TLS configuration
// as Traefik's does, with a diagnostic (TestBinarySPIFFE has one).
func TestBinaryServersTransport(t *testing.T) {
	pki := newPKI(t, "backend.internal")
	ln, err := net.Listen("tcp4", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			client := "none"
			if len(r.TLS.PeerCertificates) > 0 {
				client = r.TLS.PeerCertificates[0].Subject.CommonName
			}
			fmt.Fprintf(w, "tls sni=%s client=%s", r.TLS.ServerName, client)
		}),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pki.pool},
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), serviceYAML("tlsapp", "https", 443, port, "[{addresses: [127.0.0.2]}]")+fmt.Sprintf(`---
apiVersion: v1
kind: Secret
metadata: {name: ca, namespace: e2e}
data: {ca.crt: %s}
---
apiVersion: v1
kind: Secret
metadata: {name: client, namespace: e2e}
type: kubernetes.io/tls
data: {tls.crt: %s, tls.key: %s}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: verified, namespace: e2e}
spec:
  serverName: backend.internal
  rootCAs: [{secret: ca}]
  certificatesSecrets: [client]
  forwardingTimeouts: {dialTimeout: 5s, idleConnTimeout: 30}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ca-bundle, namespace: e2e}
data: {ca.crt: %q}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: viacm, namespace: e2e}
spec: {serverName: backend.internal, rootCAs: [{configMap: ca-bundle}]}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: insecure, namespace: e2e}
spec: {insecureSkipVerify: true}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: uri-ok, namespace: e2e}
spec: {serverName: backend.internal, rootCAs: [{secret: ca}], peerCertURI: "SPIFFE://test.example/backend"}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: uri-other, namespace: e2e}
spec: {serverName: backend.internal, rootCAs: [{secret: ca}], peerCertURI: "spiffe://test.example/other"}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: uri-insecure-noca, namespace: e2e}
spec: {insecureSkipVerify: true, peerCertURI: "spiffe://test.example/backend"}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: uri-insecure-ca, namespace: e2e}
spec: {insecureSkipVerify: true, rootCAs: [{secret: ca}], peerCertURI: "spiffe://test.example/backend"}
---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: spiffe, namespace: e2e}
spec: {insecureSkipVerify: true, spiffe: {ids: ["spiffe://test.example/backend"]}}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
  - match: Host(`+"`uri-ok.example`"+`)
    services: [{name: tlsapp, port: 443, serversTransport: uri-ok}]
  - match: Host(`+"`uri-other.example`"+`)
    services: [{name: tlsapp, port: 443, serversTransport: uri-other}]
  - match: Host(`+"`uri-insecure-noca.example`"+`)
    services: [{name: tlsapp, port: 443, serversTransport: uri-insecure-noca}]
  - match: Host(`+"`uri-insecure-ca.example`"+`)
    services: [{name: tlsapp, port: 443, serversTransport: uri-insecure-ca}]
  - match: Host(`+"`spiffe.example`"+`)
    services: [{name: tlsapp, port: 443, serversTransport: spiffe}]
  - match: Host(`+"`secure.example`"+`)
    services: [{name: tlsapp, port: 443, serversTransport: verified}]
  - match: Host(`+"`cm.example`"+`)
    services: [{name: tlsapp, port: 443, serversTransport: viacm}]
  - match: Host(`+"`plain.example`"+`)
    services: [{name: tlsapp, port: 443}]
  - match: Host(`+"`insecure.example`"+`)
    services: [{name: tlsapp, port: 443, serversTransport: insecure}]
  - match: Host(`+"`missing.example`"+`)
    services: [{name: tlsapp, port: 443, serversTransport: nosuch}]
`, b64(pki.caPEM), b64(pki.clientCert), b64(pki.clientKey), pki.caPEM))
	p := startSluice(t, dir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(p.log())
		}
	})
	eventually(t, p.addr, "secure.example", "/", 200, "tls sni=backend.internal client=sluice-client")
	eventually(t, p.addr, "cm.example", "/", 200, "tls sni=backend.internal client=none")
	eventually(t, p.addr, "plain.example", "/", 502, "Bad Gateway")
	eventually(t, p.addr, "insecure.example", "/", 200, "tls sni= client=none") // Go sends no SNI for an IP
	eventually(t, p.addr, "missing.example", "/", 404, "404")
	waitLog(t, p, time.Second, "serversTransport not found: e2e/nosuch")
	eventually(t, p.addr, "uri-ok.example", "/", 200, "tls sni=backend.internal client=none")
	eventually(t, p.addr, "uri-other.example", "/", 502, "Bad Gateway")
	eventually(t, p.addr, "uri-insecure-noca.example", "/", 502, "Bad Gateway") // the chain is still verified
	eventually(t, p.addr, "uri-insecure-ca.example", "/", 200, "tls sni= client=none")
	eventually(t, p.addr, "spiffe.example", "/", 502, "Bad Gateway") // default TLS: the test CA is unknown
	waitLog(t, p, time.Second, "SPIFFE is enabled for this transport, but not configured")
}

// TestBinaryPostAfterBackendIdleClose: a backend closes keep-alive
// connections idle for 150 ms (Go's http.Server IdleTimeout; Node.js does
// the same after 5 s), without Connection: close. POSTs that come after
// such a close get the backend's answer, as through Traefik, whose
// Transport notices the close while the connection is idle: the proxy
// must not send them on the dead connection, where they would fail and,
// not being idempotent, could not be sent again.
func TestBinaryPostAfterBackendIdleClose(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{IdleTimeout: 150 * time.Millisecond, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s", r.Method, b)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.yaml"), manifests("app", ln.Addr().(*net.TCPAddr).Port, "127.0.0.2")+"---\n"+
		routeYAML("app", "app.example", "{name: app, port: 80}"))
	p := startSluice(t, dir)
	eventually(t, p.addr, "app.example", "/", 200, "GET ")
	for i := range 3 {
		time.Sleep(400 * time.Millisecond) // past the backend's idle timeout
		body := fmt.Sprintf("order %d", i)
		if st, got, _ := send(t, "POST", p.addr, "app.example", "/", body, ""); st != 200 || got != "POST "+body {
			t.Fatalf("POST %d after the backend closed its idle connection: %d %q", i, st, got)
		}
	}
}
