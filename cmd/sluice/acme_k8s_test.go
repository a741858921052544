package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// serviceAccountFlags bind Sluice to the API server as the ServiceAccount
// sluice/sluice with deploy/rbac.yaml and the extra files given (the
// roles of deploy/), as Traefik's endpoint/token/certAuthFilePath.
func serviceAccountFlags(t *testing.T, extra ...string) []string {
	t.Helper()
	kc, c := k8s(t)
	ctx := context.Background()
	must(t, c.Apply(ctx, "apiVersion: v1\nkind: Namespace\nmetadata: {name: sluice}\n", false))
	for _, f := range append([]string{"../../deploy/rbac.yaml"}, extra...) {
		data, err := os.ReadFile(f)
		must(t, err)
		must(t, c.Apply(ctx, string(data), false))
	}
	cs, err := kubernetes.NewForConfig(kc.Config)
	must(t, err)
	tok, err := cs.CoreV1().ServiceAccounts("sluice").CreateToken(ctx, "sluice", &authv1.TokenRequest{}, metav1.CreateOptions{})
	must(t, err)
	tokenFile := filepath.Join(t.TempDir(), "token")
	write(t, tokenFile, tok.Status.Token+"\n")
	return []string{"--providers.kubernetesCRD", "--providers.kubernetesCRD.endpoint=" + kc.APIServer(),
		"--providers.kubernetesCRD.token=" + tokenFile, "--providers.kubernetesCRD.certAuthFilePath=" + kc.Config.TLSClientConfig.CAFile}
}

// TestK8sACMESharedStorage: two replicas share a resolver whose storage is
// a Secret, under the ServiceAccount with deploy/rbac.yaml and
// deploy/acme/rbac.yaml only. The replica holding the Lease orders (once);
// the CA validates HTTP-01 at the other replica, which answers from the
// challenge shared in the Secret; both serve the certificate; when the
// orderer stops, the other takes the Lease over and keeps serving.
func TestK8sACMESharedStorage(t *testing.T) {
	_, c := k8s(t)
	pe := startPebble(t)
	kube := serviceAccountFlags(t, "../../deploy/acme/rbac.yaml")
	ctx := context.Background()
	ns, secret := randName("acme-"), randName("acme-")
	h := testHost(t, "shared")
	must(t, c.Apply(ctx, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n", false))
	must(t, c.Apply(ctx, kubeService(ns, "shared", h.Addr(0)), false))
	replica := func(web string) (*sluiceProc, string) {
		secure := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		args := append(kube, "--providers.kubernetesCRD.namespaces="+ns,
			"--entryPoints.websecure.address="+secure, "--entryPoints.websecure.http.tls=true")
		for _, kv := range []string{"email=ops@example.com", "caServer=" + pe.dir, "caCertificates=" + pe.caCert,
			"storage=kubernetes:sluice/" + secret, "keyType=EC256", "eab.kid=" + eabKid, "eab.hmacEncoded=" + eabHMAC,
			"httpChallenge.entryPoint=web", "certificatesDuration=1"} {
			args = append(args, "--certificatesResolvers.le.acme."+kv)
		}
		return runSluice(t, web, 60*time.Second, args...), secure
	}
	a, secureA := replica(fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	waitLog(t, a, 30*time.Second, "holds the Lease and orders certificates")
	b, secureB := replica(fmt.Sprintf("127.0.0.1:%d", pe.httpPort)) // where the CA validates HTTP-01
	waitLog(t, b, 30*time.Second, "routing table published")
	must(t, c.Apply(ctx, strings.Replace(ingressRoute(ns, "shared", "Host(`shared.example`)", "shared"),
		"entryPoints: [web]", "entryPoints: [websecure]", 1)+"  tls: {certResolver: le}\n", false))
	certA := waitServed(t, a, secureA, "shared.example", anyCert)
	if certB := waitServed(t, b, secureB, "shared.example", anyCert); !certB.Equal(certA) {
		t.Fatal("the replicas serve different certificates")
	}
	if code, body, _, _, err := tlsGet(secureB, "shared.example", "shared.example", "/x", true, nil); code != 200 || body != "shared /x" {
		t.Fatalf("through the second replica over HTTP/2: %d %q %v", code, body, err)
	}
	if na, nb := strings.Count(a.log(), "ordering a certificate"), strings.Count(b.log(), "ordering a certificate"); na != 1 || nb != 0 {
		t.Fatalf("orders: %d by the Lease holder, %d by the other; logs:\n%s\n---\n%s", na, nb, a.log(), b.log())
	}
	if strings.Contains(b.log(), "holds the Lease") {
		t.Fatalf("both replicas held the Lease:\n%s", b.log())
	}
	// The orderer stops: the other takes the Lease (released on shutdown)
	// and keeps serving what the Secret holds.
	a.stop()
	took := time.Now()
	waitLog(t, b, 30*time.Second, "holds the Lease and orders certificates")
	if time.Since(took) > 5*time.Second {
		t.Errorf("the Lease was taken over after %v: the stopped replica did not release it", time.Since(took))
	}
	if c := acmeServed(secureB, "shared.example"); c == nil || !c.Equal(certA) {
		t.Fatal("the remaining replica lost the certificate")
	}
	time.Sleep(300 * time.Millisecond)
	if strings.Contains(b.log(), "ordering a certificate") || strings.Contains(b.log(), "renewing a certificate") {
		t.Fatalf("the new Lease holder ordered or renewed again what the Secret holds (not due):\n%s", b.log())
	}
}
