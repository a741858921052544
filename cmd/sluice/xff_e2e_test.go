package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinaryNotAppendXForwardedFor: with forwardedHeaders.notAppendXForwardedFor
// the server gets X-Forwarded-For as the client sent it (lines joined),
// without the client's address, and none when the client sent none; an
// untrusted client's is still dropped; without the option the lines and
// the client's address make one line. Over HTTP/1.1 and h2c (issue 25).
func TestBinaryNotAppendXForwardedFor(t *testing.T) {
	port := namedBackendFunc(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
		v, ok := r.Header["X-Forwarded-For"]
		fmt.Fprintf(w, "%v %q real=%s", ok, strings.Join(v, "|"), r.Header.Get("X-Real-Ip"))
	})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "r.yaml"), routeYAML("h", "h.test", "{name: h, port: 80}")+"---\n"+manifests("h", port, "127.0.0.1"))
	untrusted := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	appends := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startSluice(t, dir, "--entryPoints.web.forwardedHeaders.insecure=true",
		"--entryPoints.web.forwardedHeaders.notAppendXForwardedFor=true",
		"--entryPoints.other.address="+untrusted, "--entryPoints.other.forwardedHeaders.notAppendXForwardedFor=true",
		"--entryPoints.appends.address="+appends, "--entryPoints.appends.forwardedHeaders.insecure=true")
	eventually(t, p.addr, "h.test", "/", 200, `false "" real=127.0.0.1`)
	for _, proto := range []struct {
		name string
		c    *http.Client
	}{{"HTTP/1.1", http.DefaultClient}, {"h2c", h2cHTTPClient()}} {
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
			req, _ := http.NewRequest("GET", "http://"+tc.addr+"/", nil)
			req.Host = "h.test"
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			resp, err := proto.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != tc.want {
				t.Errorf("%s to %s with %q: the server saw %s, want %s", proto.name, tc.addr, tc.xff, b, tc.want)
			}
		}
	}
}
