package service

import (
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// recorder is a leaf service that answers with its name and counts the
// requests it served.
type recorder struct {
	name string
	n    atomic.Int64
}

func (r *recorder) Serve(x *pipeline.Exchange) {
	r.n.Add(1)
	x.Resp.SetBodyString(r.name)
}

func (r *recorder) Describe(b *strings.Builder, indent string) {
	b.WriteString(indent + "recorder " + r.name)
}
func (r *recorder) EachLoadBalancer(func(*LoadBalancer)) {}

var testEP = &pipeline.EntryPoint{Name: "web", ServerName: []byte("sluice-test")}

// serveOne serves one GET / request from client, with a Cookie header if
// cookie is not empty, through s; it returns the body and the Set-Cookie
// header of the answer.
func serveOne(t *testing.T, s Service, client netip.Addr, cookie string) (body, setCookie string) {
	t.Helper()
	var req fasthttp.Request
	req.SetRequestURI("/")
	req.Header.SetHost("a.example")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: client.AsSlice(), Port: 4000}, nil)
	x := pipeline.Acquire()
	defer pipeline.Release(x)
	if !x.BeginHTTP1(&ctx, testEP, client, nil) {
		t.Fatal("request refused")
	}
	s.Serve(x)
	return string(x.Resp.Body()), string(x.Resp.Header.Peek("Set-Cookie"))
}
