package middleware

import (
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/bench/demo"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// BenchmarkMiddleware is each kind's cost per request: the middleware
// serving a request (its header reset from a template each time) in
// front of a handler that answers 200 with a small body (compress: the
// 100 KiB HTML page). ns/op includes the template copy and the answer,
// the same in every case; "none" is that floor.
func BenchmarkMiddleware(b *testing.B) {
	page := demo.Page()
	cases := []struct {
		name string
		mw   interface {
			Middleware() (pipeline.Middleware, error)
		}
		req  string
		body []byte
	}{
		{"none", nil, "GET /api/users?id=1 HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"addPrefix", AddPrefix{Prefix: "/v1"}, "GET /users?id=1 HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"stripPrefix", StripPrefix{Prefixes: []string{"/api"}}, "GET /api/users?id=1 HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"stripPrefixRegex", StripPrefixRegex{Regex: []string{"/api/v[0-9]+"}}, "GET /api/v2/users HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"replacePath", ReplacePath{Path: "/new"}, "GET /old HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"replacePathRegex", ReplacePathRegex{Regex: "^/api/(.*)", Replacement: "/v2/$1"}, "GET /api/users HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"redirectScheme not taken", RedirectScheme{Scheme: "http"}, "GET /api HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"redirectScheme taken", RedirectScheme{Scheme: "https", Permanent: true}, "GET /api HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"redirectRegex taken", RedirectRegex{Regex: "^http://a.example/(.*)", Replacement: "https://b.example/$1"}, "GET /api HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"headers custom", Headers{CustomRequestHeaders: map[string]string{"X-A": "1", "X-B": ""}, CustomResponseHeaders: map[string]string{"X-C": "3"}},
			"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"headers security", Headers{FrameDeny: true, ContentTypeNosniff: true, BrowserXSSFilter: true, ReferrerPolicy: "same-origin",
			ContentSecurityPolicy: "default-src 'self'", STSSeconds: new(int64)}, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"headers CORS", Headers{AccessControlAllowOriginList: []string{"https://o.example"}, AccessControlAllowMethods: []string{"GET"}, AddVaryHeader: true},
			"GET / HTTP/1.1\r\nHost: a.example\r\nOrigin: https://o.example\r\n\r\n", nil},
		{"headers CORS preflight", Headers{AccessControlAllowOriginList: []string{"https://o.example"}, AccessControlAllowMethods: []string{"GET"}},
			"OPTIONS / HTTP/1.1\r\nHost: a.example\r\nOrigin: https://o.example\r\nAccess-Control-Request-Method: GET\r\n\r\n", nil},
		{"basicAuth SHA", BasicAuth{Users: []string{"test:{SHA}qvTGHdzF6KLavt4PO0gs2a6pQ00="}}, "GET / HTTP/1.1\r\nHost: a.example\r\n" + basicHeader("test", "hello") + "\r\n", nil},
		{"basicAuth bcrypt (cached)", BasicAuth{Users: []string{"test3:$2y$05$ih3C91zUBSTFcAh2mQnZYuob0UOZVEf16wl/ukgjDhjvj.xgM1WwS"}},
			"GET / HTTP/1.1\r\nHost: a.example\r\n" + basicHeader("test3", "hello3") + "\r\n", nil},
		{"basicAuth refused", BasicAuth{Users: []string{"test:{SHA}qvTGHdzF6KLavt4PO0gs2a6pQ00="}}, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"ipAllowList", IPAllowList{SourceRange: []string{"192.168.0.0/16", "10.0.0.0/8"}}, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"ipAllowList depth", IPAllowList{SourceRange: []string{"192.168.0.0/16"}, Strategy: &IPStrategy{Depth: 1}},
			"GET / HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 1.2.3.4, 192.168.1.1\r\n\r\n", nil},
		{"encodedCharacters", EncodedCharacters{}, "GET /a/b%20c/d HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"contentType", ContentType{}, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"retry, success on the first try", Retry{Attempts: 3, Status: [][2]int{{503, 503}}, MaxRequestBodyBytes: 2 << 20}, "GET /api HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"typical chain (bench r1-mw)", typicalChain{}, "GET /api/x HTTP/1.1\r\nHost: a.example\r\n\r\n", nil},
		{"compress gzip 100KiB", Compress{Encodings: []string{"gzip", "br", "zstd"}}, "GET /page HTTP/1.1\r\nHost: a.example\r\nAccept-Encoding: gzip\r\n\r\n", page},
		{"compress br 100KiB", Compress{Encodings: []string{"gzip", "br", "zstd"}}, "GET /page HTTP/1.1\r\nHost: a.example\r\nAccept-Encoding: br\r\n\r\n", page},
		{"compress zstd 100KiB", Compress{Encodings: []string{"gzip", "br", "zstd"}}, "GET /page HTTP/1.1\r\nHost: a.example\r\nAccept-Encoding: zstd\r\n\r\n", page},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			body := c.body
			if body == nil {
				body = []byte("hello")
			}
			next := pipeline.HandlerFunc(func(x *pipeline.Exchange) {
				x.Resp.SetStatusCode(200)
				x.Resp.Header.SetContentType("text/html")
				x.Resp.SetBodyRaw(body)
			})
			var h pipeline.Handler = next
			if c.mw != nil {
				mw, err := c.mw.Middleware()
				if err != nil {
					b.Fatal(err)
				}
				h = mw(next)
			}
			x, ctx := begin(b, c.req, "10.0.0.1")
			defer pipeline.Release(x)
			var tmpl fasthttp.RequestHeader
			x.Out.Header.CopyTo(&tmpl)
			if len(c.body) > 0 {
				b.SetBytes(int64(len(c.body)))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				tmpl.CopyTo(&x.Out.Header)
				ctx.Response.Reset()
				h.Serve(x)
			}
		})
	}
}

// typicalChain is bench/compare.sh r1-mw's chain (genroutes -kind mw):
// redirectScheme not taken, security headers with one custom response
// header, stripPrefix.
type typicalChain struct{}

func (typicalChain) Middleware() (pipeline.Middleware, error) {
	var mws []pipeline.Middleware
	for _, m := range []interface {
		Middleware() (pipeline.Middleware, error)
	}{
		RedirectScheme{Scheme: "http"},
		Headers{FrameDeny: true, ContentTypeNosniff: true, BrowserXSSFilter: true, ReferrerPolicy: "same-origin",
			ContentSecurityPolicy: "default-src 'self'", STSSeconds: ptr(int64(31536000)), CustomResponseHeaders: map[string]string{"X-Served-By": "bench"}},
		StripPrefix{Prefixes: []string{"/api"}},
	} {
		mw, err := m.Middleware()
		if err != nil {
			return nil, err
		}
		mws = append(mws, mw)
	}
	return func(next pipeline.Handler) pipeline.Handler { return pipeline.Chain(next, mws...) }, nil
}

func ptr[T any](v T) *T { return &v }
