package kubetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Require skips the test unless SLUICE_K8S=1.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv("SLUICE_K8S") != "1" {
		t.Skip("set SLUICE_K8S=1 (make test-k8s) to run tests against a real kube-apiserver")
	}
}

// Binaries returns the directory holding kube-apiserver and etcd, building
// them on first use (about 5 minutes of 2 cores, then cached).
func Binaries() (string, error) {
	cache := os.Getenv("SLUICE_K8S_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "apiserver-up")
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "apiserver-up.sh")
	cmd := exec.Command(script, cache)
	cmd.Env = append(os.Environ(), "BUILD_ONLY=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("apiserver-up.sh: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// Cluster is etcd plus kube-apiserver on loopback. The API server can be
// stopped and started again on the same address, to break watches.
type Cluster struct {
	Kubeconfig string
	Config     *rest.Config
	bin, dir   string
	token      string
	apiPort    int
	etcdURL    string
	etcd, kas  *proc
	mu         sync.Mutex
}

// Start starts a cluster; Stop (or the caller's cleanup) ends it.
func Start() (*Cluster, error) {
	bin, err := Binaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sluice-kas-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, dir: dir, token: randHex(24)}
	if err := c.start(); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start() error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	ep, pp := ports[0], ports[1]
	c.apiPort = ports[2]
	etcd := exec.Command(filepath.Join(c.bin, "etcd"), "--name=t", "--data-dir="+filepath.Join(c.dir, "etcd"), "--unsafe-no-fsync",
		"--log-level=warn", fmt.Sprintf("--listen-client-urls=http://127.0.0.1:%d", ep), fmt.Sprintf("--advertise-client-urls=http://127.0.0.1:%d", ep),
		fmt.Sprintf("--listen-peer-urls=http://127.0.0.1:%d", pp), fmt.Sprintf("--initial-advertise-peer-urls=http://127.0.0.1:%d", pp),
		fmt.Sprintf("--initial-cluster=t=http://127.0.0.1:%d", pp))
	etcd.Env = withoutEtcdEnv(os.Environ())
	if c.etcd, err = startLogged(etcd, filepath.Join(c.dir, "etcd.log")); err != nil {
		return err
	}
	if err := waitHTTP(fmt.Sprintf("http://127.0.0.1:%d/health", ep), "", 30*time.Second); err != nil {
		return fmt.Errorf("etcd: %w (log %s)", err, filepath.Join(c.dir, "etcd.log"))
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(c.dir, "sa.key"), pemKey, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.dir, "tokens.csv"), []byte(c.token+",admin,admin,system:masters\n"), 0o600); err != nil {
		return err
	}
	c.etcdURL = fmt.Sprintf("http://127.0.0.1:%d", ep)
	if err := c.StartAPIServer(); err != nil {
		return err
	}
	return c.writeKubeconfig()
}

// APIServer is the API server's URL.
func (c *Cluster) APIServer() string { return fmt.Sprintf("https://127.0.0.1:%d", c.apiPort) }

// StartAPIServer starts kube-apiserver (again) on the cluster's address
// and waits until it is ready.
func (c *Cluster) StartAPIServer() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kas != nil {
		return nil
	}
	d := c.dir
	kas := exec.Command(filepath.Join(c.bin, "kube-apiserver"), "--etcd-servers="+c.etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", c.apiPort), "--cert-dir="+d,
		"--token-auth-file="+filepath.Join(d, "tokens.csv"), "--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+filepath.Join(d, "sa.key"), "--service-account-signing-key-file="+filepath.Join(d, "sa.key"),
		"--service-cluster-ip-range=10.0.0.0/24", "--endpoint-reconciler-type=none", "--disable-admission-plugins=ServiceAccount")
	var err error
	if c.kas, err = startLogged(kas, filepath.Join(d, "kube-apiserver.log")); err != nil {
		return err
	}
	if err := waitHTTP(c.APIServer()+"/readyz", c.token, 120*time.Second); err != nil {
		return fmt.Errorf("kube-apiserver: %w (log %s)", err, filepath.Join(d, "kube-apiserver.log"))
	}
	return nil
}

// StopAPIServer stops kube-apiserver; etcd keeps the data.
func (c *Cluster) StopAPIServer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	stopProcess(c.kas)
	c.kas = nil
}

// Stop stops both servers and removes their files.
func (c *Cluster) Stop() {
	c.StopAPIServer()
	stopProcess(c.etcd)
	c.etcd = nil
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

func (c *Cluster) writeKubeconfig() error {
	c.Kubeconfig = filepath.Join(c.dir, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: %q, certificate-authority: %q}}]
users: [{name: admin, user: {token: %q}}]
contexts: [{name: local, context: {cluster: local, user: admin, namespace: default}}]
current-context: local
`, c.APIServer(), filepath.Join(c.dir, "apiserver.crt"), c.token)
	if err := os.WriteFile(c.Kubeconfig, []byte(kc), 0o600); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 2000, 4000 // tests and benchmarks create objects by the thousand
	c.Config = cfg
	return nil
}

// proc is a started server process.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startLogged(cmd *exec.Cmd, logPath string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test binary
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

// stopProcess sends SIGTERM, then SIGKILL after 15 s (kube-apiserver's
// graceful stop can hang once etcd is gone).
func stopProcess(p *proc) {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func waitHTTP(url, token string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %v: %v", url, timeout, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// freePorts picks loopback ports below the ephemeral range, where load
// tests' client connections cannot take them.
func freePorts(n int) ([]int, error) {
	var out []int
	for tries := 0; len(out) < n && tries < 1000; tries++ {
		b := make([]byte, 2)
		_, _ = rand.Read(b)
		port := 15000 + (int(b[0])<<8|int(b[1]))%17000
		ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		out = append(out, port)
	}
	if len(out) < n {
		return nil, fmt.Errorf("no free ports")
	}
	return out, nil
}

func withoutEtcdEnv(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "ETCD_") {
			out = append(out, e)
		}
	}
	return out
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
