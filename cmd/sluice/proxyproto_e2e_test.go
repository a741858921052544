package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"
)

// TestBinaryProxyProtocol: PROXY protocol v1 and v2 headers before HTTP/1.1,
// h2c and TLS, from a trusted peer (the header's address is the client's:
// X-Real-Ip, X-Forwarded-For, ClientIP rules) and an untrusted one (the
// header dropped, the socket's address kept); no header; a malformed one
// answered 400 before the connection closes (issue 25).
func TestBinaryProxyProtocol(t *testing.T) {
	port := namedBackendFunc(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "real=%s xff=%s", r.Header.Get("X-Real-Ip"), r.Header.Get("X-Forwarded-For"))
	})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "r.yaml"), manifests("h", port, "127.0.0.1")+"---\n"+`apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
  - {match: "Host(`+"`h.test`"+`) && ClientIP(`+"`203.0.113.0/24`"+`)", services: [{name: h, port: 80}]}
  - {match: "Host(`+"`h.test`"+`) && PathPrefix(`+"`/any`"+`)", services: [{name: h, port: 80}]}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: t, namespace: e2e}
spec:
  routes:
  - {match: "Host(`+"`tls.test`"+`)", services: [{name: h, port: 80}]}
  tls: {}
`)
	untrusted := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startSluice(t, dir, "--entryPoints.web.proxyProtocol.trustedIPs=127.0.0.1/32",
		"--entryPoints.other.address="+untrusted, "--entryPoints.other.proxyProtocol.trustedIPs=192.0.2.0/24")
	eventually(t, p.addr, "h.test", "/any", 200, "real=127.0.0.1 xff=127.0.0.1")

	v1 := "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n"
	v2 := v2Header(t, "203.0.113.9")
	for _, tc := range []struct {
		name, addr, header, path string
		tls                      bool
		want                     string
	}{
		{"v1", p.addr, v1, "/", false, "real=203.0.113.7 xff=203.0.113.7"},
		{"v2", p.addr, v2, "/", false, "real=203.0.113.9 xff=203.0.113.9"},
		{"v1 then TLS", p.addr, v1, "/", true, "real=203.0.113.7 xff=203.0.113.7"},
		{"v2 then TLS", p.addr, v2, "/", true, "real=203.0.113.9 xff=203.0.113.9"},
		{"no header", p.addr, "", "/any", false, "real=127.0.0.1 xff=127.0.0.1"},
		{"untrusted peer: header dropped", untrusted, v1, "/any", false, "real=127.0.0.1 xff=127.0.0.1"},
		{"untrusted peer: no ClientIP match", untrusted, v1, "/", false, "404"},
		// fasthttp answers the read error 400 and closes, as Go's server (Traefik) does.
		{"malformed header", p.addr, "PROXY TCP4 nonsense\r\n", "/", false, "400 Bad Request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := proxiedGet(t, tc.addr, tc.header, tc.path, tc.tls); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// h2c with prior knowledge after a v2 header: ClientIP sees the header's address.
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, v2)
	if got := h2cSettingOn(t, c, 0x3); got != 250 {
		t.Errorf("h2c after a PROXY header: SETTINGS_MAX_CONCURRENT_STREAMS %d", got)
	}
}

// v2Header is a PROXY v2 header for a TCP4 client at ip.
func v2Header(t *testing.T, ip string) string {
	h := &proxyproto.Header{Version: 2, Command: proxyproto.PROXY, TransportProtocol: proxyproto.TCPv4,
		SourceAddr:      &net.TCPAddr{IP: net.ParseIP(ip), Port: 4444},
		DestinationAddr: &net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 80}}
	b, err := h.Format()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// proxiedGet sends header, then a GET for path (over TLS when asked) and
// returns the body, "404", or "closed".
func proxiedGet(t *testing.T, addr, header, path string, useTLS bool) string {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(raw, header)
	var c net.Conn = raw
	host := "h.test"
	if useTLS {
		tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, ServerName: "tls.test"})
		if err := tc.Handshake(); err != nil {
			return "closed"
		}
		c, host = tc, "tls.test"
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "closed"
	}
	defer resp.Body.Close()
	b := readBody(t, resp)
	if resp.StatusCode == 404 {
		return "404"
	}
	return strings.TrimSpace(string(b))
}
