package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
