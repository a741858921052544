package demo

import (
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestServerBodies(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := Server("127.0.0.1:9001")
	go s.Serve(ln)
	defer s.Shutdown()
	c := &fasthttp.HostClient{Addr: ln.Addr().String()}
	for _, tc := range []struct {
		query  string
		status int
		size   int
	}{
		{"", 200, 100},
		{"sec", 200, 100},
		{"?size=100", 200, 100},
		{"?size=16384", 200, 16384},
		{"?size=1048576", 200, 1 << 20},
		{"?size=7", 400, -1},
	} {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://x/" + tc.query)
		req.Header.SetMethod("POST")
		req.SetBodyString("dropped")
		if err := c.Do(req, resp); err != nil {
			t.Fatal(tc.query, err)
		}
		body := string(resp.Body())
		if resp.StatusCode() != tc.status {
			t.Errorf("%q: status %d, want %d", tc.query, resp.StatusCode(), tc.status)
		}
		if tc.size > 0 && (len(body) != tc.size || !strings.HasPrefix(body, "backend 9001 ") || !strings.HasSuffix(body, "x\n")) {
			t.Errorf("%q: body of %d bytes starting %q, want %d starting \"backend 9001 \"", tc.query, len(body), body[:min(len(body), 20)], tc.size)
		}
		for _, kv := range ChainHeaders {
			if got := string(resp.Header.Peek(kv[0])); (tc.query == "sec") != (got == kv[1]) {
				t.Errorf("%q: %s is %q", tc.query, kv[0], got)
			}
		}
		if tc.status == 200 && len(resp.Header.Peek("Date")) != 0 {
			t.Errorf("%q: a Date header", tc.query)
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	}
}
