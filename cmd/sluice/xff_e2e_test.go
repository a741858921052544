package main

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinaryNotAppendXForwardedFor: with forwardedHeaders.notAppendXForwardedFor
// the server gets X-Forwarded-For as the client sent it (lines joined),
// without the client's address, and none when the client sent none; an
// untrusted client's is still dropped; without the option the lines and
// the client's address make one line. Over HTTP/1.1, h2c, HTTPS and
// HTTP/2 over TLS (issue 25).
func TestBinaryNotAppendXForwardedFor(t *testing.T) {
	port := namedBackendFunc(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
		v, ok := r.Header["X-Forwarded-For"]
		fmt.Fprintf(w, "%v %q real=%s", ok, strings.Join(v, "|"), r.Header.Get("X-Real-Ip"))
	})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "r.yaml"), routeYAML("h", "h.test", "{name: h, port: 80}")+"---\n"+manifests("h", port, "127.0.0.1"))
	untrusted := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	appends := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	secure := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startSluice(t, dir, "--entryPoints.web.forwardedHeaders.insecure=true",
		"--entryPoints.web.forwardedHeaders.notAppendXForwardedFor=true",
		"--entryPoints.other.address="+untrusted, "--entryPoints.other.forwardedHeaders.notAppendXForwardedFor=true",
		"--entryPoints.appends.address="+appends, "--entryPoints.appends.forwardedHeaders.insecure=true",
		"--entryPoints.secure.address="+secure, "--entryPoints.secure.http.tls=true",
		"--entryPoints.secure.forwardedHeaders.insecure=true", "--entryPoints.secure.forwardedHeaders.notAppendXForwardedFor=true")
	eventually(t, p.addr, "h.test", "/", 200, `false "" real=127.0.0.1`)
	tlsConf := &tls.Config{InsecureSkipVerify: true} // the default certificate
	for _, proto := range []struct {
		name   string
		c      *http.Client
		scheme string
	}{{"HTTP/1.1", http.DefaultClient, "http"}, {"h2c", h2cHTTPClient(), "http"},
		{"HTTPS", &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf.Clone(), TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}, "https"},
		{"HTTP/2 over TLS", &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf.Clone(), ForceAttemptHTTP2: true}}, "https"}} {
		for _, tc := range []struct {
			addr string
			xff  []string
			want string
		}{
			{p.addr, nil, `false "" real=127.0.0.1`},
			{p.addr, []string{"192.0.2.1"}, `true "192.0.2.1" real=127.0.0.1`},
			{p.addr, []string{"192.0.2.1", "198.51.100.2"}, `true "192.0.2.1, 198.51.100.2" real=127.0.0.1`},
			{untrusted, []string{"192.0.2.1"}, `false "" real=127.0.0.1`},
			// Without the option: one line, the client's lines joined and
			// the peer appended (two lines used to reach the server).
			{appends, []string{"192.0.2.1", "198.51.100.2"}, `true "192.0.2.1, 198.51.100.2, 127.0.0.1" real=127.0.0.1`},
		} {
			if proto.scheme == "https" {
				if tc.addr != p.addr {
					continue // the TLS entry point stands for web
				}
				tc.addr = secure
			}
			req, _ := http.NewRequest("GET", proto.scheme+"://"+tc.addr+"/", nil)
			req.Host = "h.test"
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			resp, err := proto.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b := readBody(t, resp)
			resp.Body.Close()
			if proto.scheme == "https" && resp.ProtoMajor != map[bool]int{true: 2, false: 1}[proto.name == "HTTP/2 over TLS"] {
				t.Errorf("%s: the answer came over %s", proto.name, resp.Proto)
			}
			if string(b) != tc.want {
				t.Errorf("%s to %s with %q: the server saw %s, want %s", proto.name, tc.addr, tc.xff, b, tc.want)
			}
		}
	}
}
