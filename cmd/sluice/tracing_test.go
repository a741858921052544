package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// otlpSpan is a span as an OTLP/HTTP JSON receiver decodes it.
type otlpSpan struct {
	TraceID, SpanID, ParentSpanID, Name string
	Kind                                int
	Start, End                          string
	Attrs                               map[string]string
	Status                              int
	Resource                            map[string]string
}

// otlpReceiver is an OTLP/HTTP endpoint on loopback that keeps the spans
// it is sent (JSON encoding).
type otlpReceiver struct {
	mu    sync.Mutex
	spans []otlpSpan
	addr  string
}

func startOTLP(t *testing.T) *otlpReceiver {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &otlpReceiver{addr: ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(o.serve)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return o
}

func (o *otlpReceiver) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "unexpected", 400)
		return
	}
	var req struct {
		ResourceSpans []struct {
			Resource struct {
				Attributes []otlpKV `json:"attributes"`
			} `json:"resource"`
			ScopeSpans []struct {
				Spans []struct {
					TraceID      string   `json:"traceId"`
					SpanID       string   `json:"spanId"`
					ParentSpanID string   `json:"parentSpanId"`
					Name         string   `json:"name"`
					Kind         int      `json:"kind"`
					Start        string   `json:"startTimeUnixNano"`
					End          string   `json:"endTimeUnixNano"`
					Attributes   []otlpKV `json:"attributes"`
					Status       struct {
						Code int `json:"code"`
					} `json:"status"`
				} `json:"spans"`
			} `json:"scopeSpans"`
		} `json:"resourceSpans"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		res := attrMap(rs.Resource.Attributes)
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				o.spans = append(o.spans, otlpSpan{TraceID: s.TraceID, SpanID: s.SpanID, ParentSpanID: s.ParentSpanID, Name: s.Name,
					Kind: s.Kind, Start: s.Start, End: s.End, Attrs: attrMap(s.Attributes), Status: s.Status.Code, Resource: res})
			}
		}
	}
}

type otlpKV struct {
	Key   string `json:"key"`
	Value struct {
		String *string `json:"stringValue"`
		Int    *string `json:"intValue"`
		Array  *struct {
			Values []struct {
				String string `json:"stringValue"`
			} `json:"values"`
		} `json:"arrayValue"`
	} `json:"value"`
}

func attrMap(kvs []otlpKV) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		switch v := kv.Value; {
		case v.String != nil:
			m[kv.Key] = *v.String
		case v.Int != nil:
			m[kv.Key] = *v.Int
		case v.Array != nil:
			var vs []string
			for _, x := range v.Array.Values {
				vs = append(vs, x.String)
			}
			m[kv.Key] = strings.Join(vs, ",")
		}
	}
	return m
}

// trace waits (up to 5 s) for the spans of traceID, n of them.
func (o *otlpReceiver) trace(t *testing.T, traceID string, n int) []otlpSpan {
	t.Helper()
	var got []otlpSpan
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		o.mu.Lock()
		got = nil
		for _, s := range o.spans {
			if s.TraceID == traceID {
				got = append(got, s)
			}
		}
		o.mu.Unlock()
		if len(got) >= n {
			break
		}
	}
	if len(got) != n {
		t.Fatalf("trace %s: %d spans, want %d: %+v", traceID, len(got), n, got)
	}
	return got
}

func (o *otlpReceiver) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.spans)
}

// TestBinaryTracing: with --tracing, a request is traced as Traefik
// traces it: the entry point's server span (named by the method) under
// the client's traceparent, Router, Service and the ReverseProxy client
// span, with their attributes (queries redacted but the safe
// parameters), exported as OTLP/HTTP JSON; the backend receives the
// ReverseProxy span's traceparent. Over HTTP/1.1 and h2c. At sampleRate
// 0 a request without a sampled parent is not traced; with one it is
// (ParentBased).
func TestBinaryTracing(t *testing.T) {
	seen := make(chan string, 16)
	port := namedBackendFunc(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("Traceparent")
		io.WriteString(w, "ok")
	})
	for _, rate := range []string{"1", "0"} {
		t.Run("sampleRate="+rate, func(t *testing.T) {
			otlp := startOTLP(t)
			dir := t.TempDir()
			write(t, filepath.Join(dir, "all.yaml"), manifests("app", port, "127.0.0.2")+"---\n"+routeYAML("app", "app.example", "{name: app, port: 80}"))
			p := startSluice(t, dir, "--tracing=true", "--tracing.otlp.http.endpoint=http://"+otlp.addr,
				"--tracing.sampleRate="+rate, "--tracing.serviceName=edge", "--tracing.resourceAttributes.deployment.environment=test",
				"--tracing.safeQueryParams=keep", "--tracing.capturedRequestHeaders=X-Tenant")
			eventually(t, p.addr, "app.example", "/", 200, "ok")
			drain(seen)
			for _, h2 := range []bool{false, true} {
				const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
				tp := fmt.Sprintf("00-%s-00f067aa0ba902b7-01", traceID)
				if h2 {
					tp = strings.Replace(tp, traceID, "5bf92f3577b34da6a3ce929d0e0e4736", 1)
				}
				sendTraced(t, p.addr, h2, tp)
				sent := <-seen
				spans := otlp.trace(t, tp[3:35], 4)
				checkSpans(t, spans, tp, sent, h2)
			}
			before := otlp.count()
			drain(seen)
			sendTraced(t, p.addr, false, "")
			<-seen
			time.Sleep(1500 * time.Millisecond) // a batch is sent within a second
			if got := otlp.count() - before; (rate == "1") != (got == 4) || rate == "0" && got != 0 {
				t.Errorf("sampleRate %s, no parent: %d spans exported", rate, got)
			}
		})
	}
}

func drain(c chan string) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// sendTraced GETs app.example/path?keep=1&secret=2 with traceparent tp
// (none when empty) and X-Tenant, over HTTP/1.1 or h2c.
func sendTraced(t *testing.T, addr string, h2 bool, tp string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/path?keep=1&secret=2", nil)
	req.Host = "app.example"
	req.Header.Set("X-Tenant", "gold")
	if tp != "" {
		req.Header.Set("Traceparent", tp)
	}
	c := http.DefaultClient
	if h2 {
		c = h2cHTTPClient()
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// checkSpans: the four spans' parents, names, kinds and attributes, and
// the traceparent the backend got (sent) names the ReverseProxy span.
func checkSpans(t *testing.T, spans []otlpSpan, tp, sent string, h2 bool) {
	t.Helper()
	by := map[string]otlpSpan{}
	for _, s := range spans {
		by[s.Name] = s
	}
	ep, rt, svc, px := by["GET"], by["Router"], by["Service"], by["ReverseProxy"]
	if ep.ParentSpanID != "00f067aa0ba902b7" || rt.ParentSpanID != ep.SpanID || svc.ParentSpanID != rt.SpanID || px.ParentSpanID != svc.SpanID {
		t.Errorf("span tree: %+v", spans)
	}
	if ep.Kind != 2 || rt.Kind != 1 || svc.Kind != 1 || px.Kind != 3 {
		t.Errorf("kinds: %d %d %d %d", ep.Kind, rt.Kind, svc.Kind, px.Kind)
	}
	if want := "00-" + tp[3:35] + "-" + px.SpanID + "-01"; sent != want {
		t.Errorf("the backend got traceparent %q, want %q", sent, want)
	}
	proto := "1.1"
	if h2 {
		proto = "2"
	}
	for k, v := range map[string]string{"entry_point": "web", "http.request.method": "GET", "url.path": "/path",
		"url.query": "keep=1&secret=REDACTED", "url.scheme": "http", "server.address": "app.example", "client.address": "127.0.0.1",
		"http.response.status_code": "200", "network.protocol.version": proto, "http.request.header.x-tenant": "gold"} {
		if ep.Attrs[k] != v {
			t.Errorf("entry point span %s = %q, want %q (%v)", k, ep.Attrs[k], v, ep.Attrs)
		}
	}
	if !strings.HasPrefix(rt.Attrs["traefik.router.name"], "e2e-app-") || rt.Attrs["http.route"] != "Host(`app.example`)" ||
		!strings.HasPrefix(svc.Attrs["traefik.service.name"], "e2e-app-") {
		t.Errorf("router / service spans: %v %v", rt.Attrs, svc.Attrs)
	}
	if !strings.HasPrefix(px.Attrs["url.full"], "http://127.0.0.2:") || px.Attrs["http.response.status_code"] != "200" {
		t.Errorf("proxy span: %v", px.Attrs)
	}
	if ep.Resource["service.name"] != "edge" || ep.Resource["deployment.environment"] != "test" {
		t.Errorf("resource: %v", ep.Resource)
	}
	if ep.Start > ep.End || px.Start < ep.Start {
		t.Errorf("times: %+v", spans)
	}
}
