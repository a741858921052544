package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBinaryTLSRealClients: curl (HTTP/1.1 and HTTP/2, --resolve, a
// client certificate) and openssl s_client (SNI, ALPN, versions) against
// the binary's TLS routers.
func TestBinaryTLSRealClients(t *testing.T) {
	curl, openssl := tool(t, "curl", "curl"), tool(t, "openssl", "openssl")
	f := newTLSFixture(t)
	_, port, _ := strings.Cut(f.p.addr, ":")
	dir := t.TempDir()
	crt, key := f.client.issue(t, "curl client")
	write(t, filepath.Join(dir, "c.crt"), string(crt))
	write(t, filepath.Join(dir, "c.key"), string(key))
	run := func(bin string, stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	resolve := func(host string) []string {
		return []string{"-sk", "--max-time", "10", "--resolve", host + ":" + port + ":127.0.0.1", "-w", " http=%{http_version} code=%{http_code}"}
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"curl HTTP/2", append(resolve("a.example"), "--http2", "https://a.example:"+port+"/c2"), []string{"main GET /c2", "xfproto=https", "http=2 code=200"}},
		{"curl HTTP/1.1", append(resolve("a.example"), "--http1.1", "https://a.example:"+port+"/c1"), []string{"main GET /c1", "http=1.1 code=200"}},
		{"curl wildcard", append(resolve("x.w.example"), "https://x.w.example:"+port+"/"), []string{"code=200"}},
		{"curl client certificate", append(resolve("m.example"), "--cert", filepath.Join(dir, "c.crt"), "--key", filepath.Join(dir, "c.key"),
			"https://m.example:"+port+"/m"), []string{"main GET /m", "code=200"}},
		{"curl without the client certificate", append(resolve("m.example"), "https://m.example:"+port+"/m"), []string{"code=000"}},
	} {
		if out := run(curl, "", tc.args...); !containsAll(out, tc.want) {
			t.Errorf("%s: %s\nwant %q", tc.name, out, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"SNI exact, ALPN h2", []string{"-servername", "a.example", "-alpn", "h2,http/1.1"}, []string{"CN = a.example", "ALPN protocol: h2"}},
		{"SNI wildcard", []string{"-servername", "x.w.example"}, []string{"CN = wild"}},
		{"no SNI: the default certificate", []string{"-noservername"}, []string{"CN = default.example"}},
		{"TLS 1.3", []string{"-servername", "a.example", "-tls1_3"}, []string{"TLSv1.3"}},
		{"TLS 1.2", []string{"-servername", "a.example", "-tls1_2"}, []string{"TLSv1.2"}},
		{"TLS 1.1 refused (minVersion 1.2)", []string{"-servername", "a.example", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"}, []string{"alert"}},
	} {
		args := append([]string{"s_client", "-connect", f.p.addr}, tc.args...)
		if out := run(openssl, "", args...); !containsAll(out, tc.want) {
			t.Errorf("openssl %s: %s\nwant %q", tc.name, out, tc.want)
		}
	}
}

func containsAll(s string, subs []string) bool {
	for _, w := range subs {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// TestBinaryTestSSL runs testssl.sh against a TLS router with Traefik's
// default TLS option and a certificate a client would accept (a CA
// testssl is given, the name asked for, a CRL address, a year to run):
// no HIGH or CRITICAL finding. What it reports below that is logged.
func TestBinaryTestSSL(t *testing.T) {
	testssl := tool(t, "testssl", "testssl.sh")
	port := seenBackend(t, "127.0.0.2", "main", nil)
	ca := newTestCA(t, "testssl CA")
	crt, key := ca.issueFor(t, 365*24*time.Hour, "ssl.example", "ssl.example")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("main", port, "127.0.0.2")+"---\n"+tlsSecret("ssl", crt, key)+`apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: ssl, namespace: e2e}
spec:
  routes: [{match: Host(`+"`ssl.example`"+`), services: [{name: main, port: 80}]}]
  tls: {secretName: ssl}
`)
	p := startSluice(t, dir)
	eventually(t, p.addr, "ignored.example", "/", 404, "")
	caFile, report := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "testssl.json")
	write(t, caFile, string(ca.pem))
	_, prt, _ := strings.Cut(p.addr, ":")
	cmd := exec.Command(testssl, "--quiet", "--color", "0", "--add-ca", caFile, "--ip", "127.0.0.1",
		"--jsonfile-pretty", report, "ssl.example:"+prt)
	out, _ := cmd.CombinedOutput()
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("testssl wrote no report: %v\n%s", err, tail(string(out), 30))
	}
	var r struct {
		ScanResult []map[string]json.RawMessage `json:"scanResult"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sr := range r.ScanResult {
		for _, raw := range sr {
			var findings []struct{ ID, Severity, Finding string }
			if json.Unmarshal(raw, &findings) != nil {
				continue
			}
			for _, f := range findings {
				n++
				switch f.Severity {
				case "HIGH", "CRITICAL":
					t.Errorf("testssl %s %s: %s", f.Severity, f.ID, f.Finding)
				case "LOW", "MEDIUM", "WARN":
					t.Logf("testssl %s %s: %s", f.Severity, f.ID, f.Finding)
				}
			}
		}
	}
	if n < 50 {
		t.Fatalf("testssl reported %d findings; the scan did not run:\n%s", n, tail(string(out), 30))
	}
}
