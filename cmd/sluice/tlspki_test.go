package main

import (
	"bufio"
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
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// testCA issues certificates for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
	pool *x509.CertPool
}

func newTestCA(t *testing.T, cn string) *testCA {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: c, key: k, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pool: x509.NewCertPool()}
	ca.pool.AddCert(c)
	return ca
}

// issue returns PEM certificate and key for cn and names (server and
// client use), valid a day.
func (ca *testCA) issue(t *testing.T, cn string, names ...string) (certPEM, keyPEM []byte) {
	return ca.issueFor(t, 24*time.Hour, cn, names...)
}

// issueFor is issue for a validity, with a random 128-bit serial number
// and a CRL address, as a public CA's certificates have.
func (ca *testCA) issueFor(t *testing.T, validity time.Duration, cn string, names ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	var dns []string
	var ips []net.IP
	for _, n := range names { // an address is an IP name, as an HTTPS server at an IP needs
		if ip := net.ParseIP(n); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, n)
		}
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, DNSNames: dns, IPAddresses: ips,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		CRLDistributionPoints: []string{"http://127.0.0.1:9/ca.crl"},
		NotBefore:             time.Now().Add(-time.Hour), NotAfter: time.Now().Add(validity)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &k.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

// tlsSecret is a kubernetes.io/tls Secret in namespace e2e.
func tlsSecret(name string, certPEM, keyPEM []byte) string {
	return tlsSecretIn("e2e", name, certPEM, keyPEM)
}

// tlsSecretIn is a kubernetes.io/tls Secret in namespace ns.
func tlsSecretIn(ns, name string, certPEM, keyPEM []byte) string {
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ntype: kubernetes.io/tls\ndata: {tls.crt: %s, tls.key: %s}\n---\n",
		name, ns, b64(certPEM), b64(keyPEM))
}

// tlsDial opens a TLS connection speaking HTTP/1.1 with server name sni.
func tlsDial(addr, sni string) (*tls.Conn, error) {
	return tls.DialWithDialer(&netDialer, "tcp4", addr, &tls.Config{ServerName: sni, InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
}

// caSecret is a Secret holding a CA bundle (ca.crt) in namespace e2e.
func caSecret(name string, caPEM []byte) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: e2e}\ndata: {ca.crt: %s}\n---\n",
		name, base64.StdEncoding.EncodeToString(caPEM))
}

// tlsGet sends GET path with Host host over TLS with server name sni
// (empty: none) to addr, over HTTP/2 when h2, and returns the status,
// body, protocol and the served certificate's common name.
func tlsGet(addr, sni, host, path string, h2 bool, cert *tls.Certificate) (int, string, string, string, error) {
	cfg := &tls.Config{ServerName: sni, InsecureSkipVerify: true}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	if h2 {
		cfg.NextProtos = []string{"h2"}
	} else {
		cfg.NextProtos = []string{"http/1.1"}
	}
	c, err := tls.DialWithDialer(&netDialer, "tcp4", addr, cfg)
	if err != nil {
		return 0, "", "", "", err
	}
	defer c.Close()
	cn := c.ConnectionState().PeerCertificates[0].Subject.CommonName
	status, body, proto, err := httpOver(c, host, path, h2)
	return status, body, proto, cn, err
}

var netDialer = net.Dialer{Timeout: 5 * time.Second}

// httpOver sends one GET on an established connection: HTTP/1.1, or
// HTTP/2 when h2.
func httpOver(c net.Conn, host, path string, h2 bool) (int, string, string, error) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req, _ := http.NewRequest("GET", "https://"+host+path, nil)
	req.Host = host
	var resp *http.Response
	var err error
	if h2 {
		cc, cerr := (&http2.Transport{}).NewClientConn(c)
		if cerr != nil {
			return 0, "", "", cerr
		}
		resp, err = cc.RoundTrip(req)
	} else {
		req.Close = true
		if err = req.Write(c); err == nil {
			resp, err = http.ReadResponse(bufio.NewReader(c), req)
		}
	}
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Proto, err
}
