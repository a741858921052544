package upstream

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"

	"golang.org/x/net/http2"
)

// RoundTripper returns the endpoint's net/http transport, made on first
// use: HTTP/2 with prior knowledge for h2c (gRPC), Go's transport for http
// and https. It serves HTTP/2 clients (and HTTP/1.1 clients of h2c
// servers); HTTP/1.1 to http/https servers keeps the fasthttp pool.
func (e *Endpoint) RoundTripper() http.RoundTripper {
	e.rtOnce.Do(func() {
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			return e.Client.Dial(addr)
		}
		switch e.Scheme {
		case "h2c":
			e.rt = &http2.Transport{AllowHTTP: true,
				DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
					return dial(ctx, network, addr)
				}}
		default:
			idle := 64
			if e.maxIdle > 0 {
				idle = e.maxIdle
			}
			t := &http.Transport{DialContext: dial, ForceAttemptHTTP2: !e.noHTTP2, MaxIdleConnsPerHost: idle,
				IdleConnTimeout: e.Client.MaxIdleConnDuration}
			if e.Client.TLSConfig != nil {
				t.TLSClientConfig = e.Client.TLSConfig.Clone()
			}
			e.rt = t
		}
	})
	return e.rt
}
