package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// TestBinaryGRPC: a gRPC client through the real binary's plain entry
// point (h2c) to a gRPC server behind a scheme: h2c service: a unary call,
// a server-streaming call that sees a change as it happens, and a gRPC
// error status, which travels in trailers. Again with metrics and the
// access log on (their stream wrappers must pass trailers and flushing
// through), where the calls count under their grpc-status.
func TestBinaryGRPC(t *testing.T) {
	hs, port := startHealthServer(t, "127.0.0.2")
	for _, observed := range []bool{false, true} {
		t.Run(fmt.Sprintf("observed=%v", observed), func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "grpc.yaml"), manifests("grpc", port, "127.0.0.2")+`---
`+routeYAML("g", "grpc.example", `{name: grpc, port: 80, scheme: h2c}`))
			var extra []string
			maddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			if observed {
				extra = []string{"--metrics.prometheus=true", "--entryPoints.traefik.address=" + maddr,
					"--accessLog=true", "--accessLog.filePath=" + filepath.Join(dir, "access.log")}
			}
			p := startSluice(t, dir, extra...)
			grpcCalls(t, p.addr, hs)
			if observed {
				all := scrape(t, maddr, "x")
				for code, n := range map[string]float64{"0": 1, "5": 1} {
					if got := sum(all, "traefik_service_requests_total", map[string]string{"protocol": "grpc", "code": code}); got != n {
						t.Errorf("gRPC calls with status %s: %v, want %v:\n%s", code, got, n, dump(pick(all, "traefik_service_requests_total", nil)))
					}
				}
			}
		})
	}
	hs.SetServingStatus("shop", healthpb.HealthCheckResponse_SERVING)
}

// grpcCalls makes the calls through addr: unary, an error status, and a
// stream that sees the server's change.
func grpcCalls(t *testing.T, addr string, hs *health.Server) {
	t.Helper()
	hs.SetServingStatus("shop", healthpb.HealthCheckResponse_SERVING)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority("grpc.example"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	res, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "shop"})
	if err != nil || res.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("unary Check: %v %v", res, err)
	}
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"}); status.Code(err) != codes.NotFound {
		t.Fatalf("error status through the proxy: %v, want NotFound", err)
	}
	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []healthpb.HealthCheckResponse_ServingStatus{healthpb.HealthCheckResponse_SERVING, healthpb.HealthCheckResponse_NOT_SERVING} {
		if i == 1 {
			hs.SetServingStatus("shop", healthpb.HealthCheckResponse_NOT_SERVING)
		}
		got, err := stream.Recv()
		if err != nil || got.Status != want {
			t.Fatalf("stream message %d: %v %v, want %v", i, got, err, want)
		}
	}
}

// TestBinaryGRPCHealthCheck: healthCheck mode grpc asks the server's gRPC
// health service; NOT_SERVING takes it out of the rotation (503) and
// SERVING brings it back.
func TestBinaryGRPCHealthCheck(t *testing.T) {
	hs, port := startHealthServer(t, "127.0.0.2") // the server as a whole ("") starts SERVING
	dir := t.TempDir()
	write(t, filepath.Join(dir, "g.yaml"), strings.ReplaceAll(strings.ReplaceAll(`apiVersion: v1
kind: Service
metadata: {name: ext, namespace: e2e}
spec: {type: ExternalName, externalName: 127.0.0.2, ports: [{port: PORT}]}
---
`+routeYAML("g", "g.example", `{name: ext, port: PORT, scheme: h2c, healthCheck: {mode: grpc, interval: 100ms, timeout: 1s}}`), "PORT", fmt.Sprint(port)), "\t", ""))
	p := startSluice(t, dir, "--providers.kubernetesCRD.allowExternalNameServices=true")
	conn, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority("g.example"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	check := func() codes.Code {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		return status.Code(err)
	}
	waitCode := func(want codes.Code) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for check() != want {
			if time.Now().After(deadline) {
				t.Fatalf("calls through the proxy never got %v; logs:\n%s", want, p.log())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitCode(codes.OK)
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	waitCode(codes.Unavailable) // Sluice's 503 becomes Unavailable for gRPC clients
	waitLog(t, p, time.Second, "health check failed; server out of rotation")
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	waitCode(codes.OK)
}

// startHealthServer serves gRPC's health service on ip (a free port) until
// the test ends, with service "shop" SERVING.
func startHealthServer(t *testing.T, ip string) (*health.Server, int) {
	t.Helper()
	ln, err := net.Listen("tcp4", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("shop", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	go gs.Serve(ln)
	t.Cleanup(gs.Stop)
	return hs, ln.Addr().(*net.TCPAddr).Port
}
