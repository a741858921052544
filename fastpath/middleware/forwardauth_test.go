package middleware

import (
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// authServer serves a 200 with X-User on loopback until the test ends.
func authServer(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-User", "alice")
	})}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/check"
}

func authClientForTest() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr}
}

// BenchmarkForwardAuth is what forwardAuth adds to the auth server's own
// round trip: "auth server alone" is Go's client sending it the request
// forwardAuth sends (the same headers), "through forwardAuth" a request
// passed on after that check (the exchange begun, the auth request built,
// the answer read, X-User copied into the request).
func BenchmarkForwardAuth(b *testing.B) {
	addr := authServer(b)
	client := authClientForTest()
	trust := true
	fa := ForwardAuth{Address: addr, TrustForwardHeader: &trust, AuthResponseHeaders: []string{"X-User"},
		MaxBodySize: -1, MaxResponseBodySize: -1, Client: client}
	const raw = "GET /p?q=1 HTTP/1.1\r\nHost: a.example\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
	// The request forwardAuth sends, headers and all, for the baseline.
	x, _ := begin(b, raw, "10.0.0.1")
	built, err := fa.build()
	if err != nil {
		b.Fatal(err)
	}
	sample, _ := built.authRequest(x)
	pipeline.Release(x)
	b.Run("auth server alone", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			req, _ := http.NewRequest("GET", addr, nil)
			req.Header = sample.Header.Clone()
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("through forwardAuth", func(b *testing.B) {
		mw, err := fa.Middleware()
		if err != nil {
			b.Fatal(err)
		}
		h := mw(pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			if string(x.Out.Header.Peek("X-User")) != "alice" {
				b.Fatal("not passed on")
			}
		}))
		b.ReportAllocs()
		for range b.N {
			x, _ := begin(b, raw, "10.0.0.1")
			h.Serve(x)
			pipeline.Release(x)
		}
	})
}

// TestForwardAuthHeaders: the auth request's headers in each of Traefik's
// modes (trustForwardHeader unset, false, true with authRequestHeaders).
func TestForwardAuthHeaders(t *testing.T) {
	f, no, yes := (*bool)(nil), false, true
	for _, c := range []struct {
		name  string
		trust *bool
		keep  []string
		want  map[string]string // "" : absent
	}{
		{"unset", f, nil, map[string]string{"X-Forwarded-For": "10.0.0.1", "X-Forwarded-Method": "POST", "X-Forwarded-Uri": "/p?q=1",
			"X-Forwarded-Host": "a.example", "X-Forwarded-Proto": "http", "X-Custom": "", "X-Forwarded-Prefix": "/pre", "User-Agent": "bench"}},
		{"false", &no, nil, map[string]string{"X-Forwarded-For": "10.0.0.1", "X-Forwarded-Prefix": "", "X-Forwarded-Port": "80", "User-Agent": "bench"}},
		{"true, kept", &yes, []string{"Accept"}, map[string]string{"X-Forwarded-For": "10.0.0.1", "Accept": "*/*", "User-Agent": "",
			"X-Forwarded-Prefix": "/pre", "X-Forwarded-Method": "POST"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := &forwardAuth{ForwardAuth: ForwardAuth{TrustForwardHeader: c.trust}, reqHeaders: c.keep}
			if c.trust != nil && *c.trust && len(c.keep) > 0 {
				a.reqHeaders = append(a.reqHeaders, managedXHeaders...)
			}
			x, _ := begin(t, "POST /p?q=1 HTTP/1.1\r\nHost: a.example\r\nUser-Agent: bench\r\nAccept: */*\r\nX-Custom: 1\r\n"+
				"Connection: X-Custom\r\nX-Forwarded-Prefix: /pre\r\nContent-Length: 0\r\n\r\n", "10.0.0.1")
			defer pipeline.Release(x)
			req, _ := http.NewRequest("GET", "http://auth/", nil)
			a.authHeaders(x, req)
			for k, v := range c.want {
				if got := req.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q (all: %v)", k, got, v, req.Header)
				}
			}
		})
	}
}
