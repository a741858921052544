package fastpath

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/middleware"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// mwKinds is one middleware of every kind that works on the request and
// the response alone, each served on host m<i>.example, and all of them
// that let a request through on all.example.
var mwKinds = []interface {
	Middleware() (pipeline.Middleware, error)
}{
	middleware.AddPrefix{Prefix: "/pre"},
	middleware.StripPrefix{Prefixes: []string{"/a", "/b/"}},
	middleware.StripPrefixRegex{Regex: []string{"/v[0-9]+"}},
	middleware.ReplacePath{Path: "/replaced"},
	middleware.ReplacePathRegex{Regex: "^/r/(.*)", Replacement: "/x/$1"},
	middleware.RedirectScheme{Scheme: "https", Permanent: true},
	middleware.RedirectRegex{Regex: "^http://([^/]+)/old/(.*)", Replacement: "http://$1/new/$2"},
	middleware.Headers{CustomRequestHeaders: map[string]string{"X-A": "1", "X-Forwarded-For": ""}, CustomResponseHeaders: map[string]string{"X-B": "2"},
		AccessControlAllowOriginList: []string{"*"}, AccessControlAllowMethods: []string{"GET"}, AddVaryHeader: true, FrameDeny: true,
		AllowedHosts: []string{"m7.example", "all.example"}, ContentSecurityPolicy: "default-src $NONCE"},
	middleware.BasicAuth{Users: []string{"u:{SHA}qvTGHdzF6KLavt4PO0gs2a6pQ00="}, HeaderField: "X-User"},
	middleware.DigestAuth{Users: []string{"u:traefik:aa78524fceb0e50fd8ca96dd818b8cf9"}},
	middleware.IPAllowList{SourceRange: []string{"127.0.0.0/8"}, Strategy: &middleware.IPStrategy{Depth: 1}},
	middleware.ContentType{},
	middleware.Buffering{MaxRequestBodyBytes: 64, MaxResponseBodyBytes: 1 << 20},
	middleware.Compress{Encodings: []string{"gzip", "br", "zstd"}, MinResponseBodyBytes: 1},
	middleware.EncodedCharacters{},
	middleware.PassTLSClientCert{PEM: true},
	middleware.GrpcWeb{AllowOrigins: []string{"*"}},
	stateful(func() (pipeline.Middleware, error) {
		return middleware.CircuitBreaker{Expression: "NetworkErrorRatio() > 0.9"}.Middleware(middleware.NewBreakerState())
	}),
	middleware.Retry{Attempts: 2, Status: [][2]int{{500, 599}}, MaxRequestBodyBytes: 1 << 10},
	stateful(func() (pipeline.Middleware, error) {
		return middleware.RateLimit{Average: 1 << 30, Burst: 1 << 20}.Middleware(middleware.NewRateLimitState())
	}),
	stateful(func() (pipeline.Middleware, error) {
		return middleware.InFlightReq{Amount: 100, Source: &middleware.SourceCriterion{RequestHeaderName: "X-Key"}}.Middleware(middleware.NewInFlightCounts())
	}),
}

// stateful adapts a kind built on its state to mwKinds.
type stateful func() (pipeline.Middleware, error)

func (s stateful) Middleware() (pipeline.Middleware, error) { return s() }

// FuzzMiddlewareRequest: arbitrary requests through routes carrying
// every kind of middleware get a well-formed answer and leave the proxy
// serving; a 500 only where a middleware answers one on purpose
// (replacePath's invalid escape, digestAuth's malformed parameters).
func FuzzMiddlewareRequest(f *testing.F) {
	for i := range mwKinds {
		host := fmt.Sprintf("m%d.example", i)
		for _, s := range []string{
			"GET /a/b HTTP/1.1\r\nHost: " + host + "\r\n\r\n",
			"GET /old/x?q=1 HTTP/1.1\r\nHost: " + host + "\r\nAccept-Encoding: gzip, br;q=0.5\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n",
			"OPTIONS /r/%2e%2e/x HTTP/1.1\r\nHost: " + host + "\r\nOrigin: http://o\r\nAccess-Control-Request-Method: GET\r\n\r\n",
			"POST /v2/%5c HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Basic dTpoZWxsbw==\r\nContent-Length: 3\r\n\r\nabc",
			"GET / HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Digest username=\"u\", uri=\"/\", nc=zz, opaque=\r\n\r\n",
		} {
			f.Add(s)
		}
	}
	f.Add("PUT /b/c HTTP/1.1\r\nHost: all.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	f.Add("POST /s/M HTTP/1.1\r\nHost: all.example\r\nContent-Type: application/grpc-web-text\r\nOrigin: http://o\r\nContent-Length: 9\r\n\r\nAAAAAAF!=")
	addr := mwFuzzProxy(f)
	f.Fuzz(func(t *testing.T, req string) {
		if len(req) > 64<<10 {
			return
		}
		a := exchange(t, addr, req)
		if !a.closed && (a.status < 100 || a.status > 599 || a.status > 500 && !fuzzStatus[a.status]) {
			t.Fatalf("status %d for %q (body %.200q)", a.status, req, a.body)
		}
		if st, _, _ := raw(t, addr, "GET /alive HTTP/1.1\r\nHost: a.example\r\n\r\n"); st != 200 {
			t.Fatalf("after %q the proxy answers a plain request with %d", req, st)
		}
	})
}

// mwFuzzProxy serves m<i>.example through mwKinds[i], all.example through
// every kind that passes requests on, and a.example plainly.
func mwFuzzProxy(t testing.TB) string {
	reg := upstream.NewRegistry(upstream.Options{})
	be := backend(t)
	lb := service.NewLoadBalancer("be", true, []service.Server{{URL: "http://" + be, Endpoint: reg.Get("http", be)}})
	b := route.NewBuilder([]string{"web"})
	add := func(host string, h pipeline.Handler) {
		r := &route.Route{Name: host, Priority: 1, EntryPoints: []string{"web"}, Target: lb, Handler: h}
		b.Add(r, []route.Entry{{HostKind: route.HostExact, HostKey: host, Cand: route.Cand{Lits: []route.Lit{lit(match.Host, host)}}}})
	}
	var all []pipeline.Middleware
	for i, k := range mwKinds {
		mw, err := k.Middleware()
		if err != nil {
			t.Fatalf("kind %d: %v", i, err)
		}
		add(fmt.Sprintf("m%d.example", i), pipeline.Chain(lb, mw))
		switch k.(type) {
		case middleware.RedirectScheme, middleware.BasicAuth, middleware.DigestAuth:
		default:
			all = append(all, mw)
		}
	}
	add("all.example", pipeline.Chain(lb, all...))
	add("a.example", lb)
	var tp atomic.Pointer[route.Table]
	tp.Store(b.Build())
	s := NewServer(NewHandler(&tp, Config{EntryPoint: "web", ServerName: "sluice-test"}))
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown() })
	return ln.Addr().String()
}
