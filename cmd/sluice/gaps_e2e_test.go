package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBinaryHTTP10WithoutHost: an HTTP/1.0 request without a Host header
// matched by a rule that holds for an empty host is forwarded, as Traefik
// does, with the server's address as Host (what Go's transport writes).
func TestBinaryHTTP10WithoutHost(t *testing.T) {
	port := namedBackendFunc(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "host=%s xfhost=%q", r.Host, r.Header.Get("X-Forwarded-Host"))
	})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("be", port, "127.0.0.2")+`---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: e2e}
spec:
  routes:
  - match: HostRegexp(`+"`.*`"+`) && PathPrefix(`+"`/re`"+`)
    services: [{name: be, port: 80}]
  - match: "!Host(`+"`example.com`"+`) && PathPrefix(`+"`/not`"+`)"
    services: [{name: be, port: 80}]
  - match: Host(`+"`*`"+`) && PathPrefix(`+"`/star`"+`)
    services: [{name: be, port: 80}]
`)
	p := startSluice(t, dir)
	want := fmt.Sprintf("host=127.0.0.2:%d xfhost=\"\"", port)
	for _, path := range []string{"/re", "/not", "/star"} {
		st, body := rawRequest(t, p.addr, "GET "+path+" HTTP/1.0\r\n\r\n")
		if st != 200 || body != want {
			t.Errorf("HTTP/1.0 %s without Host: %d %q; want 200 %q", path, st, body, want)
		}
	}
}

// TestBinaryStatusLineIsSluices: a server that answers HTTP/1.0 is relayed
// to an HTTP/1.1 client as HTTP/1.1 (an intermediary sends its own
// version, RFC 9110 section 6.2), on a connection that stays open.
func TestBinaryStatusLineIsSluices(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nold ok")
			}()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("old", port, "127.0.0.2")+"---\n"+routeYAML("r", "old.example", "{name: old, port: 80}"))
	p := startSluice(t, dir)
	c, err := net.Dial("tcp4", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	for i := 0; i < 2; i++ { // the second request proves the connection stayed open
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: old.example\r\n\r\n")
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if line != "HTTP/1.1 200 OK\r\n" {
			t.Fatalf("request %d: status line %q; want HTTP/1.1 200 OK", i, line)
		}
		resp, err := http.ReadResponse(bufio.NewReader(io.MultiReader(strings.NewReader(line), br)), nil)
		if err != nil {
			t.Fatal(err)
		}
		b := readBody(t, resp)
		if string(b) != "old ok" || resp.Close {
			t.Fatalf("request %d: body %q, close %t", i, b, resp.Close)
		}
	}
}

// rawRequest sends raw bytes on a fresh connection and reads one answer.
func rawRequest(t *testing.T, addr, req string) (int, string) {
	t.Helper()
	resp, body, err := rawResponse(addr, req)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", req, err)
	}
	return resp.StatusCode, string(body)
}

// rawResponse sends raw bytes on a fresh connection and reads one answer.
func rawResponse(addr, req string) (*http.Response, []byte, error) {
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, req)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b, nil
}

// TestBinaryH2AuthorityOverHost: an HTTP/2 request whose :authority and
// host field differ is routed by :authority, as Traefik (Go's server)
// routes it, and the server sees :authority as Host; one without
// :authority is routed by its host field (RFC 9113 section 8.3.1).
func TestBinaryH2AuthorityOverHost(t *testing.T) {
	var hits atomic.Int32
	port := seenBackend(t, "127.0.0.2", "main", &hits)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("main", port, "127.0.0.2")+"---\n"+
		routeYAML("r", "one.example", "{name: main, port: 80}"))
	p := startSluice(t, dir)
	eventually(t, p.addr, "one.example", "/", 200, "main")
	before := hits.Load()
	if o := sendAuthority(p.addr, confReq{path: "/a", authority: "one.example", host: "other.example"}); o.Status != 200 {
		t.Fatalf(":authority one.example, host other.example: %d %s, want 200", o.Status, o.RespBody)
	}
	if o := sendAuthority(p.addr, confReq{path: "/a", authority: "other.example", host: "one.example"}); o.Status != 404 {
		t.Fatalf(":authority other.example, host one.example: %d %s, want 404", o.Status, o.RespBody)
	}
	if o := sendAuthority(p.addr, confReq{path: "/a", host: "one.example"}); o.Status != 200 {
		t.Fatalf("no :authority, host one.example: %d %s, want 200", o.Status, o.RespBody)
	}
	if n := hits.Load() - before; n != 2 {
		t.Fatalf("the backend saw %d requests, want 2", n)
	}
}

// TestBinaryHTTP10Answers: an HTTP/1.0 client gets what Go's server
// (Traefik's) sends it: a body of unknown length raw and ended by the
// close, never chunked (an HTTP/1.0 client cannot read chunks); no
// "Connection: close" field on a connection that closes; and, when it
// asked for keep-alive, "Connection: keep-alive" on an answer of known
// length and the connection kept for its next request.
func TestBinaryHTTP10Answers(t *testing.T) {
	port := namedBackendFunc(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stream" {
			io.WriteString(w, "part1 ")
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, "part2")
	})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("be", port, "127.0.0.2")+"---\n"+
		routeYAML("r", "old.example", "{name: be, port: 80}"))
	p := startSluice(t, dir)
	eventually(t, p.addr, "old.example", "/", 200, "part2")
	for _, tc := range []struct{ req, want string }{
		{"GET /stream HTTP/1.0\r\nHost: old.example\r\n\r\n", "HTTP/1.0 200 OK|-Transfer-Encoding|-Connection|\r\n\r\npart1 part2"},
		{"GET /stream HTTP/1.0\r\nHost: old.example\r\nConnection: keep-alive\r\n\r\n", "HTTP/1.0 200 OK|-Transfer-Encoding|-Connection|\r\n\r\npart1 part2"},
		{"HEAD /stream HTTP/1.0\r\nHost: old.example\r\n\r\n", "HTTP/1.0 200 OK|-Transfer-Encoding|-Connection|\r\n\r\n"},
		{"GET / HTTP/1.0\r\nHost: old.example\r\n\r\n", "HTTP/1.0 200 OK|Content-Length: 5|-Connection|\r\n\r\npart2"},
	} {
		got := readUntilClose(t, p.addr, tc.req)
		for _, w := range strings.Split(tc.want, "|") {
			if neg, ok := strings.CutPrefix(w, "-"); ok && strings.Contains(got, "\r\n"+neg+":") {
				t.Errorf("%q: the answer has %s:\n%s", tc.req, neg, got)
			} else if !ok && !strings.Contains(got, w) {
				t.Errorf("%q: the answer lacks %q:\n%s", tc.req, w, got)
			}
		}
		if strings.HasPrefix(tc.req, "GET") && !strings.HasSuffix(got, "part2") {
			t.Errorf("%q: the body does not end the answer:\n%s", tc.req, got)
		}
	}
	// Keep-alive asked, length known: kept, and said so.
	c, err := net.Dial("tcp4", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		io.WriteString(c, "GET / HTTP/1.0\r\nHost: old.example\r\nConnection: keep-alive\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("keep-alive request %d: %v", i+1, err)
		}
		b := readBody(t, resp)
		resp.Body.Close()
		if string(b) != "part2" || resp.Header.Get("Connection") != "keep-alive" {
			t.Fatalf("keep-alive request %d: %q, Connection %q", i+1, b, resp.Header.Get("Connection"))
		}
	}
}

// readUntilClose sends req on a new connection and returns all the
// server sends until it closes.
func readUntilClose(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, req)
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%q: the server did not close the connection: %v (read %q)", req, err, b)
	}
	return string(b)
}
