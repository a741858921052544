//go:build !race

package fastpath

import (
	"net"
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkProxiedRequest: one whole request through the handler to an
// in-memory fasthttp backend (prepare, lookup, pick, rewrite, forward).
func BenchmarkProxiedRequest(b *testing.B) {
	h, stop := inmemProxy(b)
	defer stop()
	var req fasthttp.Request
	req.Header.SetMethod("GET")
	req.SetRequestURI("/api/users?id=1")
	req.Header.SetHost("a.example")
	req.Header.Set("User-Agent", "bench")
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555}, nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		req.CopyTo(&ctx.Request)
		ctx.Response.Reset()
		h.Serve(&ctx)
	}
}
