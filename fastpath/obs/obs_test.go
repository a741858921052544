package obs

import (
	"crypto/tls"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestExposition(t *testing.T) {
	r := NewRegistry(Options{EntryPoints: true, Routers: true, Services: true})
	r.Begin()
	ep, rt, svc := r.EntryPoint("web"), r.Router("r@kubernetescrd", "s@kubernetescrd"), r.Service("s@kubernetescrd")
	r.End()
	for _, h := range []*Handle{ep, rt, svc} {
		h.Observe(200, Method([]byte("GET")), ProtoHTTP, 50*time.Millisecond, 10, 100)
		h.Observe(200, Method([]byte("GET")), ProtoHTTP, 2*time.Second, 0, 5)
		h.Observe(404, Method([]byte("BREW")), ProtoGRPC, 0, 0, 0)
		h.ObserveTLS(tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256)
	}
	var b strings.Builder
	r.WriteTo(&b)
	out := b.String()
	for _, want := range []string{
		`traefik_entrypoint_requests_total{code="200",entrypoint="web",method="GET",protocol="http"} 2`,
		`traefik_entrypoint_requests_total{code="404",entrypoint="web",method="EXTENSION_METHOD",protocol="grpc"} 1`,
		`traefik_entrypoint_request_duration_seconds_bucket{code="200",entrypoint="web",method="GET",protocol="http",le="0.1"} 1`,
		`traefik_entrypoint_request_duration_seconds_bucket{code="200",entrypoint="web",method="GET",protocol="http",le="1.2"} 1`,
		`traefik_entrypoint_request_duration_seconds_bucket{code="200",entrypoint="web",method="GET",protocol="http",le="5"} 2`,
		`traefik_entrypoint_request_duration_seconds_bucket{code="200",entrypoint="web",method="GET",protocol="http",le="+Inf"} 2`,
		`traefik_entrypoint_request_duration_seconds_sum{code="200",entrypoint="web",method="GET",protocol="http"} 2.05`,
		`traefik_entrypoint_request_duration_seconds_count{code="200",entrypoint="web",method="GET",protocol="http"} 2`,
		`traefik_entrypoint_requests_bytes_total{code="200",entrypoint="web",method="GET",protocol="http"} 10`,
		`traefik_entrypoint_responses_bytes_total{code="200",entrypoint="web",method="GET",protocol="http"} 105`,
		`traefik_entrypoint_requests_tls_total{entrypoint="web",tls_cipher="TLS_AES_128_GCM_SHA256",tls_version="1.3"} 1`,
		`traefik_router_requests_total{code="200",method="GET",protocol="http",router="r@kubernetescrd",service="s@kubernetescrd"} 2`,
		`traefik_router_requests_tls_total{router="r@kubernetescrd",service="s@kubernetescrd",tls_cipher="TLS_AES_128_GCM_SHA256",tls_version="1.3"} 1`,
		`traefik_service_requests_total{code="200",method="GET",protocol="http",service="s@kubernetescrd"} 2`,
		"# TYPE traefik_service_request_duration_seconds histogram",
		"traefik_config_reloads_total 0",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
	// A build without the router drops its series; the entry point's stay.
	r.Begin()
	r.Service("s@kubernetescrd")
	r.End()
	b.Reset()
	r.WriteTo(&b)
	if strings.Contains(b.String(), `router="r@kubernetescrd"`) || !strings.Contains(b.String(), `entrypoint="web"`) {
		t.Errorf("after the router went:\n%s", b.String())
	}
}

func TestMethodsAreBounded(t *testing.T) {
	for m, want := range map[string]string{"GET": "GET", "PRI": "PRI", "get": "EXTENSION_METHOD", "X\xffY": "NON_UTF8_HTTP_METHOD", "": "EXTENSION_METHOD"} {
		if got := methodNames[Method([]byte(m))]; got != want {
			t.Errorf("%q: %s, want %s", m, got, want)
		}
	}
}

// Observe allocates nothing once a combination has its cell, and many
// goroutines count exactly.
func TestObserveAllocatesNothing(t *testing.T) {
	h := NewRegistry(Options{Routers: true}).Router("r", "s")
	h.Observe(200, 0, ProtoHTTP, time.Millisecond, 1, 1)
	if n := testing.AllocsPerRun(1000, func() { h.Observe(200, 0, ProtoHTTP, time.Millisecond, 1, 1) }); n != 0 {
		t.Fatalf("%v allocations per Observe", n)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				h.Observe(100+i%300, uint8(i%12), uint8(i%5), time.Millisecond, 1, 1)
			}
		}()
	}
	wg.Wait()
	var total uint64
	h.each(func(c *cell) { total += c.count.Load() })
	if total != 9002 { // one, AllocsPerRun's 1,001, the goroutines' 8,000
		t.Fatalf("counted %d, want 9002", total)
	}
}

func BenchmarkObserve(b *testing.B) {
	h := NewRegistry(Options{Routers: true}).Router("r", "s")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Observe(200, 0, ProtoHTTP, time.Millisecond, 100, 1000)
		}
	})
}

func BenchmarkObserveOne(b *testing.B) {
	h := NewRegistry(Options{Routers: true}).Router("r", "s")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h.Observe(200, 0, ProtoHTTP, time.Millisecond, 100, 1000)
	}
}

// BenchmarkExposition100k: the exposition of 100k routers (router labels
// on) and their 100k services, each with one served combination: the time
// and bytes of one scrape, and the heap the handles and cells hold
// (heap-bytes/series, reported once).
func BenchmarkExposition100k(b *testing.B) {
	const n = 100_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := NewRegistry(Options{EntryPoints: true, Routers: true, Services: true})
	r.Begin()
	for i := range n {
		svc := "ns-svc" + strconv.Itoa(i) + "-80@kubernetescrd"
		r.Router("ns-route"+strconv.Itoa(i)+"-0123456789abcdef0123@kubernetescrd", svc).Observe(200, 0, ProtoHTTP, time.Millisecond, 0, 100)
		r.Service(svc).Observe(200, 0, ProtoHTTP, time.Millisecond, 0, 100)
	}
	r.End()
	runtime.GC()
	runtime.ReadMemStats(&after)
	var w countWriter
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w = 0
		r.WriteTo(&w)
	}
	b.ReportMetric(float64(w), "bytes/scrape")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(2*n), "heap-bytes/handle")
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

type peeker map[string]string

func (p peeker) Peek(k string) []byte { return []byte(p[k]) }

// Header labels: counted by value without allocating once seen, written
// with every label sorted.
func TestHeaderLabels(t *testing.T) {
	r := NewRegistry(Options{EntryPoints: true, HeaderLabels: map[string]string{"tenant": "X-Tenant", "a_first": "X-A"}})
	h := r.EntryPoint("web")
	hd := peeker{"X-Tenant": "gold"}
	h.CountHeaders(200, 0, ProtoHTTP, hd)
	if n := testing.AllocsPerRun(100, func() { h.CountHeaders(200, 0, ProtoHTTP, hd) }); n > 1 { // the peeker's []byte conversion
		t.Errorf("%v allocations per count", n)
	}
	h.Observe(200, 0, ProtoHTTP, time.Millisecond, 0, 0)
	var b strings.Builder
	r.WriteTo(&b)
	want := `traefik_entrypoint_requests_total{a_first="",code="200",entrypoint="web",method="GET",protocol="http",tenant="gold"} 102` + "\n"
	if !strings.Contains(b.String(), want) || strings.Contains(b.String(), `traefik_entrypoint_requests_total{code="200",entrypoint="web",method="GET",protocol="http"}`) {
		t.Errorf("exposition lacks %s or has the plain series:\n%s", want, b.String())
	}
}

// Header labels are bounded: past the registry's limit, requests with
// new values count in one series per code, method and protocol whose
// header labels are OverflowValue; the series of a dropped router are
// given back.
func TestHeaderLabelsBounded(t *testing.T) {
	r := NewRegistry(Options{Routers: true, HeaderLabels: map[string]string{"tenant": "X-Tenant"}})
	r.hl.max = 3
	r.Begin()
	a := r.Router("a", "s")
	r.End()
	for _, v := range []string{"t1", "t2", "t3", "t4", "t5", "t1", "t5"} {
		a.CountHeaders(200, 0, ProtoHTTP, peeker{"X-Tenant": v})
	}
	var b strings.Builder
	r.WriteTo(&b)
	for _, want := range []string{`tenant="t1"} 2`, `tenant="t3"} 1`, `tenant="sluice_overflow"} 3`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("exposition lacks %s:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), `tenant="t4"`) || r.hl.series.Load() != 3 {
		t.Errorf("%d series counted, or t4 has one:\n%s", r.hl.series.Load(), b.String())
	}
	r.Begin() // a new table without router a, with router c
	c := r.Router("c", "s")
	r.End()
	c.CountHeaders(200, 0, ProtoHTTP, peeker{"X-Tenant": "t9"})
	b.Reset()
	r.WriteTo(&b)
	if !strings.Contains(b.String(), `router="c",service="s",tenant="t9"} 1`) || r.hl.series.Load() != 1 {
		t.Errorf("%d series after router a went; want c's t9 alone:\n%s", r.hl.series.Load(), b.String())
	}
}
