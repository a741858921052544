package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown: on SIGTERM /ping turns 503, the entry points keep
// accepting for requestAcceptGraceTimeout, requests in flight finish
// (HTTP/1.1 ones, and streams of an h2c connection), and the process
// exits 0. No accepted request fails.
func TestGracefulShutdown(t *testing.T) {
	var inFlight atomic.Int32
	slowPort := namedBackendFunc(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			inFlight.Add(1)
			time.Sleep(1500 * time.Millisecond)
		case "/slower": // outlasts the HTTP/1.1 requests
			inFlight.Add(1)
			time.Sleep(2500 * time.Millisecond)
		}
		fmt.Fprintf(w, "done %s", r.URL.Path)
	})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("slow", slowPort, "127.0.0.2")+`---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  entryPoints: [web]
  routes:
  - match: Host(`+"`s.example`"+`)
    services: [{name: slow, port: 80}]
`)
	ping := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startSluice(t, dir, "--ping", "--entryPoints.traefik.address="+ping,
		"--entryPoints.web.transport.lifeCycle.requestAcceptGraceTimeout=1s",
		"--entryPoints.traefik.transport.lifeCycle.requestAcceptGraceTimeout=1s")
	eventually(t, ping, "", "/ready", 200, "OK")
	// Traefik's ping: PathPrefix(/ping), 200 with the body "OK".
	eventually(t, ping, "", "/ping", 200, "OK")
	eventually(t, ping, "", "/ping/deep", 200, "OK")
	eventually(t, p.addr, "s.example", "/fast", 200, "done /fast")

	const n1, n2 = 5, 3 // HTTP/1.1 requests, h2c streams on one connection
	const n = n1 + n2
	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	h2c := h2cHTTPClient()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i < n1 {
				errs <- expect(p.addr, "/slow", "done /slow")
			} else {
				errs <- expectWith(h2c, p.addr, "/slower", "done /slower")
			}
		}()
	}
	for deadline := time.Now().Add(5 * time.Second); inFlight.Load() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d slow requests reached the backend", inFlight.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, ping, "", "/ping", 503, "Service Unavailable")
	eventually(t, ping, "", "/ready", 503, "Service Unavailable")
	// Still accepting during requestAcceptGraceTimeout, on a new connection.
	if err := expect(p.addr, "/fast", "done /fast"); err != nil {
		t.Errorf("request during requestAcceptGraceTimeout: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("in-flight request failed: %v", err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v; logs:\n%s", err, p.log())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("did not exit; logs:\n%s", p.log())
	}
}

// expect sends one request on a fresh connection.
func expect(addr, path, want string) error {
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	return expectWith(&http.Client{Transport: tr, Timeout: 10 * time.Second}, addr, path, want)
}

// expectWith sends one request with c.
func expectWith(c *http.Client, addr, path, want string) error {
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.Host = "s.example"
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b := make([]byte, 64)
	k, _ := resp.Body.Read(b)
	if resp.StatusCode != 200 || string(b[:k]) != want {
		return fmt.Errorf("got %d %q", resp.StatusCode, b[:k])
	}
	return nil
}

// TestShutdownClosesIdleKeepAlive: idle keep-alive connections, HTTPS
// ones included (served by fasthttp without a listener, which its own
// Shutdown does not close), do not hold the process past SIGTERM.
func TestShutdownClosesIdleKeepAlive(t *testing.T) {
	f := newMWFixture(t, mwRoute("idle", "idle.example", "[]"))
	eventually(t, f.p.addr, "idle.example", "/x", 200, "")
	for _, cl := range f.clients { // each leaves a connection idle
		if r := f.do(t, cl, mwCase{name: "idle", host: "idle.example", path: "/"}); r.status != 200 {
			t.Fatalf("%s: %d", cl.name, r.status)
		}
	}
	start := time.Now()
	if err := f.p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.p.cmd.Wait() }()
	select {
	case <-done:
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("exit took %v with idle connections open", d)
		}
	case <-time.After(8 * time.Second):
		t.Fatalf("did not exit within 8s (graceTimeOut is 10s) with idle connections open; logs:\n%s", f.p.log())
	}
}
