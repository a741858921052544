package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluiceproxy/sluice/fastpath/middleware"
)

// startRedis runs a redis-server (Debian redis-server) on a free loopback
// port until the test ends, without persistence; it returns its address
// and a function that stops it early.
func startRedis(t *testing.T) (addr string, stop func()) {
	t.Helper()
	bin := tool(t, "redis-server", "redis-server")
	port := freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s", addr)
		}
	}
}

// TestBinaryRateLimitRedis: two replicas sharing a real Redis count
// against the same buckets (a burst of 2, then 429 whichever replica
// answers), with the credentials of a Secret; when Redis goes away the
// answer is Traefik's 500, and the error is logged without the password.
func TestBinaryRateLimitRedis(t *testing.T) {
	raddr, stopRedis := startRedis(t)
	// A user with a password, as the Secret gives them.
	if out, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", strings.Split(raddr, ":")[1], "ACL", "SETUSER", "sluice", "on",
		">s3cret-pw", "~*", "+@all").CombinedOutput(); err != nil {
		t.Fatalf("redis-cli: %v %s", err, out)
	}
	port := namedBackendFunc(t, "127.0.0.2", statefulBackend)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("back", port, "127.0.0.2")+"---\n"+
		"apiVersion: v1\nkind: Secret\nmetadata: {name: redis-creds, namespace: e2e}\nstringData: {username: sluice, password: s3cret-pw}\n---\n"+
		mwObject("rl", fmt.Sprintf("{rateLimit: {average: 1, period: 10s, burst: 2, sourceCriterion: {requestHeaderName: X-Key}, "+
			"redis: {endpoints: ['%s'], secret: redis-creds, dialTimeout: 1s, readTimeout: 1s}}}", raddr))+
		"apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: rl, namespace: e2e}\nspec:\n  routes:\n"+
		"  - match: Host(`rl.example`)\n    middlewares: [{name: rl}]\n    services: [{name: back, port: 80}]\n")
	a, b := startSluice(t, dir), startSluice(t, dir)
	get := func(p *sluiceProc, key string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", "http://"+p.addr+"/", nil)
		req.Host = "rl.example"
		req.Header.Set("X-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	for i, p := range []*sluiceProc{a, b, a} {
		resp, _ := get(p, "k1")
		want := 200
		if i == 2 {
			want = 429
		}
		if resp.StatusCode != want {
			t.Fatalf("request %d (replica %d): %d, want %d; logs:\n%s", i, i%2, resp.StatusCode, want, p.log())
		}
		if i == 2 && resp.Header.Get("Retry-After") != "10" {
			t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
		}
	}
	if resp, _ := get(b, "k2"); resp.StatusCode != 200 {
		t.Fatalf("another source: %d", resp.StatusCode)
	}
	stopRedis()
	resp, body := get(a, "k3")
	if resp.StatusCode != 500 || body != "Could not insert/update bucket\n" {
		t.Fatalf("Redis gone: %d %q", resp.StatusCode, body)
	}
	// the log line may land just after the answer: wait for it
	for deadline := time.Now().Add(3 * time.Second); !strings.Contains(a.log(), "could not insert/update bucket") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if l := a.log(); !strings.Contains(l, "could not insert/update bucket") || strings.Contains(l, "s3cret-pw") {
		t.Fatalf("the error is not logged, or the password is:\n%s", l)
	}
}

// TestRedisScriptMatchesTraefik (make conformance): Sluice's token bucket
// script and Traefik's (read from its module source), run on the same
// arguments against a real Redis, answer the same and leave the same
// hash, so Sluice and Traefik replicas can share buckets while a cluster
// moves from one to the other.
func TestRedisScriptMatchesTraefik(t *testing.T) {
	if os.Getenv("SLUICE_CONFORMANCE") != "1" {
		t.Skip("set SLUICE_CONFORMANCE=1 (make conformance): needs Traefik's module source")
	}
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/traefik/traefik/v3@v3.7.9").Output()
	if err != nil {
		t.Fatal(err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(mod.Dir, "pkg/middlewares/ratelimiter/lua.go"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "var AllowTokenBucketRaw = `")
	lua, _, ok2 := strings.Cut(rest, "`")
	if !ok || !ok2 {
		t.Fatal("Traefik's script not found in lua.go")
	}
	traefik := redis.NewScript(lua)
	raddr, _ := startRedis(t)
	client := redis.NewClient(&redis.Options{Addr: raddr})
	defer client.Close()
	ctx := context.Background()
	rnd := rand.New(rand.NewSource(1))
	now := int64(1_700_000_000_000_000)
	for _, limits := range [][3]float64{{1e-6, 2, 2}, {100e-6, 10, 2}, {0.5e-6, 1, 3}} {
		for i := 0; i < 300; i++ {
			now += rnd.Int63n(3_000_000)
			args := []any{limits[0], int64(limits[1]), int64(limits[2]), now, int64(500_000)}
			want, err1 := traefik.Run(ctx, client, []string{"rate:t"}, args...).Result()
			got, err2 := middleware.TokenBucketScript().Run(ctx, client, []string{"rate:s"}, args...).Result()
			if err1 != nil || err2 != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("step %d %v: Sluice %v %v, Traefik %v %v", i, limits, got, err2, want, err1)
			}
			hs, _ := client.HGetAll(ctx, "rate:s").Result()
			ht, _ := client.HGetAll(ctx, "rate:t").Result()
			if fmt.Sprint(hs) != fmt.Sprint(ht) {
				t.Fatalf("step %d: hashes %v and %v", i, hs, ht)
			}
		}
	}
}

// TestBinaryRateLimitRedisTLS: the redis block's tls, its CA from a
// Secret, to a redis-server serving TLS only: the shared limit works
// through it.
func TestBinaryRateLimitRedisTLS(t *testing.T) {
	bin := tool(t, "redis-server", "redis-server")
	ca := newTestCA(t, "redis CA")
	crt, key := ca.issue(t, "redis", "127.0.0.1")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "tls.crt"), string(crt))
	write(t, filepath.Join(dir, "tls.key"), string(key))
	write(t, filepath.Join(dir, "ca.crt"), string(ca.pem))
	port := freePort(t)
	cmd := exec.Command(bin, "--port", "0", "--tls-port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--tls-cert-file", filepath.Join(dir, "tls.crt"), "--tls-key-file", filepath.Join(dir, "tls.key"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.crt"), "--tls-auth-clients", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	raddr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", raddr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not listen")
		}
	}
	backend := namedBackendFunc(t, "127.0.0.2", statefulBackend)
	mdir := t.TempDir()
	write(t, filepath.Join(mdir, "all.yaml"), manifests("back", backend, "127.0.0.2")+"---\n"+
		fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: redis-ca, namespace: e2e}\ndata: {ca.crt: %s}\n---\n", base64.StdEncoding.EncodeToString(ca.pem))+
		mwObject("rl", fmt.Sprintf("{rateLimit: {average: 1, period: 10s, burst: 1, sourceCriterion: {requestHeaderName: X-Key}, "+
			"redis: {endpoints: ['%s'], tls: {caSecret: redis-ca}}}}", raddr))+
		"apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: rl, namespace: e2e}\nspec:\n  routes:\n"+
		"  - match: Host(`rl.example`)\n    middlewares: [{name: rl}]\n    services: [{name: back, port: 80}]\n")
	p := startSluice(t, mdir)
	for i, want := range []int{200, 429} {
		req, _ := http.NewRequest("GET", "http://"+p.addr+"/", nil)
		req.Host = "rl.example"
		req.Header.Set("X-Key", "tls")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("request %d through TLS to Redis: %d, want %d; logs:\n%s", i, resp.StatusCode, want, p.log())
		}
	}
}
