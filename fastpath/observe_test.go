//go:build !race

package fastpath

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluiceproxy/sluice/fastpath/accesslog"
	"github.com/sluiceproxy/sluice/fastpath/obs"
	"github.com/sluiceproxy/sluice/fastpath/service"
)

// TestProxyMetricsZeroAlloc: with entry point, router and service
// metrics on, a proxied request still allocates nothing, and is counted
// at each level with Traefik's labels.
func TestProxyMetricsZeroAlloc(t *testing.T) {
	h, stop := inmemProxy(t)
	defer stop()
	reg := obs.NewRegistry(obs.Options{EntryPoints: true, Routers: true, Services: true})
	h.cfg.Metrics, h.cfg.MetricsRoutes = reg.EntryPoint("web"), true
	for _, r := range h.table.Load().Routes {
		r.Obs = reg.Router(r.Name, "svc")
		r.Target.(*service.LoadBalancer).Obs = reg.Service("svc")
	}
	serve := inmemRequest(h, "/api/users?id=1", "a.example")
	zeroAllocs(t, "proxied request with metrics", 1000, func() {
		if ctx := serve(); ctx.Response.StatusCode() != 200 {
			t.Fatalf("status %d", ctx.Response.StatusCode())
		}
	})
	var b strings.Builder
	reg.WriteTo(&b)
	for _, want := range []string{
		`traefik_entrypoint_requests_total{code="200",entrypoint="web",method="GET",protocol="http"} 1021`,
		`traefik_router_requests_total{code="200",method="GET",protocol="http",router="r",service="svc"} 1021`,
		`traefik_service_requests_total{code="200",method="GET",protocol="http",service="svc"} 1021`,
		`traefik_service_responses_bytes_total{code="200",method="GET",protocol="http",service="svc"} 5105`,
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("lacks %s", want)
		}
	}
}

// Traefik's protocol values, from the request's headers.
func TestMetricsProtocol(t *testing.T) {
	for _, c := range []struct {
		hdr  []string
		want uint8
	}{
		{nil, obs.ProtoHTTP},
		{[]string{"Connection", "keep-alive, Upgrade", "Upgrade", "WebSocket"}, obs.ProtoWebsocket},
		{[]string{"Upgrade", "websocket"}, obs.ProtoHTTP}, // no Connection: upgrade
		{[]string{"Accept", "text/html, text/event-stream"}, obs.ProtoSSE},
		{[]string{"Content-Type", "application/grpc-web+proto"}, obs.ProtoGRPCWeb},
		{[]string{"Content-Type", "application/grpc"}, obs.ProtoGRPC},
	} {
		h, stop := inmemProxy(t)
		ctx := inmemRequest(h, "/", "a.example", c.hdr...)()
		if got := protocol(&ctx.Request.Header); got != c.want {
			t.Errorf("%v: %d, want %d", c.hdr, got, c.want)
		}
		stop()
	}
}

// TestProxyAccessLogZeroAlloc: with the access log on (JSON, to a file),
// a proxied request allocates nothing on the request path, and its line
// is written.
func TestProxyAccessLogZeroAlloc(t *testing.T) {
	h, stop := inmemProxy(t)
	defer stop()
	cfg := accesslog.NewConfig()
	cfg.Format, cfg.FilePath = accesslog.JSON, filepath.Join(t.TempDir(), "access.log")
	l, err := accesslog.New(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.cfg.AccessLog = l
	serve := inmemRequest(h, "/api/users?id=1", "a.example")
	zeroAllocs(t, "proxied request with the access log", 1000, func() {
		if ctx := serve(); ctx.Response.StatusCode() != 200 {
			t.Fatalf("status %d", ctx.Response.StatusCode())
		}
	})
	l.Close()
	b, _ := os.ReadFile(cfg.FilePath)
	lines := strings.Count(string(b), "\n")
	if lines+int(l.Dropped()) < 1000 || !strings.Contains(string(b), `"RequestPath":"/api/users?id=1"`) {
		t.Errorf("%d lines written, %d dropped; want every request's:\n%.300s", lines, l.Dropped(), b)
	}
}
