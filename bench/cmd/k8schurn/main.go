// Command k8schurn measures Sluice's control plane against a real
// kube-apiserver (watch/kubetest; needs root for the test host):
//
//   - change-to-serve: the time from an IngressRoute update being accepted
//     by the API server to the new rule answering through Sluice, with N
//     IngressRoutes in the cluster (median, p90, max over -changes updates);
//
//   - churn: Sluice's CPU (user+system seconds per wall second) and peak RSS
//     while IngressRoutes are updated at -rate per second for -churn.
//
//     go run ./bench/cmd/k8schurn -sluice bin/sluice -routes 10,1000,10000
//
// Every process it starts (etcd, kube-apiserver, Sluice) is stopped at the
// end; traffic goes to loopback and to one network namespace it creates.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sluiceproxy/sluice/watch/kubetest"
)

var irGVR = schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: "ingressroutes"}

func main() {
	bin := flag.String("sluice", "bin/sluice", "sluice binary")
	routes := flag.String("routes", "10,1000,10000", "IngressRoute counts")
	changes := flag.Int("changes", 30, "timed updates per count")
	churn := flag.Duration("churn", 30*time.Second, "churn duration per count (0: skip)")
	rate := flag.Int("rate", 20, "updates per second during churn")
	flag.Parse()
	if err := run(*bin, *routes, *changes, *churn, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "k8schurn:", err)
		os.Exit(1)
	}
}

func run(bin, routes string, changes int, churn time.Duration, rate int) error {
	cl, err := kubetest.Start()
	if err != nil {
		return err
	}
	defer cl.Stop()
	c, err := cl.Client()
	if err != nil {
		return err
	}
	ctx := context.Background()
	files, _ := filepath.Glob("deploy/crds/*.yaml")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if err := c.Apply(ctx, string(data), false); err != nil {
			return err
		}
	}
	if err := c.WaitEstablished(ctx, "ingressroutes.traefik.io"); err != nil {
		return err
	}
	host, err := kubetest.NewHost(1)
	if err != nil {
		return err
	}
	defer host.Close()
	ln, err := host.Listen(host.Addr(0) + ":8080")
	if err != nil {
		return err
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	fmt.Printf("| IngressRoutes | change-to-serve median | p90 | max | churn rate | Sluice CPU (s/s) | peak RSS |\n|---|---|---|---|---|---|---|\n")
	for _, s := range strings.Split(routes, ",") {
		n, _ := strconv.Atoi(s)
		if err := measure(ctx, cl, c, host, bin, n, changes, churn, rate); err != nil {
			return err
		}
	}
	return nil
}

func measure(ctx context.Context, cl *kubetest.Cluster, c *kubetest.Client, host *kubetest.Host, bin string, n, changes int, churn time.Duration, rate int) error {
	ns := fmt.Sprintf("churn-%d-%d", n, time.Now().Unix())
	if err := c.Apply(ctx, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n", false); err != nil {
		return err
	}
	svc := fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: svc, namespace: %[1]s}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: svc-1, namespace: %[1]s, labels: {kubernetes.io/service-name: svc}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [%[2]q]}]
`, ns, host.Addr(0))
	if err := c.Apply(ctx, svc, false); err != nil {
		return err
	}
	if err := createRoutes(ctx, c, ns, n); err != nil {
		return err
	}
	p, err := startSluice(bin, cl.Kubeconfig, ns)
	if err != nil {
		return err
	}
	defer p.stop()
	var lat []time.Duration
	for k := 0; k < changes; k++ {
		d, err := changeToServe(ctx, c, p, ns, k%n, fmt.Sprintf("t%d", k))
		if err != nil {
			return err
		}
		lat = append(lat, d)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	cpu, rss := "-", "-"
	if churn > 0 {
		c0 := p.cpu()
		start := time.Now()
		churnRoutes(ctx, c, ns, n, churn, rate)
		cpu = fmt.Sprintf("%.3f", (p.cpu()-c0)/time.Since(start).Seconds())
		rss = fmt.Sprintf("%.0f MiB", float64(p.peakRSS())/1024)
	}
	fmt.Printf("| %d | %v | %v | %v | %d/s for %v | %s | %s |\n", n, ms(lat[len(lat)/2]), ms(lat[len(lat)*9/10]), ms(lat[len(lat)-1]), rate, churn, cpu, rss)
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func route(ns string, i int, tag string) string {
	return fmt.Sprintf(`{"apiVersion":"traefik.io/v1alpha1","kind":"IngressRoute","metadata":{"name":"r%[2]d","namespace":%[1]q},`+
		`"spec":{"entryPoints":["web"],"routes":[{"match":"Host(`+"`h%[2]d-%[3]s.test`"+`)","services":[{"name":"svc","port":80}]}]}}`, ns, i, tag)
}

func createRoutes(ctx context.Context, c *kubetest.Client, ns string, n int) error {
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	next := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := c.Apply(ctx, route(ns, i, "v0"), false); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// changeToServe updates route i to a new host and times until it serves.
func changeToServe(ctx context.Context, c *kubetest.Client, p *proc, ns string, i int, tag string) (time.Duration, error) {
	patch := fmt.Sprintf(`{"spec":{"routes":[{"match":"Host(`+"`h%d-%s.test`"+`)","services":[{"name":"svc","port":80}]}]}}`, i, tag)
	if err := c.Patch(ctx, irGVR, ns, fmt.Sprintf("r%d", i), patch); err != nil {
		return 0, err
	}
	start := time.Now()
	host := fmt.Sprintf("h%d-%s.test", i, tag)
	for time.Since(start) < 30*time.Second {
		req, _ := http.NewRequest("GET", "http://"+p.addr+"/", nil)
		req.Host = host
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(start), nil
			}
		}
		time.Sleep(500 * time.Microsecond)
	}
	return 0, fmt.Errorf("route %s not served after 30s", host)
}

func churnRoutes(ctx context.Context, c *kubetest.Client, ns string, n int, d time.Duration, rate int) {
	t := time.NewTicker(time.Second / time.Duration(rate))
	defer t.Stop()
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for k := 0; time.Now().Before(end); k++ {
		<-t.C
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			patch := fmt.Sprintf(`{"spec":{"routes":[{"match":"Host(`+"`h%d-c%d.test`"+`)","services":[{"name":"svc","port":80}]}]}}`, k%n, k)
			_ = c.Patch(ctx, irGVR, ns, fmt.Sprintf("r%d", k%n), patch)
		}()
	}
	wg.Wait()
}

type proc struct {
	cmd  *exec.Cmd
	addr string
}

func startSluice(bin, kubeconfig, ns string) (*proc, error) {
	addr, ping := "127.0.0.1:18931", "127.0.0.1:18932"
	cmd := exec.Command(bin, "--entryPoints.web.address="+addr, "--ping", "--entryPoints.traefik.address="+ping,
		"--providers.kubernetesCRD", "--kubeconfig="+kubeconfig, "--providers.kubernetesCRD.namespaces="+ns, "--log.level=warn")
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, addr: addr}
	for start := time.Now(); time.Since(start) < 120*time.Second; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + ping + "/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p, nil
			}
		}
	}
	p.stop()
	return nil, fmt.Errorf("sluice not ready after 120s")
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	_ = p.cmd.Wait()
}

// cpu is the process's user+system CPU seconds (/proc/PID/stat, in ticks).
func (p *proc) cpu() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}

// peakRSS is VmHWM in KiB.
func (p *proc) peakRSS() int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			v, _ := strconv.Atoi(strings.Fields(l)[1])
			return v
		}
	}
	return 0
}
