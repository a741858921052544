package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/sluiceproxy/sluice/watch/kubetest"
)

// tool finds a binary the tests drive; make tools installs it.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("SLUICE_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not found (Debian %s)", name, pkg)
		}
		t.Skipf("%s not found (Debian %s; make tools installs it)", name, pkg)
	}
	return p
}

// startLogged runs a helper process for the test, its output in a file.
func startLogged(t *testing.T, logFile string, name string, args ...string) {
	t.Helper()
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); f.Close() })
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// proxiedBackends serves, inside a network namespace (Go never proxies
// loopback servers), plain HTTP echoing the Via header, HTTPS, h2c and an
// upgrade echo; it returns the host.
func proxiedBackends(t *testing.T) (h *kubetest.Host, plain, secure, h2cPort, ws int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	h, err := kubetest.NewHost(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	listen := func() net.Listener {
		ln, err := h.Listen(h.Addr(0) + ":0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	port := func(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s via=%q auth=%q", r.Proto, r.URL.Path, r.Header.Get("Via"), r.Header.Get("Proxy-Authorization"))
	})
	ln := listen()
	go (&http.Server{Handler: echo}).Serve(ln)
	plain = port(ln)
	tl := listen()
	ts := httptest.NewUnstartedServer(echo)
	ts.Listener = tl
	ts.StartTLS()
	t.Cleanup(ts.Close)
	secure = port(tl)
	hl := listen()
	go (&http.Server{Handler: h2c.NewHandler(echo, &http2.Server{})}).Serve(hl)
	h2cPort = port(hl)
	wl := listen()
	go (&http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nvia=%q\n", r.Header.Get("Via"))
		brw.Flush()
	})}).Serve(wl)
	ws = port(wl)
	return h, plain, secure, h2cPort, ws
}

// TestBinaryUpstreamProxies: HTTP_PROXY, HTTPS_PROXY and NO_PROXY are
// honoured as Traefik's transports honour them: through a real HTTP proxy
// (tinyproxy) plain HTTP goes in absolute form (the proxy adds its Via),
// upgrades too, with Proxy-Authorization from the URL; HTTPS and h2c go
// through CONNECT tunnels; through a real SOCKS5 proxy (microsocks) every
// connection goes through it; NO_PROXY servers are reached directly.
func TestBinaryUpstreamProxies(t *testing.T) {
	tinyproxy := tool(t, "tinyproxy", "tinyproxy")
	microsocks := tool(t, "microsocks", "microsocks")
	h, plain, secure, h2cPort, ws := proxiedBackends(t)
	work := t.TempDir()
	hp, sp := freePort(t), freePort(t)
	conf := filepath.Join(work, "tinyproxy.conf")
	write(t, conf, fmt.Sprintf("Port %d\nListen 127.0.0.1\nAllow 127.0.0.1\nLogLevel Connect\nLogFile %q\nMaxClients 100\n", hp, filepath.Join(work, "tinyproxy.log")))
	startLogged(t, filepath.Join(work, "tinyproxy.out"), tinyproxy, "-d", "-c", conf)
	startLogged(t, filepath.Join(work, "socks.log"), microsocks, "-i", "127.0.0.1", "-p", fmt.Sprint(sp))
	waitListening(t, fmt.Sprintf("127.0.0.1:%d", hp))
	waitListening(t, fmt.Sprintf("127.0.0.1:%d", sp))

	ip := h.Addr(0)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), strings.Join([]string{
		manifests("plain", plain, ip), manifests("secure", secure, ip), manifests("grpc", h2cPort, ip), manifests("ws", ws, ip),
		routeYAML("a", "plain.example", "{name: plain, port: 80}"),
		routeYAML("b", "secure.example", "{name: secure, port: 80, scheme: https}"),
		routeYAML("c", "h2c.example", "{name: grpc, port: 80, scheme: h2c}"),
		routeYAML("d", "ws.example", "{name: ws, port: 80}"),
	}, "---\n"))
	start := func(env ...string) *sluiceProc {
		port := freePort(t)
		return runSluiceEnv(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second, env, "--providers.manifests.directory="+dir,
			"--serversTransport.insecureSkipVerify=true")
	}

	// An HTTP proxy with credentials in its URL.
	proxyURL := fmt.Sprintf("http://user:secret@127.0.0.1:%d", hp)
	p := start("HTTP_PROXY="+proxyURL, "HTTPS_PROXY="+proxyURL)
	// tinyproxy adds its Via, and passes the Proxy-Authorization it was
	// not configured to check on to the server, which so shows it was sent.
	if st, body := get(t, p.addr, "plain.example", "/p"); st != 200 || !strings.Contains(body, "tinyproxy/") ||
		!strings.Contains(body, `auth="Basic dXNlcjpzZWNyZXQ="`) {
		t.Errorf("plain HTTP through the HTTP proxy: %d %q; want the proxy's Via and the credentials", st, body)
	}
	if st, body := get(t, p.addr, "secure.example", "/s"); st != 200 || !strings.HasPrefix(body, "HTTP/1.1 /s") {
		t.Errorf("HTTPS through a CONNECT tunnel: %d %q", st, body)
	}
	if st, body := get(t, p.addr, "h2c.example", "/g"); st != 200 || !strings.HasPrefix(body, "HTTP/2.0 /g") {
		t.Errorf("h2c through a CONNECT tunnel: %d %q", st, body)
	}
	if line := upgradeVia(t, p.addr, "ws.example"); !strings.Contains(line, "tinyproxy") {
		t.Errorf("an upgrade through the HTTP proxy: %q; want the proxy's Via", line)
	}
	log := readFile(filepath.Join(work, "tinyproxy.log"))
	for _, want := range []string{fmt.Sprintf("CONNECT %s:%d", ip, secure), fmt.Sprintf("CONNECT %s:%d", ip, h2cPort)} {
		if !strings.Contains(log, want) {
			t.Errorf("tinyproxy's log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(p.log(), "secret") {
		t.Errorf("the proxy's password reached a log:\n%s", p.log())
	}

	// NO_PROXY: reached directly.
	p = start("HTTP_PROXY="+proxyURL, "NO_PROXY="+ip)
	if st, body := get(t, p.addr, "plain.example", "/direct"); st != 200 || !strings.Contains(body, `via=""`) {
		t.Errorf("NO_PROXY server: %d %q; want no Via", st, body)
	}

	// SOCKS5 for every scheme.
	socks := fmt.Sprintf("socks5://127.0.0.1:%d", sp)
	p = start("HTTP_PROXY="+socks, "HTTPS_PROXY="+socks)
	for _, tc := range []struct{ host, want string }{{"plain.example", "HTTP/1.1 /x"}, {"secure.example", "HTTP/1.1 /x"}, {"h2c.example", "HTTP/2.0 /x"}} {
		if st, body := get(t, p.addr, tc.host, "/x"); st != 200 || !strings.HasPrefix(body, tc.want) {
			t.Errorf("%s through SOCKS5: %d %q", tc.host, st, body)
		}
	}
	slog := readFile(filepath.Join(work, "socks.log"))
	for _, port := range []int{plain, secure, h2cPort} {
		if want := fmt.Sprintf("connected to %s:%d", ip, port); !strings.Contains(slog, want) {
			t.Errorf("microsocks's log lacks %q:\n%s", want, slog)
		}
	}
}

// upgradeVia sends an upgrade and returns the line the server sends after
// its 101.
func upgradeVia(t *testing.T, addr, host string) string {
	t.Helper()
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /up HTTP/1.1\r\nHost: "+host+"\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	line, _ := br.ReadString('\n')
	return line
}

// waitListening waits until addr accepts connections.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp4", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}
