package main

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecurityDefaults states Sluice's defaults (issue 25): cross-namespace
// references, ExternalName services, ping, metrics, the API and pprof all
// off unless configured.
func TestSecurityDefaults(t *testing.T) {
	cfg, err := parseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AllowCrossNamespace || cfg.AllowExternalNameServices || cfg.Ping || cfg.Metrics != nil || cfg.API != nil ||
		cfg.PprofAddress != "" || cfg.AccessLog != nil || cfg.Tracing != nil {
		t.Errorf("defaults: crossNamespace=%v externalName=%v ping=%v metrics=%v api=%v pprof=%q accessLog=%v tracing=%v",
			cfg.AllowCrossNamespace, cfg.AllowExternalNameServices, cfg.Ping, cfg.Metrics != nil, cfg.API != nil,
			cfg.PprofAddress, cfg.AccessLog != nil, cfg.Tracing != nil)
	}
}

// TestBinaryNoSecretsOut: with metrics and the API on (not insecure), none
// of the internal pages is reachable on the public entry point; with the
// API on its own entry point, no private key, password hash, Secret value
// or client credential appears in any API answer, in sluice check's
// output, or in the debug log, after requests with right and wrong
// credentials (issue 25).
func TestBinaryNoSecretsOut(t *testing.T) {
	ca := newTestCA(t, "sec CA")
	crt, key := ca.issue(t, "sec.example", "sec.example")
	hash := "$2y$05$ih3C91zUBSTFcAh2mQnZYuob0UOZVEf16wl/ukgjDhjvj.xgM1WwS" // bcrypt of hello3
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	port := namedBackend(t, "127.0.0.1", "b")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "r.yaml"), manifests("b", port, "127.0.0.1")+"---\n"+tlsSecret("sec-cert", crt, key)+
		"apiVersion: v1\nkind: Secret\nmetadata: {name: users, namespace: e2e}\ndata: {users: "+b64("test3:"+hash+"\n")+"}\n---\n"+
		"apiVersion: v1\nkind: Secret\nmetadata: {name: one, namespace: e2e}\ntype: kubernetes.io/basic-auth\ndata: {username: "+b64("admin")+", password: "+b64("s3cret-value")+"}\n---\n"+
		mwObject("basic", "{basicAuth: {secret: users}}")+mwObject("basic2", "{basicAuth: {secret: one}}")+
		`apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: sec, namespace: e2e}
spec:
  routes:
  - {match: "Host(`+"`sec.example`"+`)", middlewares: [{name: basic}], services: [{name: b, port: 80}]}
  - {match: "Host(`+"`sec2.example`"+`)", middlewares: [{name: basic2}], services: [{name: b, port: 80}]}
  tls: {secretName: sec-cert}
`)
	traefikEP := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startSluice(t, dir, "--metrics.prometheus", "--api", "--api.dashboard", "--entryPoints.traefik.address="+traefikEP)
	eventually(t, p.addr, "none.example", "/", 404, "")
	for _, path := range []string{"/metrics", "/api/overview", "/api/rawdata", "/dashboard/", "/debug/pprof/", "/ping"} {
		if st, _ := get(t, p.addr, "sec.example", path); st == 200 {
			t.Errorf("%s answered 200 on the public entry point", path)
		}
	}
	// Credentials sent, right and wrong, over TLS.
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for _, c := range []struct{ host, user, pw string }{{"sec.example", "test3", "hello3"}, {"sec.example", "test3", "wrong-pw"},
		{"sec2.example", "admin", "s3cret-value"}, {"sec2.example", "admin", "bad-pw"}} {
		req, _ := http.NewRequest("GET", "https://"+p.addr+"/", nil)
		req.Host = c.host
		req.SetBasicAuth(c.user, c.pw)
		if resp, err := cl.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	// The API on its own entry point (insecure), then everything it says.
	q := startSluice(t, dir, "--api.insecure", "--entryPoints.traefik.address="+fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	var out strings.Builder
	apiAddr := traefikAddr(t, q)
	for _, path := range []string{"/api/rawdata", "/api/http/middlewares", "/api/http/routers", "/api/sluice/diagnostics", "/api/overview"} {
		_, body := get(t, apiAddr, "x", path)
		out.WriteString(body)
	}
	if !strings.Contains(out.String(), "sec.example") || !strings.Contains(out.String(), "basicAuth") {
		t.Fatalf("the API said nothing of the routers and middlewares: %.500s", out.String())
	}
	check, _ := exec.Command(binary(t), "check", dir).CombinedOutput()
	out.Write(check)
	out.WriteString(p.log())
	out.WriteString(q.log())
	keyBody := strings.Split(strings.TrimSpace(string(key)), "\n")[1] // a line of the key's base64
	for _, secret := range []string{"PRIVATE KEY", keyBody, b64(string(key))[:40], hash, b64("test3:" + hash + "\n")[:40],
		"s3cret-value", b64("s3cret-value"), "hello3", "wrong-pw", "bad-pw", b64("test3:hello3"), b64("admin:s3cret-value")} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("%q appears in the API, check or the logs", secret)
		}
	}
}

// traefikAddr is the address q logged for its traefik entry point.
func traefikAddr(t *testing.T, q *sluiceProc) string {
	for _, l := range strings.Split(q.log(), "\n") {
		if strings.Contains(l, "entry point listening") && strings.Contains(l, "entryPoint=traefik") {
			if _, a, ok := strings.Cut(l, "address="); ok {
				return strings.Fields(a)[0]
			}
		}
	}
	t.Fatalf("no traefik entry point in:\n%s", q.log())
	return ""
}
