// Package smuggle is a corpus of request-smuggling and parsing attacks on
// HTTP/1.1 (issue 25), shared by Sluice's binary test
// (cmd/sluice/smuggling_e2e_test.go) and the bench harness's comparison
// with HAProxy and nginx (bench/smuggle.sh, cmd/smuggle). Each case is raw
// bytes, with a request pipelined behind; what a proxy answers first, and
// whether it then closes or serves the pipelined request, is what is
// compared.
package smuggle

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Case is one hostile request: raw bytes sent on a fresh connection, then
// Smuggled pipelined behind them. A careful proxy answers the first and
// then either closes or serves the pipelined request as its own; it never
// lets the server see a request the client did not frame as one (/smuggled
// inside a body, or a request after the connection's framing was lost).
// Status and Closes are what Sluice does (its binary test checks them).
type Case struct {
	Name   string
	Raw    string
	Status int  // first answer's status (Sluice's); 200 for a served request
	Closes bool // the connection closes after the first answer (Sluice)
}

// Smuggled is the request pipelined behind each case's bytes.
const Smuggled = "GET /smuggled HTTP/1.1\r\nHost: h.test\r\n\r\n"

// Corpus is the hostile requests, for the Host h.test (Requests puts
// another host in).
var Corpus = []Case{
	{"CL+TE: chunked wins, then close", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200, true},
	{"TE+CL: chunked wins, then close", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200, true},
	{"CL+TE lower case", "POST /a HTTP/1.1\r\nHost: h.test\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200, true},
	{"duplicate equal Content-Length", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400, true},
	{"duplicate differing Content-Length", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc", 400, true},
	{"Content-Length list", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length: 3, 3\r\n\r\nabc", 400, true},
	{"Content-Length with a sign", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length: +3\r\n\r\nabc", 400, true},
	{"negative Content-Length", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length: -1\r\n\r\nabc", 400, true},
	{"space before the colon", "POST /a HTTP/1.1\r\nHost: h.test\r\nContent-Length : 3\r\n\r\nabc", 400, true},
	{"TE chunked, identity", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501, true},
	{"TE identity, chunked", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: identity, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501, true},
	{"TE xchunked", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: xchunked\r\nContent-Length: 3\r\n\r\nabc", 501, true},
	{"two TE headers", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501, true},
	// fasthttp joins the folded line: chunked, and "abc" is no chunk (as below).
	{"TE obs-fold", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 3\r\n\r\nabc", 502, true},
	{"TE on HTTP/1.0", "POST /a HTTP/1.0\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400, true},
	{"TE with a tab", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding:\tchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200, false},
	// A body that breaks its framing is found while it is forwarded: the
	// server's request fails (502, as Go's ReverseProxy answers when the
	// body cannot be read) and the connection closes, its framing lost.
	{"invalid chunk size", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 502, true},
	{"chunk size overflow", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nabc\r\n0\r\n\r\n", 502, true},
	// fasthttp reads a long chunk extension and drops it (one view: the
	// server gets the body re-chunked); the read timeout bounds its length.
	{"long chunk extension", "POST /a HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\n3;" + strings.Repeat("x", 8192) + "\r\nabc\r\n0\r\n\r\n", 200, false},
	{"bare CR in a header", "GET /a HTTP/1.1\r\nHost: h.test\r\nX-A: 1\rX-B: 2\r\n\r\n", 400, true},
	{"NUL in a header value", "GET /a HTTP/1.1\r\nHost: h.test\r\nX-A: a\x00b\r\n\r\n", 400, true},
	{"control byte in a header name", "GET /a HTTP/1.1\r\nHost: h.test\r\nX\x01A: 1\r\n\r\n", 400, true},
	{"space in a header name", "GET /a HTTP/1.1\r\nHost: h.test\r\nX A: 1\r\n\r\n", 400, true},
	{"two Host headers", "GET /a HTTP/1.1\r\nHost: h.test\r\nHost: other.test\r\n\r\n", 400, true},
	{"HTTP/1.1 without Host", "GET /a HTTP/1.1\r\n\r\n", 400, true},
	{"HTTP/0.9", "GET /a\r\n\r\n", 400, true},
	{"unknown version", "GET /a HTTP/3.7\r\nHost: h.test\r\n\r\n", 505, true},
	{"request line over the limit", "GET /" + strings.Repeat("a", 2<<20) + " HTTP/1.1\r\nHost: h.test\r\n\r\n", 431, true},
	{"absolute form routes by its authority", "GET http://h.test/a HTTP/1.1\r\nHost: other.test\r\n\r\n", 200, false},
	{"bare LF line ends", "GET /a HTTP/1.1\nHost: h.test\n\n", 200, false},
	{"Expect 100-continue", "POST /a HTTP/1.1\r\nHost: h.test\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", 200, false},
}

// Requests is raw with the Host h.test replaced by host, and Smuggled
// behind it.
func Requests(c Case, host string) string {
	return strings.ReplaceAll(c.Raw+Smuggled, "h.test", host)
}

// Exchange writes raw on a new connection and reads answers until the
// connection closes or stays quiet for a second; it returns their statuses.
func Exchange(addr, raw string) ([]int, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	go func() { _, _ = io.WriteString(c, raw) }()
	br := bufio.NewReader(c)
	var statuses []int
	for {
		c.SetReadDeadline(time.Now().Add(time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return statuses, nil
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 100 {
			continue
		}
		statuses = append(statuses, resp.StatusCode)
		if resp.Close {
			return statuses, nil
		}
	}
}

// Server stands behind a proxy: it reads requests with Go's strict
// HTTP/1.1 reader, keeps each as "METHOD URI (N B)", and answers each with
// Answer, written as is (a server answering in smuggling patterns too).
type Server struct {
	Answer string
	mu     sync.Mutex
	seen   []string
}

// Serve accepts on ln until it is closed.
func (s *Server) Serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go s.conn(c)
	}
}

func (s *Server) conn(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		n, _ := io.Copy(io.Discard, req.Body)
		s.mu.Lock()
		s.seen = append(s.seen, fmt.Sprintf("%s %s (%d B)", req.Method, req.URL.RequestURI(), n))
		s.mu.Unlock()
		if _, err := io.WriteString(c, s.Answer); err != nil {
			return
		}
	}
}

// Take returns the requests read since the last Take.
func (s *Server) Take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.seen
	s.seen = nil
	return seen
}
