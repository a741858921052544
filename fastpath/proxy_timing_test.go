//go:build !race

package fastpath

import (
	"testing"
)

// BenchmarkProxiedRequest: one whole request through the handler to an
// in-memory fasthttp backend (prepare, lookup, pick, rewrite, forward).
func BenchmarkProxiedRequest(b *testing.B) {
	h, stop := inmemProxy(b)
	defer stop()
	serve := inmemRequest(h, "/api/users?id=1", "a.example", "User-Agent", "bench")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		serve()
	}
}
