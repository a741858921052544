package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	legoacme "github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/lego"
)

// pebbleEnv is Let's Encrypt's test CA (pebble) and its DNS
// (pebble-challtestsrv, every name 127.0.0.1), started by the test, with
// HTTP-01 validated on httpPort and TLS-ALPN-01 on tlsPort of 127.0.0.1,
// accounts bound to eabKid (External Account Binding required),
// certificates valid two hours, and blocked.example refused.
type pebbleEnv struct {
	dir               string // the CA's directory URL is https://<listen>/dir
	listen            string
	caCert            string // the PEM file of the CA serving the directory
	httpPort, tlsPort int
	dnsAPI            string // challtestsrv's management address (set-txt, clear-txt)
	mgmt              string // pebble's management address (set-renewal-info)
	altRoot           string // the common name of the alternate root (chains offered for both)
	stop              func()
}

const (
	eabKid  = "kid-sluice"
	eabHMAC = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
)

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
		caCert: filepath.Join(mod.Dir, "test/certs/pebble.minica.pem"), dnsAPI: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	e.dir = "https://" + e.listen + "/dir"
	dns := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	startLogged(t, filepath.Join(t.TempDir(), "challtestsrv.log"), chall, "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
		"-dnsserver", dns, "-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "", "-management", e.dnsAPI)
	e.mgmt = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := map[string]any{"pebble": map[string]any{"listenAddress": e.listen, "managementListenAddress": e.mgmt,
		"certificate": filepath.Join(mod.Dir, "test/certs/localhost/cert.pem"), "privateKey": filepath.Join(mod.Dir, "test/certs/localhost/key.pem"),
		"httpPort": e.httpPort, "tlsPort": e.tlsPort, "ocspResponderURL": "",
		"externalAccountBindingRequired": true, "externalAccountMACKeys": map[string]string{eabKid: eabHMAC},
		"domainBlocklist": []string{"blocked.example"},
		"profiles":        map[string]any{"default": map[string]any{"description": "two hours", "validityPeriod": 7200}}}}
	data, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(t.TempDir(), "pebble.json")
	write(t, cfgFile, string(data))
	cmd := exec.Command(pebble, "-config", cfgFile, "-dnsserver", dns)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0", "PEBBLE_ALTERNATE_ROOTS=1")
	logf, _ := os.Create(filepath.Join(t.TempDir(), "pebble.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	e.stop = func() { once.Do(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() }) }
	t.Cleanup(e.stop)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if listening(e.listen) && listening(e.mgmt) {
			e.altRoot = e.rootName(t, 1)
			return e
		}
		if time.Now().After(deadline) {
			t.Fatal("pebble did not listen")
		}
	}
}

func listening(addr string) bool {
	c, err := net.Dial("tcp", addr)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// rootName is the common name of pebble's root certificate i.
func (e *pebbleEnv) rootName(t *testing.T, i int) string {
	t.Helper()
	resp, err := e.mgmtClient().Get(fmt.Sprintf("https://%s/roots/%d", e.mgmt, i))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("pebble's root %d: %s %s", i, resp.Status, data)
	}
	crt, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return crt.Subject.CommonName
}

func (e *pebbleEnv) mgmtClient() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 10 * time.Second}
}

// revoke revokes cert at the CA with the account resolver keeps in the
// storage file, as an operator would after a key leak.
func (e *pebbleEnv) revoke(t *testing.T, storage, resolver string, cert *x509.Certificate) {
	t.Helper()
	var stored map[string]struct {
		Account struct {
			Email        string
			Registration struct{ URI string }
			PrivateKey   []byte
		}
	}
	data, _ := os.ReadFile(storage)
	must(t, json.Unmarshal(data, &stored))
	acct := stored[resolver].Account
	key, err := x509.ParsePKCS1PrivateKey(acct.PrivateKey)
	must(t, err)
	conf := lego.NewConfig(&revoker{acct.Email, acct.Registration.URI, key})
	conf.CADirURL, conf.HTTPClient = e.dir, e.mgmtClient()
	client, err := lego.NewClient(conf)
	must(t, err)
	must(t, client.Certificate.Revoke(context.Background(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})))
}

type revoker struct {
	email, uri string
	key        crypto.Signer
}

func (r *revoker) GetEmail() string { return r.email }
func (r *revoker) GetRegistration() *legoacme.ExtendedAccount {
	return &legoacme.ExtendedAccount{Location: r.uri}
}
func (r *revoker) GetPrivateKey() crypto.Signer { return r.key }

// dnsHook is a script for lego's exec DNS provider (EXEC_PATH) that sets
// and clears TXT records through challtestsrv's management API.
func (e *pebbleEnv) dnsHook(t *testing.T) string {
	f := filepath.Join(t.TempDir(), "dns-hook.sh")
	write(t, f, `#!/bin/sh
case "$1" in
present) exec curl -sf -d "{\"host\":\"$2\",\"value\":\"$3\"}" http://`+e.dnsAPI+`/set-txt ;;
cleanup) exec curl -sf -d "{\"host\":\"$2\"}" http://`+e.dnsAPI+`/clear-txt ;;
esac
`)
	os.Chmod(f, 0o755)
	return f
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

// acmeRoutes are the IngressRoutes of TestBinaryACME: one per challenge,
// one the CA refuses, one wildcard for a resolver without DNS-01, a
// catch-all of the highest user priority on the HTTP-01 entry point (the
// challenge is still answered first, as by Traefik's MaxInt router), and
// TLSStore default with defaultGeneratedCert.
func acmeRoutes(port int) string {
	route := func(name, match, extra string) string {
		return fmt.Sprintf(`---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: %s, namespace: e2e}
spec:
  entryPoints: [websecure]
  routes:
  - match: %s
    services: [{name: back, port: 80}]
  tls: %s
`, name, match, extra)
	}
	return manifests("back", port, "127.0.0.2") +
		route("http01", "Host(`http01.example`)", "{certResolver: le}") +
		route("alpn", "Host(`alpn.example`) || Host(`www.alpn.example`)", "{certResolver: alpn}") +
		route("dns", "Host(`a.dns.example`)", "{certResolver: dns, domains: [{main: dns.example, sans: ['*.dns.example']}]}") +
		route("blocked", "Host(`blocked.example`)", "{certResolver: le}") +
		route("wild", "Host(`x.wild.example`)", "{certResolver: le, domains: [{main: '*.wild.example'}]}") + `---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: catchall, namespace: e2e}
spec:
  entryPoints: [web]
  routes:
  - match: PathPrefix(` + "`/`" + `)
    priority: 9223372036854774807
    services: [{name: back, port: 80}]
---
apiVersion: traefik.io/v1alpha1
kind: TLSStore
metadata: {name: default, namespace: e2e}
spec:
  defaultGeneratedCert: {resolver: le, domain: {main: default.example}}
`
}

// acmeFlags are three resolvers on one storage file: le (HTTP-01,
// renewed 20 minutes before expiry, preferring the alternate root), alpn
// (TLS-ALPN-01) and dns (DNS-01 through lego's exec provider, a
// wildcard), both renewed 6 hours before (pebble's two-hour certificates
// are due at once), all with EAB.
func acmeFlags(pe *pebbleEnv, storage, secure string) []string {
	flags := []string{"--entryPoints.websecure.address=" + secure, "--entryPoints.websecure.http.tls=true"}
	for name, extra := range map[string][]string{
		"le":   {"certificatesDuration=1", "httpChallenge.entryPoint=web", "preferredChain=" + pe.altRoot},
		"alpn": {"certificatesDuration=24", "tlsChallenge=true"},
		"dns":  {"certificatesDuration=24", "dnsChallenge.provider=exec", "dnsChallenge.propagation.disableChecks=true"},
	} {
		for _, kv := range append(extra, "email=ops@example.com", "caServer="+pe.dir, "caCertificates="+pe.caCert, "storage="+storage,
			"keyType=EC256", "eab.kid="+eabKid, "eab.hmacEncoded="+eabHMAC) {
			flags = append(flags, "--certificatesResolvers."+name+".acme."+kv)
		}
	}
	return flags
}

// acmeServed is the certificate served for sni when it comes from the
// CA and is valid for sni, else nil.
func acmeServed(secure, sni string) *x509.Certificate {
	st := servedCert(secure, sni, "http/1.1")
	if st == nil || len(st.PeerCertificates) == 0 || !strings.Contains(st.PeerCertificates[0].Issuer.CommonName, "Pebble") ||
		st.PeerCertificates[0].VerifyHostname(sni) != nil {
		return nil
	}
	return st.PeerCertificates[0]
}

func waitServed(t *testing.T, p *sluiceProc, secure, sni string, ok func(*x509.Certificate) bool) *x509.Certificate {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if c := acmeServed(secure, sni); c != nil && ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("no certificate from the CA for %s; logs:\n%s", sni, p.log())
		}
	}
}

func anyCert(*x509.Certificate) bool { return true }

// TestBinaryACME: routers naming a resolver get certificates from a real
// ACME CA (pebble) by HTTP-01, TLS-ALPN-01 and DNS-01 (a wildcard); they
// are served by SNI and kept in acme.json in Traefik's format; a refused
// order is logged and not repeated at each table; a restarted Sluice
// serves the stored certificates at once, renews those due, and, with
// the CA gone, keeps serving them.
func TestBinaryACME(t *testing.T) {
	pe := startPebble(t)
	dir, storage := t.TempDir(), filepath.Join(t.TempDir(), "acme.json")
	write(t, filepath.Join(dir, "all.yaml"), acmeRoutes(namedBackend(t, "127.0.0.2", "acme-backend")))
	secure, web := fmt.Sprintf("127.0.0.1:%d", pe.tlsPort), fmt.Sprintf("127.0.0.1:%d", pe.httpPort)
	args := append([]string{"--providers.manifests.directory=" + dir}, acmeFlags(pe, storage, secure)...)
	env := []string{"EXEC_PATH=" + pe.dnsHook(t), "EXEC_SEQUENCE_INTERVAL=1"}
	start := time.Now()
	p := runSluiceEnv(t, web, 20*time.Second, env, args...)
	first := map[string]*x509.Certificate{}
	for _, sni := range []string{"http01.example", "alpn.example", "www.alpn.example", "a.dns.example", "default.example"} {
		first[sni] = waitServed(t, p, secure, sni, anyCert)
	}
	// preferredChain: le's certificates chain to the alternate root, the
	// others to the CA's first.
	for sni, root := range map[string]string{"http01.example": pe.altRoot, "alpn.example": "not " + pe.altRoot} {
		st := servedCert(secure, sni, "http/1.1")
		top := st.PeerCertificates[len(st.PeerCertificates)-1].Issuer.CommonName
		if len(st.PeerCertificates) < 2 || root == pe.altRoot && top != root || root != pe.altRoot && top == pe.altRoot {
			t.Fatalf("%s: chain of %d up to %q; want %s", sni, len(st.PeerCertificates), top, root)
		}
	}
	// TLSStore default's defaultGeneratedCert: the default certificate,
	// served to a name nothing else covers.
	if st := servedCert(secure, "other.example", "http/1.1"); st == nil || !st.PeerCertificates[0].Equal(first["default.example"]) {
		t.Fatalf("the default certificate is not defaultGeneratedCert's; logs:\n%s", p.log())
	}
	for _, h2 := range []bool{false, true} {
		if code, body, _, _, err := tlsGet(secure, "alpn.example", "alpn.example", "/x", h2, nil); code != 200 || body != "acme-backend /x" {
			t.Fatalf("a request to the ACME router (h2 %v): %d %q %v", h2, code, body, err)
		}
	}
	// On the HTTP-01 entry point the challenge path is Traefik's (an
	// unknown token is a 404), everything else the catch-all's.
	if code, _ := get(t, web, "http01.example", "/.well-known/acme-challenge/x"); code != 404 {
		t.Fatalf("an unknown token: %d, want Traefik's 404", code)
	}
	if code, body := get(t, web, "http01.example", "/x"); code != 200 || body != "acme-backend /x" {
		t.Fatalf("the catch-all on the HTTP-01 entry point: %d %q", code, body)
	}
	checkACMEFile(t, storage)
	// The refused order is logged, and tried again only after a minute's
	// backoff, though each certificate obtained published a table since.
	time.Sleep(time.Second)
	orders := strings.Count(p.log(), `ordering a certificate" resolver=le domains=[blocked.example]`)
	if !strings.Contains(p.log(), "urn:ietf:params:acme:error:rejectedIdentifier") || orders < 1 || orders > 1+int(time.Since(start)/time.Minute) {
		t.Fatalf("the refused order: %d orders in %v:\n%s", orders, time.Since(start), p.log())
	}
	if !strings.Contains(p.log(), "*.wild.example is a wildcard: only dnsChallenge can validate it") {
		t.Fatalf("no diagnostic for a wildcard on an HTTP-01 resolver:\n%s", p.log())
	}
	// Restarted: served at once from the file. alpn's and dns's
	// certificates are due (two-hour certificates, renewed 6 hours
	// before) and renewed; le's are not (20 minutes before), but
	// http01's has been revoked, the CA says so through its renewal
	// information (ARI), and it is renewed too; default.example's is
	// kept. Nothing is ordered but the refused name (a new process keeps
	// no backoff, as Traefik).
	p.stop()
	pe.revoke(t, storage, "le", first["http01.example"])
	p = runSluiceEnv(t, web, 20*time.Second, env, args...)
	// runSluiceEnv waited for web; the TLS entry point opens next.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp4", secure); err == nil {
			c.Close()
			break
		}
	}
	if c := acmeServed(secure, "default.example"); c == nil || !c.Equal(first["default.example"]) {
		t.Fatalf("a restarted Sluice does not serve the stored certificate at once; logs:\n%s", p.log())
	}
	var renewed *x509.Certificate
	for _, sni := range []string{"alpn.example", "a.dns.example", "http01.example"} {
		renewed = waitServed(t, p, secure, sni, func(c *x509.Certificate) bool { return !c.Equal(first[sni]) })
	}
	time.Sleep(300 * time.Millisecond)
	logs := p.log()
	if strings.Count(logs, "ordering a certificate") != strings.Count(logs, "ordering a certificate\" resolver=le domains=[blocked.example]") ||
		strings.Count(logs, "renewing a certificate") != 3 || !strings.Contains(logs, "the CA asks for an early renewal (ARI)\" resolver=le domains=[http01.example]") ||
		acmeServed(secure, "default.example") == nil || !acmeServed(secure, "default.example").Equal(first["default.example"]) {
		t.Fatalf("after a restart, the certificates of alpn, dns and http01.example (only) are renewed:\n%s", p.log())
	}
	// The CA gone: the renewal fails, the certificate keeps serving.
	pe.stop()
	p.stop()
	p = runSluiceEnv(t, web, 20*time.Second, env, args...)
	waitLog(t, p, 30*time.Second, "unable to renew a certificate; the current one keeps serving")
	if c := acmeServed(secure, "http01.example"); c == nil || !c.Equal(renewed) {
		t.Fatalf("a failed renewal took the certificate away; logs:\n%s", p.log())
	}
}

// checkACMEFile: acme.json holds each resolver's account and
// certificates in Traefik's format, mode 0600.
func checkACMEFile(t *testing.T, storage string) {
	t.Helper()
	var stored map[string]struct {
		Account *struct {
			Email        string
			Registration *struct{ URI string }
			PrivateKey   []byte
		}
		Certificates []struct {
			Domain struct {
				Main string
				SANs []string `json:"sans"`
			} `json:"domain"`
			Certificate []byte `json:"certificate"`
			Key         []byte `json:"key"`
			Store       string
		}
	}
	data, err := os.ReadFile(storage)
	if err != nil || json.Unmarshal(data, &stored) != nil {
		t.Fatalf("acme.json: %v %s", err, data)
	}
	for r, want := range map[string][]string{"le": {"http01.example", "default.example"}, "alpn": {"alpn.example www.alpn.example"}, "dns": {"dns.example *.dns.example"}} {
		s := stored[r]
		if s.Account == nil || s.Account.Email != "ops@example.com" || s.Account.Registration == nil || len(s.Account.PrivateKey) == 0 ||
			len(s.Certificates) != len(want) {
			t.Fatalf("acme.json for %s: %s", r, data)
		}
		for _, c := range s.Certificates {
			if !slices.Contains(want, strings.Join(append([]string{c.Domain.Main}, c.Domain.SANs...), " ")) || c.Store != "default" ||
				!strings.Contains(string(c.Certificate), "BEGIN CERTIFICATE") || !strings.Contains(string(c.Key), "PRIVATE KEY") {
				t.Fatalf("acme.json for %s: %s", r, data)
			}
		}
	}
	if info, _ := os.Stat(storage); info.Mode().Perm() != 0o600 {
		t.Fatalf("acme.json mode %v, want 0600", info.Mode().Perm())
	}
}

// TestBinaryCheckExplainsACME: sluice check, given the static options,
// says what each resolver will request (tls.domains, the entry point's
// http.tls.domains, the Host names) and why a name cannot be issued,
// without a CA.
func TestBinaryCheckExplainsACME(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), acmeRoutes(8080)+`---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: nope, namespace: e2e}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(`+"`nope.example`"+`)
    services: [{name: back, port: 80}]
  tls: {certResolver: nope}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: plain, namespace: e2e}
spec:
  entryPoints: [secure2]
  routes:
  - match: Host(`+"`x.ep.example`"+`)
    services: [{name: back, port: 80}]
`)
	out, err := exec.Command(binary(t), "check", dir, "--entryPoints.web.address=:80", "--entryPoints.websecure.address=:443",
		"--certificatesResolvers.le.acme.httpChallenge.entryPoint=web", "--certificatesResolvers.alpn.acme.tlsChallenge=true",
		"--certificatesResolvers.dns.acme.dnsChallenge.provider=exec", "--certificatesResolvers.bad.acme.httpChallenge.entryPoint=http",
		"--entryPoints.secure2.address=:8443", "--entryPoints.secure2.http.tls.certResolver=dns",
		"--entryPoints.secure2.http.tls.domains[0].main=ep.example", "--entryPoints.secure2.http.tls.domains[0].sans=*.ep.example,www.ep.example").CombinedOutput()
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	for _, want := range []string{
		"resolver le will request [http01.example]",
		"resolver alpn will request [alpn.example www.alpn.example]",
		"resolver dns will request [dns.example *.dns.example]",
		"warning: router e2e-wild-", "resolver le cannot issue [*.wild.example]: *.wild.example is a wildcard: only dnsChallenge can validate it",
		`certificate resolver "nope" is not configured`,
		`warning: ACME resolver bad: httpChallenge.entryPoint "http" is not an entry point`,
		"resolver dns will request [ep.example *.ep.example www.ep.example]", // the entry point's http.tls.domains
		"TLSStore default (defaultGeneratedCert): resolver le will request [default.example] as the default certificate",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("check lacks %q:\n%s", want, out)
		}
	}
}
