package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pebbleEnv is Let's Encrypt's test CA (pebble) and its DNS
// (pebble-challtestsrv, every name 127.0.0.1), started by the test, with
// HTTP-01 validated on httpPort and TLS-ALPN-01 on tlsPort of 127.0.0.1.
type pebbleEnv struct {
	dir               string // the CA's directory URL is https://<listen>/dir
	listen            string
	caCert            string // the PEM file of the CA serving the directory
	httpPort, tlsPort int
}

// startPebble runs pebble (make tools builds it, with its challenge test
// server, into SLUICE_PEBBLE and SLUICE_CHALLTESTSRV).
func startPebble(t *testing.T) *pebbleEnv {
	t.Helper()
	pebble, chall := os.Getenv("SLUICE_PEBBLE"), os.Getenv("SLUICE_CHALLTESTSRV")
	for _, b := range []string{pebble, chall} {
		if _, err := os.Stat(b); b == "" || err != nil {
			if os.Getenv("SLUICE_REQUIRE_TOOLS") == "1" {
				t.Fatalf("pebble not found (%q): make tools builds it", b)
			}
			t.Skip("pebble not found: make tools builds it")
		}
	}
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/letsencrypt/pebble/v2@"+pebbleVersion()).Output()
	if err != nil {
		t.Fatalf("pebble's module source: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	e := &pebbleEnv{listen: fmt.Sprintf("127.0.0.1:%d", freePort(t)), httpPort: freePort(t), tlsPort: freePort(t),
		caCert: filepath.Join(mod.Dir, "test/certs/pebble.minica.pem")}
	e.dir = "https://" + e.listen + "/dir"
	dns := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	startLogged(t, filepath.Join(t.TempDir(), "challtestsrv.log"), chall, "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
		"-dnsserver", dns, "-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "", "-management", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	cfg := map[string]any{"pebble": map[string]any{"listenAddress": e.listen, "managementListenAddress": fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"certificate": filepath.Join(mod.Dir, "test/certs/localhost/cert.pem"), "privateKey": filepath.Join(mod.Dir, "test/certs/localhost/key.pem"),
		"httpPort": e.httpPort, "tlsPort": e.tlsPort, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
	data, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(t.TempDir(), "pebble.json")
	write(t, cfgFile, string(data))
	os.Setenv("PEBBLE_VA_NOSLEEP", "1")
	os.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	startLogged(t, filepath.Join(t.TempDir(), "pebble.log"), pebble, "-config", cfgFile, "-dnsserver", dns)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", e.listen); err == nil {
			c.Close()
			return e
		}
		if time.Now().After(deadline) {
			t.Fatal("pebble did not listen")
		}
	}
}

func pebbleVersion() string {
	if v := os.Getenv("PEBBLE_VERSION"); v != "" {
		return v
	}
	return "v2.10.3"
}

// servedCert is the certificate the address serves for sni, or nil.
func servedCert(addr, sni string, protos ...string) *tls.ConnectionState {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, &tls.Config{ServerName: sni, InsecureSkipVerify: true, NextProtos: protos})
	if err != nil {
		return nil
	}
	defer c.Close()
	st := c.ConnectionState()
	return &st
}

// TestBinaryACME: routers naming a resolver get certificates from a real
// ACME CA (pebble): one by HTTP-01 through the entry point named by
// httpChallenge, one by TLS-ALPN-01 through the TLS front end; both are
// served by SNI, kept in acme.json in Traefik's format, and served at
// once by a restarted Sluice without a new order.
func TestBinaryACME(t *testing.T) {
	pe := startPebble(t)
	port := namedBackend(t, "127.0.0.2", "acme-backend")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("back", port, "127.0.0.2")+`---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: secure, namespace: e2e}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(`+"`http01.example`"+`)
    services: [{name: back, port: 80}]
  tls: {certResolver: le}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: alpn, namespace: e2e}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(`+"`alpn.example`"+`) || Host(`+"`www.alpn.example`"+`)
    services: [{name: back, port: 80}]
  tls: {certResolver: alpn}
`)
	storage := filepath.Join(t.TempDir(), "acme.json")
	secure := fmt.Sprintf("127.0.0.1:%d", pe.tlsPort)
	flags := []string{
		"--entryPoints.websecure.address=" + secure, "--entryPoints.websecure.http.tls=true",
		"--certificatesResolvers.le.acme.email=ops@example.com", "--certificatesResolvers.le.acme.caServer=" + pe.dir,
		"--certificatesResolvers.le.acme.caCertificates=" + pe.caCert, "--certificatesResolvers.le.acme.storage=" + storage,
		"--certificatesResolvers.le.acme.keyType=EC256", "--certificatesResolvers.le.acme.httpChallenge.entryPoint=web",
		"--certificatesResolvers.alpn.acme.email=ops@example.com", "--certificatesResolvers.alpn.acme.caServer=" + pe.dir,
		"--certificatesResolvers.alpn.acme.caCertificates=" + pe.caCert, "--certificatesResolvers.alpn.acme.storage=" + storage,
		"--certificatesResolvers.alpn.acme.keyType=EC256", "--certificatesResolvers.alpn.acme.tlsChallenge=true",
	}
	p := runSluice(t, fmt.Sprintf("127.0.0.1:%d", pe.httpPort), 20*time.Second, append([]string{"--providers.manifests.directory=" + dir}, flags...)...)
	issued := func(sni string) bool {
		st := servedCert(secure, sni, "http/1.1")
		return st != nil && len(st.PeerCertificates) > 0 && strings.Contains(st.PeerCertificates[0].Issuer.CommonName, "Pebble") &&
			st.PeerCertificates[0].VerifyHostname(sni) == nil
	}
	for _, sni := range []string{"http01.example", "alpn.example", "www.alpn.example"} {
		for deadline := time.Now().Add(90 * time.Second); !issued(sni); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no certificate from the CA for %s; logs:\n%s", sni, p.log())
			}
		}
	}
	var stored map[string]struct {
		Account      *struct{ Email string }
		Certificates []struct {
			Domain      struct{ Main string }
			Certificate []byte
			Key         []byte
			Store       string
		}
	}
	data, err := os.ReadFile(storage)
	if err != nil || json.Unmarshal(data, &stored) != nil {
		t.Fatalf("acme.json: %v %s", err, data)
	}
	for r, main := range map[string]string{"le": "http01.example", "alpn": "alpn.example"} {
		s := stored[r]
		if s.Account == nil || s.Account.Email != "ops@example.com" || len(s.Certificates) != 1 || s.Certificates[0].Domain.Main != main ||
			s.Certificates[0].Store != "default" || !strings.Contains(string(s.Certificates[0].Certificate), "BEGIN CERTIFICATE") {
			t.Fatalf("acme.json for %s: %+v", r, s)
		}
	}
	if info, _ := os.Stat(storage); info.Mode().Perm() != 0o600 {
		t.Fatalf("acme.json mode %v, want 0600", info.Mode().Perm())
	}
	// Served from the file at once after a restart, nothing ordered.
	p.stop()
	p2 := runSluice(t, fmt.Sprintf("127.0.0.1:%d", pe.httpPort), 20*time.Second, append([]string{"--providers.manifests.directory=" + dir}, flags...)...)
	if !issued("http01.example") || !issued("alpn.example") {
		t.Fatalf("a restarted Sluice does not serve the stored certificates; logs:\n%s", p2.log())
	}
	time.Sleep(300 * time.Millisecond)
	if strings.Contains(p2.log(), "ordering a certificate") {
		t.Fatalf("a restarted Sluice ordered again:\n%s", p2.log())
	}
}
