package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"google.golang.org/grpc"
)

// spiffePKI is a SPIFFE trust domain's CA and SVIDs signed by it.
type spiffePKI struct {
	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
}

func newSpiffePKI(t *testing.T) *spiffePKI {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "spiffe CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		URIs:      []*url.URL{{Scheme: "spiffe", Host: "test.example"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return &spiffePKI{ca: ca, caKey: k}
}

// svid returns an X.509 SVID for id: its certificate's DER and key.
func (p *spiffePKI) svid(t *testing.T, id string) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	u, _ := url.Parse(id)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), URIs: []*url.URL{u},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &k.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, k
}

// fakeWorkloadAPI is the SPIFFE Workload API a SPIRE agent serves, with
// one SVID: it sends it and holds the stream open, as an agent does
// between rotations.
type fakeWorkloadAPI struct {
	workload.UnimplementedSpiffeWorkloadAPIServer
	resp *workload.X509SVIDResponse
}

func (f *fakeWorkloadAPI) FetchX509SVID(_ *workload.X509SVIDRequest, s grpc.ServerStreamingServer[workload.X509SVIDResponse]) error {
	if err := s.Send(f.resp); err != nil {
		return err
	}
	<-s.Context().Done()
	return nil
}

// startWorkloadAPI serves Sluice's SVID (spiffe://test.example/sluice) on
// a Unix socket and returns its address.
func startWorkloadAPI(t *testing.T, pki *spiffePKI) string {
	t.Helper()
	der, key := pki.svid(t, "spiffe://test.example/sluice")
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	workload.RegisterSpiffeWorkloadAPIServer(srv, &fakeWorkloadAPI{resp: &workload.X509SVIDResponse{
		Svids: []*workload.X509SVID{{SpiffeId: "spiffe://test.example/sluice", X509Svid: der, X509SvidKey: keyDER, Bundle: pki.ca.Raw}},
	}})
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return "unix://" + sock
}

// TestBinarySPIFFE: with --spiffe.workloadAPIAddr, a ServersTransport's
// spiffe (ids, or trustDomain) reaches servers over SPIFFE mutual TLS:
// Sluice presents its SVID from the Workload API and accepts only the
// server IDs asked for; a transport mixing spiffe with other TLS fields,
// or naming an invalid ID, falls back to the default TLS configuration
// with a diagnostic, as Traefik's; and the static
// --serversTransport.spiffe.ids makes it the default transport's.
func TestBinarySPIFFE(t *testing.T) {
	pki := newSpiffePKI(t)
	api := startWorkloadAPI(t, pki)
	der, key := pki.svid(t, "spiffe://test.example/backend")
	pool := x509.NewCertPool()
	pool.AddCert(pki.ca)
	ln, err := net.Listen("tcp4", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "mtls client=%s", r.TLS.PeerCertificates[0].URIs[0])
		}),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool},
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	st := func(name, spec string) string {
		return "---\napiVersion: traefik.io/v1alpha1\nkind: ServersTransport\nmetadata: {name: " + name + ", namespace: e2e}\nspec: " + spec + "\n"
	}
	write(t, filepath.Join(dir, "all.yaml"), serviceYAML("app", "https", 443, port, "[{addresses: [127.0.0.2]}]")+
		st("ids", `{spiffe: {ids: ["spiffe://test.example/backend"]}}`)+
		st("other-id", `{spiffe: {ids: ["spiffe://test.example/other"]}}`)+
		st("domain", `{spiffe: {trustDomain: test.example}}`)+
		st("other-domain", `{spiffe: {trustDomain: other.example}}`)+
		st("mixed", `{insecureSkipVerify: true, spiffe: {trustDomain: test.example}}`)+
		st("bad-id", `{spiffe: {ids: ["https://test.example/backend"]}}`)+`---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
  - {match: "Host(`+"`ids.example`"+`)", services: [{name: app, port: 443, serversTransport: ids}]}
  - {match: "Host(`+"`other-id.example`"+`)", services: [{name: app, port: 443, serversTransport: other-id}]}
  - {match: "Host(`+"`domain.example`"+`)", services: [{name: app, port: 443, serversTransport: domain}]}
  - {match: "Host(`+"`other-domain.example`"+`)", services: [{name: app, port: 443, serversTransport: other-domain}]}
  - {match: "Host(`+"`mixed.example`"+`)", services: [{name: app, port: 443, serversTransport: mixed}]}
  - {match: "Host(`+"`bad-id.example`"+`)", services: [{name: app, port: 443, serversTransport: bad-id}]}
  - {match: "Host(`+"`default.example`"+`)", services: [{name: app, port: 443}]}
`)
	p := startSluice(t, dir, "--spiffe.workloadAPIAddr="+api, "--serversTransport.spiffe.ids=spiffe://test.example/backend")
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(p.log())
		}
	})
	eventually(t, p.addr, "ids.example", "/", 200, "mtls client=spiffe://test.example/sluice")
	eventually(t, p.addr, "domain.example", "/", 200, "mtls client=spiffe://test.example/sluice")
	eventually(t, p.addr, "default.example", "/", 200, "mtls client=spiffe://test.example/sluice")
	eventually(t, p.addr, "other-id.example", "/", 502, "Bad Gateway")
	eventually(t, p.addr, "other-domain.example", "/", 502, "Bad Gateway")
	eventually(t, p.addr, "mixed.example", "/", 502, "Bad Gateway") // the default TLS knows no test CA
	eventually(t, p.addr, "bad-id.example", "/", 502, "Bad Gateway")
	waitLog(t, p, time.Second, "TLS and SPIFFE configuration cannot be defined at the same time")
	waitLog(t, p, time.Second, "invalid SPIFFE ID")
}
