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
// and https. It serves h2c servers; the others are reached through the
// fasthttp pool. A proxy is used as the pool uses it: a CONNECT or SOCKS5
// tunnel for h2c, Go's own proxying for the others.
func (e *Endpoint) RoundTripper() http.RoundTripper {
	e.rtOnce.Do(func() {
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			return e.Client.Dial(addr) // through the proxy's tunnel, if any
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
			t := &http.Transport{DialContext: dialContext(e.rawDialOrDefault()), Proxy: e.proxy.proxyFunc(), ForceAttemptHTTP2: !e.noHTTP2,
				MaxIdleConnsPerHost: idle, IdleConnTimeout: e.Client.MaxIdleConnDuration}
			if e.Client.TLSConfig != nil {
				t.TLSClientConfig = e.Client.TLSConfig.Clone()
			}
			e.rt = t
		}
	})
	return e.rt
}
