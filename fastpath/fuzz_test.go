package fastpath

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// FuzzProxyRequest sends whatever the fuzzer makes of a request to a real
// proxy over a real socket, with a real backend behind it. Whatever comes
// in, the proxy must not panic (a panic in a handler ends the process),
// must answer with a well-formed response whose status it may give, or
// close the connection, must keep serving, and a request it forwards must
// reach the backend with X-Forwarded-For and X-Real-Ip naming the peer
// alone: a client the proxy does not trust cannot pass its own.
func FuzzProxyRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: nowhere\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: A.Example:8080\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 1.2.3.4\r\nX_Real_Ip: 9.9.9.9\r\n\r\n",
		"GET /a/../b//c?x=1;y=2 HTTP/1.1\r\nHost: a.example\r\n\r\n",
		"GET /%7Eu/%2fz HTTP/1.1\r\nHost: a.example\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive, X-Real-Ip\r\nX-Real-Ip: 1.1.1.1\r\n\r\n",
		"GET http://a.example/abs HTTP/1.1\r\nHost: other\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: none\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: dead\r\n\r\n",
		"GET /a%zz HTTP/1.1\r\nHost: a.example\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\n\r\nabc",
		"POST /p HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a.example\r\nFoo: a\r\n X-Forwarded-For: 6.6.6.6\r\n\r\n",
		"GET /x HTTP/1.0\r\nHost: a.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		"HEAD /x HTTP/1.1\r\nHost: a.example\r\n\r\nGET /y HTTP/1.1\r\nHost: a.example\r\n\r\n",
	} {
		f.Add(s)
	}
	addr := fuzzProxy(f)
	f.Fuzz(func(t *testing.T, req string) {
		if len(req) > 64<<10 {
			return // the header limit's own test covers large ones
		}
		checkAnswer(t, req, exchange(t, addr, req))
		if st, _, _ := raw(t, addr, "GET /alive HTTP/1.1\r\nHost: a.example\r\n\r\n"); st != 200 {
			t.Fatalf("after %q the proxy answers a plain request with %d", req, st)
		}
	})
}

// fuzzProxy starts the fuzz target's proxy: a.example to a backend that
// echoes, none to no server, dead to a closed port.
func fuzzProxy(t testing.TB) string {
	reg := upstream.NewRegistry(upstream.Options{})
	be := backend(t)
	dead := "127.0.0.1:1"
	addr, _ := proxy(t, map[string][]service.Server{
		"a.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}},
		"none":      nil,
		"dead":      {{URL: "http://" + dead, Endpoint: reg.Get("http", dead)}},
	}, nil)
	return addr
}

// answer is what exchange saw: the first response's status and body, or
// that the proxy closed the connection without one.
type answer struct {
	closed bool
	status int
	body   string
}

// exchange writes req, half-closes (so an incomplete request ends), and
// reads the first response.
func exchange(t *testing.T, addr, req string) answer {
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		return answer{closed: true} // the proxy closed first (it read enough to refuse)
	}
	c.(*net.TCPConn).CloseWrite()
	br := bufio.NewReader(c)
	first, err := br.Peek(1)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("no answer to %q within 5 s", req)
		}
		return answer{closed: true}
	}
	if strings.HasPrefix(req, "\x16") && first[0] == 0x15 {
		return answer{closed: true} // a TLS record: the handshake refused with an alert, as it must be
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("malformed response to %q: %v", req, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20)) // a HEAD's body never comes
	return answer{status: resp.StatusCode, body: string(body)}
}

// Statuses the proxy may give (or pass on from the backend, Go's server):
// 200 and 4xx (refused or not routed), 501 (a transfer coding it does not
// know), 502 (dead's port), 503 (none has no server), 505 (a version it
// does not speak). 500 would be an error of its own.
var fuzzStatus = map[int]bool{200: true, 501: true, 502: true, 503: true, 505: true}

var echoed = regexp.MustCompile(`xff=\[([^\]]*)\] xri=(\S*) `)

// checkAnswer fails t unless a is an answer the proxy may give to req.
func checkAnswer(t *testing.T, req string, a answer) {
	if a.closed {
		return
	}
	if !fuzzStatus[a.status] && (a.status < 400 || a.status > 499) {
		t.Fatalf("status %d for %q (body %.200q)", a.status, req, a.body)
	}
	if a.status != 200 || !strings.HasPrefix(a.body, "uri=") {
		return
	}
	m := echoed.FindStringSubmatch(a.body)
	if m == nil || m[1] != "127.0.0.1" || m[2] != "127.0.0.1" {
		t.Fatalf("the backend saw forwarded headers other than the peer's for %q: %q", req, a.body)
	}
}
