package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/watch/kubetest"
)

// TestK8sSoak is the soak (soak_e2e_test.go) with Sluice reading a real
// kube-apiserver instead of manifests: the same load, while on a 30 s
// cycle an IngressRoute is deleted and created again, a Service's
// EndpointSlice moves between two backends, a backend is killed and
// restarted, one stalls, the TLS Secret rotates, and the API server itself
// is stopped for 10 s and started again. While it is away every route
// must keep serving (no fault window covers the outage); once it is back,
// a new IngressRoute must be served, and the time it took is reported.
// Backends run on a test host: the API server refuses loopback addresses
// in EndpointSlices. Needs SLUICE_K8S=1 and SLUICE_SOAK (make soak-short:
// 1m; make soak: 10m).
func TestK8sSoak(t *testing.T) {
	d := soakDuration(t)
	kc, c := k8s(t)
	ctx := context.Background()
	ns := randName("soak-")
	inNS := strings.NewReplacer("namespace: e2e", "namespace: "+ns)
	h, err := kubetest.NewHost(6)
	must(t, err)
	t.Cleanup(h.Close)
	back := func(i int, name string) *soakBackend {
		ln, err := h.Listen(h.Addr(i) + ":8080")
		must(t, err)
		return serveSoakBackend(t, ln, name)
	}
	back(0, "s1")
	back(1, "s2")
	back(2, "c1")
	back(3, "c2")
	var kmu sync.Mutex
	k1 := back(4, "k1")
	st := back(5, "st")
	apply := func(c *kubetest.Client, yaml string) error { return c.Apply(ctx, inNS.Replace(yaml), false) }
	churn := func(c *kubetest.Client, i int) error {
		return apply(c, kubeServiceAt("churn", h.Addr(2+i%2)))
	}
	ca := newTestCA(t, "soak CA")
	secret := func(c *kubetest.Client) error {
		crt, key := ca.issue(t, "tls.soak", "tls.soak")
		return apply(c, tlsSecret("soak-cert", crt, key))
	}
	must(t, c.Apply(ctx, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n", false))
	must(t, apply(c, kubeServiceAt("stable", h.Addr(0), h.Addr(1))+"---\n"+kubeServiceAt("kill", h.Addr(4))+"---\n"+
		kubeServiceAt("stall", h.Addr(5))+"---\n"+soakRoutes+"---\n"+soakExtra))
	must(t, churn(c, 0))
	must(t, secret(c))

	probe := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := runSluice(t, fmt.Sprintf("127.0.0.1:%d", freePort(t)), 30*time.Second, "--providers.kubernetesCRD",
		"--kubeconfig="+kc.Kubeconfig, "--providers.kubernetesCRD.namespaces="+ns, "--entryPoints.probe.address="+probe,
		"--metrics.prometheus", "--metrics.prometheus.entryPoint=probe", "--log.level=warn")
	eventuallyWithin(t, 30*time.Second, p.addr, "extra.soak", "/", 200, "")
	var target soakTarget
	target.set(p.addr)
	var extraPresent presence
	extraPresent.setBool(true)

	log := &soakLog{}
	runCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	began := time.Now()
	var wg sync.WaitGroup
	runLoad(runCtx, &wg, log, &target, &extraPresent)
	var samples []soakSample
	sample := func() {
		s := readSample(t, p, probe, time.Since(began))
		if n := len(samples); n == 0 || samples[n-1].at != s.at {
			samples = append(samples, s)
		}
	}
	var resyncs []string
	window := func(fault string, from time.Time, kinds ...string) {
		log.window(fault, from.Add(-time.Second), time.Now().Add(5*time.Second), kinds...)
	}
	for cycle := 0; runCtx.Err() == nil; cycle++ {
		at := func(off time.Duration) bool { // waits until off into the cycle
			select {
			case <-runCtx.Done():
				return false
			case <-time.After(time.Until(began.Add(time.Duration(cycle)*30*time.Second + off))):
				return true
			}
		}
		if !at(time.Second) {
			break
		}
		sample()
		from := time.Now()
		extraPresent.setBool(false) // a route deleted ...
		must(t, c.Delete(ctx, inNS.Replace(soakExtra)))
		window("route deleted", from, kindExtra)
		if !at(3 * time.Second) {
			break
		}
		must(t, churn(c, cycle+1)) // endpoints move: no failure may follow
		if !at(5 * time.Second) {
			break
		}
		kmu.Lock()
		down := time.Now()
		k1.srv.Close() // a backend killed ...
		if !at(8 * time.Second) {
			kmu.Unlock()
			break
		}
		k1 = back(4, "k1") // ... and restarted
		kmu.Unlock()
		log.window("backend killed", down.Add(-100*time.Millisecond), time.Now().Add(3*time.Second), kindKill)
		if !at(9 * time.Second) {
			break
		}
		st.stall.Store(true) // slow answers for 4 s, never failed
		if !at(11 * time.Second) {
			break
		}
		from = time.Now()
		must(t, apply(c, soakExtra)) // ... and created again
		extraPresent.setBool(true)
		window("route created", from, kindExtra)
		if !at(13 * time.Second) {
			break
		}
		st.stall.Store(false)
		must(t, secret(c)) // the certificate rotates: no failure may follow
		if !at(15 * time.Second) {
			break
		}
		// The API server goes away for 10 s: nothing may fail meanwhile.
		sample()
		kc.StopAPIServer()
		at(25 * time.Second)
		must(t, kc.StartAPIServer())
		if c, err = kc.Client(); err != nil {
			t.Fatal(err)
		}
		resyncs = append(resyncs, resync(t, c, apply, p, cycle))
		sample()
	}
	sample()
	wg.Wait()
	figures := log.report(t) + "\n" + sampleTable(samples) + "\nafter each API server restart, a new IngressRoute served in: " +
		strings.Join(resyncs, ", ") + "\n"
	flat(t, samples)
	t.Logf("soak against the API server, %v:\n%s", d, figures)
	if out := os.Getenv("SLUICE_SOAK_OUT"); out != "" {
		os.WriteFile(out, []byte(figures), 0o644)
	}
}

// resync creates an IngressRoute once the API server is back and returns
// how long Sluice took to serve it: its prober restarts the watches once
// the API server answers (client-go's own backoff would wait up to a
// minute); the bound is 90 s, what the backoff alone could take.
func resync(t *testing.T, c *kubetest.Client, apply func(*kubetest.Client, string) error, p *sluiceProc, cycle int) string {
	t.Helper()
	host := fmt.Sprintf("resync%d.soak", cycle)
	start := time.Now()
	must(t, apply(c, fmt.Sprintf("apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: resync%d, namespace: e2e}\n"+
		"spec:\n  routes:\n  - {match: \"Host(`%s`)\", services: [{name: stable, port: 80}]}\n", cycle, host)))
	for deadline := start.Add(90 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if soakGet(http.DefaultClient, "GET", "http://"+p.addr+"/", host, nil, []string{"s1", "s2"}, "") == "" {
			return time.Since(start).Round(10 * time.Millisecond).String()
		}
		if time.Now().After(deadline) {
			logs := strings.Split(p.log(), "\n")
			t.Fatalf("a route created after the API server came back was not served within 90 s; Sluice's last log lines:\n%s",
				strings.Join(logs[max(0, len(logs)-30):], "\n"))
		}
	}
}

// kubeServiceAt is Service e2e/name (port 80) and its EndpointSlice: the
// ready endpoints ips, port 8080.
func kubeServiceAt(name string, ips ...string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: e2e}
spec: {ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: %[1]s-1, namespace: e2e, labels: {kubernetes.io/service-name: %[1]s}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: ["%[2]s"]}]
`, name, strings.Join(ips, `"]}, {addresses: ["`))
}
