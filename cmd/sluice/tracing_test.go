package main

import (
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
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

func startOTLP(t *testing.T) *otlpReceiver { return startOTLPWith(t, nil) }

// startOTLPWith is startOTLP serving HTTPS with cfg (nil: plain HTTP).
func startOTLPWith(t *testing.T, cfg *tls.Config) *otlpReceiver {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
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

// detailedRoute is app.example to the app service, tracing in detail:
// Traefik's Router and Service spans besides the entry point's and the
// ReverseProxy span.
const detailedRoute = "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: app, namespace: e2e}\n" +
	"spec:\n  routes:\n  - match: Host(`app.example`)\n    services: [{name: app, port: 80}]\n    observability: {traceVerbosity: detailed}\n"

// TestBinaryTracing: with --tracing, a request is traced as Traefik
// traces it at traceVerbosity detailed: the entry point's server span
// (named by the method) under the client's traceparent, Router, Service
// and the ReverseProxy client span, with their attributes (queries redacted but the safe
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
			write(t, filepath.Join(dir, "all.yaml"), manifests("app", port, "127.0.0.2")+"---\n"+detailedRoute)
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

// TestBinaryTracingTLS: the exporter's client TLS
// (tracing.otlp.http.tls.{ca,cert,key}) against a receiver that requires
// a client certificate from its CA, and a request traced over HTTPS
// (url.scheme https); a receiver the exporter cannot authenticate to
// gets nothing.
func TestBinaryTracingTLS(t *testing.T) {
	port := namedBackend(t, "127.0.0.2", "app")
	ca := newTestCA(t, "otlp CA")
	dir := t.TempDir()
	srvCrt, srvKey := ca.issue(t, "otlp", "127.0.0.1")
	pair, err := tls.X509KeyPair(srvCrt, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	otlp := startOTLPWith(t, &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool})
	cliCrt, cliKey := ca.issue(t, "sluice")
	write(t, filepath.Join(dir, "ca.pem"), string(ca.pem))
	write(t, filepath.Join(dir, "client.pem"), string(cliCrt))
	write(t, filepath.Join(dir, "client.key"), string(cliKey))
	routes := t.TempDir()
	write(t, filepath.Join(routes, "all.yaml"), manifests("app", port, "127.0.0.2")+"---\n"+routeYAML("app", "app.example", "{name: app, port: 80}")+
		"  tls: {}\n")
	p := startSluice(t, routes, "--tracing=true", "--tracing.otlp.http.endpoint=https://"+otlp.addr,
		"--tracing.otlp.http.tls.ca="+filepath.Join(dir, "ca.pem"), "--tracing.otlp.http.tls.cert="+filepath.Join(dir, "client.pem"),
		"--tracing.otlp.http.tls.key="+filepath.Join(dir, "client.key"))
	const traceID = "6bf92f3577b34da6a3ce929d0e0e4736"
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "app.example"}}}
	deadline := time.Now().Add(5 * time.Second)
	for {
		req, _ := http.NewRequest("GET", "https://"+p.addr+"/path", nil)
		req.Host = "app.example"
		req.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
		resp, err := cl.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("HTTPS request: %v %v", resp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	spans := otlp.trace(t, traceID, 2) // minimal verbosity: the entry point's and the ReverseProxy span
	for _, s := range spans {
		if s.Name == "GET" && s.Attrs["url.scheme"] != "https" {
			t.Errorf("the entry point span of an HTTPS request: url.scheme %q", s.Attrs["url.scheme"])
		}
	}
	// The same receiver, the exporter without its client certificate:
	// the handshake fails, nothing is received, nothing breaks.
	p2 := startSluice(t, routes, "--tracing=true", "--tracing.otlp.http.endpoint=https://"+otlp.addr,
		"--tracing.otlp.http.tls.ca="+filepath.Join(dir, "ca.pem"))
	before := otlp.count()
	eventually(t, p2.addr, "app.example", "/", 404, "") // the route is TLS only
	req, _ := http.NewRequest("GET", "https://"+p2.addr+"/path", nil)
	req.Host = "app.example"
	if resp, err := cl.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTPS request without the exporter's certificate: %v %v", resp, err)
	}
	time.Sleep(1500 * time.Millisecond)
	if got := otlp.count() - before; got != 0 {
		t.Errorf("%d spans reached the receiver from an exporter without a client certificate", got)
	}
}

// rawCodec hands a gRPC server the request's bytes as they came.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// startOTLPGRPC is an OTLP/gRPC collector on loopback: it answers
// TraceService/Export and keeps the spans, decoded from the request's
// bytes with OTLP's own protobuf types (ExportTraceServiceRequest's only
// field is TracesData's: repeated ResourceSpans resource_spans = 1), and
// the metadata of the last call.
func startOTLPGRPC(t *testing.T, tc *tls.Config) (*otlpReceiver, *atomic.Pointer[metadata.MD]) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &otlpReceiver{addr: ln.Addr().String()}
	var md atomic.Pointer[metadata.MD]
	opts := []grpc.ServerOption{grpc.ForceServerCodec(rawCodec{})}
	if tc != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tc)))
	}
	srv := grpc.NewServer(append(opts, grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		if m, _ := grpc.MethodFromServerStream(stream); m != "/opentelemetry.proto.collector.trace.v1.TraceService/Export" {
			return status.Errorf(codes.Unimplemented, "method %s", m)
		}
		var raw []byte
		if err := stream.RecvMsg(&raw); err != nil {
			return err
		}
		var req tracepb.TracesData
		if err := proto.Unmarshal(raw, &req); err != nil || len(req.ProtoReflect().GetUnknown()) > 0 {
			return status.Errorf(codes.InvalidArgument, "not an export request: %v", err)
		}
		if m, ok := metadata.FromIncomingContext(stream.Context()); ok {
			md.Store(&m)
		}
		o.mu.Lock()
		for _, rs := range req.ResourceSpans {
			res := protoAttrs(rs.Resource.Attributes)
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					o.spans = append(o.spans, otlpSpan{TraceID: hex.EncodeToString(s.TraceId), SpanID: hex.EncodeToString(s.SpanId),
						ParentSpanID: hex.EncodeToString(s.ParentSpanId), Name: s.Name, Kind: int(s.Kind),
						Start: strconv.FormatUint(s.StartTimeUnixNano, 10), End: strconv.FormatUint(s.EndTimeUnixNano, 10),
						Attrs: protoAttrs(s.Attributes), Status: int(s.Status.GetCode()), Resource: res})
				}
			}
		}
		o.mu.Unlock()
		empty := []byte{}
		return stream.SendMsg(&empty)
	}))...)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return o, &md
}

func protoAttrs(kvs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.Key] = strconv.FormatInt(v.IntValue, 10)
		case *commonpb.AnyValue_ArrayValue:
			var vs []string
			for _, x := range v.ArrayValue.Values {
				vs = append(vs, x.GetStringValue())
			}
			m[kv.Key] = strings.Join(vs, ",")
		}
	}
	return m
}

// TestBinaryTracingGRPC: --tracing.otlp.grpc.* sends the same spans over
// OTLP/gRPC (protobuf) to a collector, with the headers as metadata,
// over HTTP/1.1 and h2c.
func TestBinaryTracingGRPC(t *testing.T) {
	seen := make(chan string, 16)
	port := namedBackendFunc(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("Traceparent")
		io.WriteString(w, "ok")
	})
	otlp, md := startOTLPGRPC(t, nil)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "all.yaml"), manifests("app", port, "127.0.0.2")+"---\n"+detailedRoute)
	p := startSluice(t, dir, "--tracing.otlp.grpc.endpoint="+otlp.addr, "--tracing.otlp.grpc.insecure=true",
		"--tracing.otlp.grpc.headers.X-Tenant-Key=k1", "--tracing.serviceName=edge", "--tracing.resourceAttributes.deployment.environment=test",
		"--tracing.safeQueryParams=keep", "--tracing.capturedRequestHeaders=X-Tenant")
	eventually(t, p.addr, "app.example", "/", 200, "ok")
	drain(seen)
	for _, h2 := range []bool{false, true} {
		traceID := "7bf92f3577b34da6a3ce929d0e0e4736"
		if h2 {
			traceID = "8bf92f3577b34da6a3ce929d0e0e4736"
		}
		tp := "00-" + traceID + "-00f067aa0ba902b7-01"
		sendTraced(t, p.addr, h2, tp)
		sent := <-seen
		checkSpans(t, otlp.trace(t, traceID, 4), tp, sent, h2)
	}
	if m := md.Load(); m == nil || strings.Join((*m)["x-tenant-key"], ",") != "k1" {
		t.Errorf("the export's metadata: %v", m)
	}
	// Over TLS (no insecure), to a collector that requires a client
	// certificate of its CA: tracing.otlp.grpc.tls.{ca,cert,key}.
	ca := newTestCA(t, "otlp CA")
	srvCrt, srvKey := ca.issue(t, "otlp", "127.0.0.1")
	pair, err := tls.X509KeyPair(srvCrt, srvKey)
	must(t, err)
	secure, _ := startOTLPGRPC(t, &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool})
	cliCrt, cliKey := ca.issue(t, "sluice")
	files := t.TempDir()
	write(t, filepath.Join(files, "ca.pem"), string(ca.pem))
	write(t, filepath.Join(files, "client.pem"), string(cliCrt))
	write(t, filepath.Join(files, "client.key"), string(cliKey))
	p2 := startSluice(t, dir, "--tracing.otlp.grpc.endpoint="+secure.addr, "--tracing.otlp.grpc.tls.ca="+filepath.Join(files, "ca.pem"),
		"--tracing.otlp.grpc.tls.cert="+filepath.Join(files, "client.pem"), "--tracing.otlp.grpc.tls.key="+filepath.Join(files, "client.key"))
	eventually(t, p2.addr, "app.example", "/", 200, "ok")
	drain(seen)
	const tlsTrace = "9bf92f3577b34da6a3ce929d0e0e4736"
	sendTraced(t, p2.addr, false, "00-"+tlsTrace+"-00f067aa0ba902b7-01")
	<-seen
	secure.trace(t, tlsTrace, 4)
}

// TestBinaryTraceVerbosity: Traefik's minimal verbosity (the default)
// exports the entry point's span and the ReverseProxy span, its child;
// detailed (the route's, or the entry point's
// observability.traceVerbosity) adds the Router span, a span per
// traceable middleware named by its type, nested as they ran, and the
// Service span inside the last of them; contentType, which Traefik does
// not trace, has none.
func TestBinaryTraceVerbosity(t *testing.T) {
	port := namedBackend(t, "127.0.0.2", "app")
	otlp := startOTLP(t)
	dir := t.TempDir()
	route := func(name, host, extra string) string {
		return "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: " + name + ", namespace: e2e}\n" +
			"spec:\n  routes:\n  - match: Host(`" + host + "`)\n    services: [{name: app, port: 80}]\n" + extra + "---\n"
	}
	mws := "    middlewares: [{name: hdr}, {name: ct}, {name: strip}]\n"
	write(t, filepath.Join(dir, "all.yaml"), manifests("app", port, "127.0.0.2")+"---\n"+
		mwObject("hdr", "{headers: {customRequestHeaders: {X-A: b}}}")+mwObject("ct", "{contentType: {}}")+
		mwObject("strip", "{stripPrefix: {prefixes: [/p]}}")+
		route("minimal", "min.example", mws)+
		route("detailed", "det.example", mws+"    observability: {traceVerbosity: detailed}\n")+
		route("onep", "ep.example", "    entryPoints: [detailed]\n"+mws))
	detEP := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startSluice(t, dir, "--tracing=true", "--tracing.otlp.http.endpoint=http://"+otlp.addr,
		"--entryPoints.detailed.address="+detEP, "--entryPoints.detailed.observability.traceVerbosity=detailed")
	eventually(t, p.addr, "min.example", "/p/x", 200, "app")
	for i, c := range []struct {
		addr, host string
		want       []string // span: parent
	}{
		{p.addr, "min.example", []string{"GET: client", "ReverseProxy: GET"}},
		{p.addr, "det.example", []string{"GET: client", "Router: GET", "Headers: Router", "StripPrefix: Headers",
			"Service: StripPrefix", "ReverseProxy: Service"}},
		{detEP, "ep.example", []string{"GET: client", "Router: GET", "Headers: Router", "StripPrefix: Headers",
			"Service: StripPrefix", "ReverseProxy: Service"}},
	} {
		traceID := fmt.Sprintf("%032x", 0xabc0+i)
		req, _ := http.NewRequest("GET", "http://"+c.addr+"/p/x", nil)
		req.Host = c.host
		req.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		spans := otlp.trace(t, traceID, len(c.want))
		name := map[string]string{"00f067aa0ba902b7": "client"}
		for _, s := range spans {
			name[s.SpanID] = s.Name
		}
		var got []string
		for _, s := range spans {
			got = append(got, s.Name+": "+name[s.ParentSpanID])
			if s.Name == "Headers" && !strings.HasPrefix(s.Attrs["traefik.middleware.name"], "e2e-hdr@") {
				t.Errorf("%s: the Headers span names %q", c.host, s.Attrs["traefik.middleware.name"])
			}
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s: spans %q, want %q", c.host, got, want)
		}
	}
}

// TestBinaryTracingCollectorDown: with no collector listening, over
// OTLP/HTTP and OTLP/gRPC, every request is still answered, over every
// protocol, and Sluice's own log says once, naming the cause, that traces
// are lost.
func TestBinaryTracingCollectorDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for name, flags := range map[string][]string{
		"http": {"--tracing.otlp.http.endpoint=http://" + closed + "/v1/traces"},
		"grpc": {"--tracing.otlp.grpc.endpoint=" + closed, "--tracing.otlp.grpc.insecure=true"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newMWFixture(t, mwRoute("app", "app.example", "[]"), append([]string{"--tracing=true"}, flags...)...)
			// a second batch (a second later) fails within the report interval
			reportedOnce(t, f, "tracing: exporting failed", "connection refused", 1500*time.Millisecond)
		})
	}
}
