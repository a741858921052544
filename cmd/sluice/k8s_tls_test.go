package main

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestK8sTLS: the Kubernetes provider serves a TLS router with the
// certificate of its Secret and a TLSOption from the API server; a
// Secret update reaches the next handshake within a second while an open
// connection keeps serving; a Secret replaced by one without a usable key
// is reported naming it, and its host falls back to the default
// certificate.
func TestK8sTLS(t *testing.T) {
	kc, c := k8s(t)
	ctx := context.Background()
	ns := randName("tls-")
	h := testHost(t, "alpha")
	ca := newTestCA(t, "k8s CA")
	crt, key := ca.issue(t, "a.example", "a.example")
	must(t, c.Apply(ctx, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n", false))
	must(t, c.Apply(ctx, kubeService(ns, "alpha", h.Addr(0)), false))
	secret := func(crt, key []byte) string { return tlsSecretIn(ns, "a-cert", crt, key) }
	must(t, c.Apply(ctx, secret(crt, key), false))
	must(t, c.Apply(ctx, fmt.Sprintf(`apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata: {name: modern, namespace: %[1]s}
spec: {minVersion: VersionTLS13}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: a, namespace: %[1]s}
spec:
  entryPoints: [web]
  routes: [{match: Host(`+"`a.example`"+`), services: [{name: alpha, port: 80}]}]
  tls: {secretName: a-cert, options: {name: modern}}
`, ns), false))
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := runSluice(t, addr, 60*time.Second, "--providers.kubernetesCRD", "--kubeconfig="+kc.Kubeconfig,
		"--providers.kubernetesCRD.namespaces="+ns)
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, body, _, cn, err := tlsGet(addr, "a.example", "a.example", "/x", true, nil)
		if err == nil && st == 200 && body == "alpha /x" && cn == "a.example" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("TLS router from the API server: %d %q cert %q %v\n%s", st, body, cn, err, p.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	old, err := tlsDial(addr, "a.example")
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	crt2, key2 := ca.issue(t, "a.example renewed", "a.example")
	must(t, c.Apply(ctx, secret(crt2, key2), false))
	waitCert(t, addr, "a.example", "a.example renewed")
	if st, body, _, err := httpOver(old, "a.example", "/y", false); err != nil || st != 200 || body != "alpha /y" {
		t.Fatalf("the connection opened before the update: %d %q %v", st, body, err)
	}
	must(t, c.Apply(ctx, secret(crt2, []byte("-----BEGIN EC PRIVATE KEY-----\nbm90IGEga2V5\n-----END EC PRIVATE KEY-----\n")), false))
	waitCert(t, addr, "a.example", "TRAEFIK DEFAULT CERT")
	waitLog(t, p, 2*time.Second, "IngressRoute "+ns+"/a", "secret "+ns+"/a-cert")
}
