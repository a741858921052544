package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/sluiceproxy/sluice/watch/kubetest"
)

var (
	clusterOnce sync.Once
	cluster     *kubetest.Cluster
	clusterErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		cluster.Stop()
	}
	os.Exit(code)
}

// k8s returns the shared real API server (with our CRDs installed) and a
// client, or skips unless SLUICE_K8S=1.
func k8s(t *testing.T) (*kubetest.Cluster, *kubetest.Client) {
	t.Helper()
	kubetest.Require(t)
	clusterOnce.Do(func() {
		cluster, clusterErr = kubetest.Start()
		if clusterErr != nil {
			return
		}
		var c *kubetest.Client
		if c, clusterErr = cluster.Client(); clusterErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, f := range crdFiles(t) {
			data, _ := os.ReadFile(f)
			if clusterErr = c.Apply(ctx, string(data), false); clusterErr != nil {
				return
			}
		}
		clusterErr = c.WaitEstablished(ctx, "ingressroutes.traefik.io", "middlewares.traefik.io", "traefikservices.traefik.io",
			"tlsoptions.traefik.io", "tlsstores.traefik.io", "serverstransports.traefik.io")
	})
	if clusterErr != nil {
		t.Fatal(clusterErr)
	}
	c, err := cluster.Client()
	if err != nil {
		t.Fatal(err)
	}
	return cluster, c
}

func crdFiles(t *testing.T) []string {
	files, _ := filepath.Glob("../../deploy/crds/*.yaml")
	if len(files) == 0 {
		t.Fatal("no CRDs in deploy/crds")
	}
	return files
}

func randName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// testHost starts named HTTP backends inside a network namespace, on
// non-loopback addresses the API server accepts in EndpointSlices.
func testHost(t *testing.T, names ...string) *kubetest.Host {
	t.Helper()
	h, err := kubetest.NewHost(len(names))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	for i, name := range names {
		serveOnHost(t, h, i, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s", name, r.URL.RequestURI())
		})
	}
	return h
}

// serveOnHost serves handler on the test host's i-th address, port 8080.
func serveOnHost(t *testing.T, h *kubetest.Host, i int, handler http.HandlerFunc) {
	t.Helper()
	ln, err := h.Listen(h.Addr(i) + ":8080")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

func kubeService(ns, name, ip string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[2]s-1
  namespace: %[1]s
  labels: {kubernetes.io/service-name: %[2]s}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
- addresses: [%[3]q]
  conditions: {ready: true}
`, ns, name, ip)
}

func ingressRoute(ns, name, match, svc string) string {
	return fmt.Sprintf(`apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: %s, namespace: %s}
spec:
  entryPoints: [web]
  routes:
  - match: %s
    services: [{name: %s, port: 80}]
`, name, ns, match, svc)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitLog waits up to d for the logs to contain every string.
func waitLog(t *testing.T, p *sluiceProc, d time.Duration, want ...string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		logs := p.log()
		missing := ""
		for _, w := range want {
			if !strings.Contains(logs, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("logs lack %q after %v:\n%s", missing, d, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestK8sRoutesFollowTheCluster runs the binary against a real
// kube-apiserver: objects applied with client-go are served through real
// sockets to backends on a test host; changes and deletions follow within
// a second, endpoint changes without a recompile; a bad object is
// reported and disables only itself; a stopped API server does not stop
// serving, and changes made after it returns are caught up.
func TestK8sRoutesFollowTheCluster(t *testing.T) {
	kc, c := k8s(t)
	ctx := context.Background()
	ns := randName("e2e-")
	h := testHost(t, "alpha", "beta")
	must(t, c.Apply(ctx, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n", false))
	must(t, c.Apply(ctx, kubeService(ns, "alpha", h.Addr(0)), false))
	must(t, c.Apply(ctx, ingressRoute(ns, "r1", "Host(`a.example`)", "alpha"), false))

	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	pingAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := runSluice(t, addr, 60*time.Second, "--providers.kubernetesCRD", "--kubeconfig="+kc.Kubeconfig,
		"--providers.kubernetesCRD.namespaces="+ns, "--ping", "--entryPoints.traefik.address="+pingAddr)
	eventually(t, pingAddr, "", "/ready", 200, "OK")
	eventually(t, addr, "a.example", "/x", 200, "alpha /x")

	// An EndpointSlice change swaps the server set in place.
	must(t, c.Apply(ctx, kubeService(ns, "alpha", h.Addr(1)), false))
	eventually(t, addr, "a.example", "/x", 200, "beta /x")
	waitLog(t, p, time.Second, "endpoints updated in place")

	// A changed rule is served within a second; the old one is gone.
	must(t, c.Apply(ctx, ingressRoute(ns, "r1", "Host(`b.example`)", "alpha"), false))
	eventually(t, addr, "b.example", "/", 200, "beta /")
	eventually(t, addr, "a.example", "/", 404, "404 page not found")

	// A bad IngressRoute is named in the logs and disables only itself.
	must(t, c.Apply(ctx, ingressRoute(ns, "bad", "Host(`c.example`", "alpha"), false))
	waitLog(t, p, 2*time.Second, "IngressRoute "+ns+"/bad", "spec.routes[0].match")
	eventually(t, addr, "b.example", "/", 200, "beta /")
	eventually(t, addr, "c.example", "/", 404, "404")
	// The test's user may create events, so the diagnostic is also an
	// Event on the object.
	waitEvent(t, c, ns, "bad", "spec.routes[0].match")

	// Deleting the IngressRoute removes its routes within a second.
	must(t, c.Delete(ctx, ingressRoute(ns, "r1", "", "")))
	eventually(t, addr, "b.example", "/", 404, "404")

	// The API server goes away: the last table keeps serving.
	must(t, c.Apply(ctx, ingressRoute(ns, "r2", "Host(`d.example`)", "alpha"), false))
	eventually(t, addr, "d.example", "/", 200, "beta /")
	kc.StopAPIServer()
	waitLog(t, p, 30*time.Second, "kubernetes watch failed")
	for i := 0; i < 20; i++ {
		eventually(t, addr, "d.example", "/", 200, "beta /")
		time.Sleep(50 * time.Millisecond)
	}
	// It comes back: Sluice's prober sees it within a second or two and
	// restarts the watches (rather than waiting out client-go's backoff,
	// up to a minute), so what changed after is served within seconds.
	must(t, kc.StartAPIServer())
	c2, err := kc.Client()
	must(t, err)
	must(t, c2.Apply(ctx, ingressRoute(ns, "r3", "Host(`e.example`)", "alpha"), false))
	waitLog(t, p, 10*time.Second, "restarting the watches")
	eventuallyWithin(t, 10*time.Second, addr, "e.example", "/", 200, "beta /")
	eventually(t, addr, "d.example", "/", 200, "beta /")
}

func waitEvent(t *testing.T, c *kubetest.Client, ns, object, want string) {
	t.Helper()
	events := c.Dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "events"}).Namespace(ns)
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := events.List(context.Background(), metav1.ListOptions{})
		must(t, err)
		for _, e := range list.Items {
			name, _, _ := unstructured.NestedString(e.Object, "involvedObject", "name")
			msg, _, _ := unstructured.NestedString(e.Object, "message")
			reason, _, _ := unstructured.NestedString(e.Object, "reason")
			if name == object && reason == "SluiceError" && strings.Contains(msg, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no SluiceError Event on %s/%s mentioning %q; events: %d", ns, object, want, len(list.Items))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestK8sDeployManifestsValidate applies every manifest of deploy/
// (the kustomization's resource list) with a server-side dry run.
func TestK8sDeployManifestsValidate(t *testing.T) {
	_, c := k8s(t)
	ctx := context.Background()
	data, err := os.ReadFile("../../deploy/kustomization.yaml")
	must(t, err)
	var k struct{ Resources []string }
	must(t, yaml.Unmarshal(data, &k))
	if len(k.Resources) < 6 {
		t.Fatalf("kustomization lists %d resources", len(k.Resources))
	}
	// Namespaced objects need their namespace to exist even in a dry run.
	must(t, c.Apply(ctx, "apiVersion: v1\nkind: Namespace\nmetadata: {name: sluice}\n", false))
	for _, r := range k.Resources {
		data, err := os.ReadFile(filepath.Join("../../deploy", r))
		must(t, err)
		if err := c.Apply(ctx, string(data), true); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
}

// TestK8sTraefikClusterRoleSuffices runs the binary as a ServiceAccount
// bound to deploy/rbac.yaml (exactly Traefik's chart ClusterRole),
// connecting with endpoint/token/certAuthFilePath: it syncs, serves, and
// leaves Events off since the role cannot create them.
func TestK8sTraefikClusterRoleSuffices(t *testing.T) {
	_, c := k8s(t)
	ctx := context.Background()
	kube := serviceAccountFlags(t)
	ns := randName("rbac-")
	h := testHost(t, "gamma")
	must(t, c.Apply(ctx, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n", false))
	must(t, c.Apply(ctx, kubeService(ns, "gamma", h.Addr(0)), false))
	must(t, c.Apply(ctx, ingressRoute(ns, "g", "Host(`g.example`)", "gamma"), false))
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := runSluice(t, addr, 60*time.Second, kube...)
	eventually(t, addr, "g.example", "/", 200, "gamma /")
	waitLog(t, p, time.Second, "Events for diagnostics are off")
	if strings.Contains(p.log(), "forbidden") {
		t.Errorf("a watch was forbidden under Traefik's ClusterRole:\n%s", p.log())
	}
}
