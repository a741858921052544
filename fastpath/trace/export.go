package trace

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// exporter batches finished requests' spans and posts them as OTLP/HTTP
// JSON, off the request path.
type exporter struct {
	cfg     *Config
	t       *Tracer
	queue   chan *Request
	dropped atomic.Uint64
	errors  atomic.Uint64
	client  *http.Client
	done    chan struct{}
	stop    chan time.Duration
}

// batchSize and batchDelay bound a batch, as OTel's batch span
// processor's defaults (512 spans, 5 s) would, sooner.
const (
	batchSize  = 128
	batchDelay = time.Second
)

func newExporter(cfg *Config, t *Tracer) *exporter {
	e := &exporter{cfg: cfg, t: t, queue: make(chan *Request, cfg.Queue), client: &http.Client{Timeout: 10 * time.Second},
		done: make(chan struct{}), stop: make(chan time.Duration)}
	go e.run()
	return e
}

// submit queues r; a full queue drops it (counted).
func (e *exporter) submit(r *Request) {
	select {
	case e.queue <- r:
	default:
		e.dropped.Add(1)
		e.t.pool.Put(r)
	}
}

func (e *exporter) run() {
	defer close(e.done)
	var batch []*Request
	tick := time.NewTimer(batchDelay)
	tick.Stop()
	flush := func() {
		if len(batch) > 0 {
			e.post(batch)
			for _, r := range batch {
				e.t.pool.Put(r)
			}
			batch = batch[:0]
		}
	}
	for {
		select {
		case r := <-e.queue:
			if len(batch) == 0 {
				tick.Reset(batchDelay)
			}
			if batch = append(batch, r); len(batch) >= batchSize {
				flush()
			}
		case <-tick.C:
			flush()
		case d := <-e.stop:
			for deadline := time.Now().Add(d); time.Now().Before(deadline); {
				select {
				case r := <-e.queue:
					batch = append(batch, r)
					continue
				default:
				}
				break
			}
			flush()
			return
		}
	}
}

func (e *exporter) close(timeout time.Duration) {
	select {
	case e.stop <- timeout:
		<-e.done
	case <-e.done:
	}
}

// post sends one batch; a failure is counted (the spans are lost, as an
// OTLP exporter's after its retries).
func (e *exporter) post(batch []*Request) {
	body, err := json.Marshal(e.payload(batch))
	if err != nil {
		e.errors.Add(1)
		return
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		e.errors.Add(1)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range e.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.errors.Add(1)
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		e.errors.Add(1)
	}
}

// OTLP JSON: https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
// (ids in hex, enums as numbers, 64-bit integers as strings).
type (
	kv struct {
		Key   string `json:"key"`
		Value value  `json:"value"`
	}
	value struct {
		String *string  `json:"stringValue,omitempty"`
		Int    *string  `json:"intValue,omitempty"`
		Array  *arrayOf `json:"arrayValue,omitempty"`
	}
	arrayOf struct {
		Values []value `json:"values"`
	}
	span struct {
		TraceID      string `json:"traceId"`
		SpanID       string `json:"spanId"`
		ParentSpanID string `json:"parentSpanId,omitempty"`
		Name         string `json:"name"`
		Kind         int    `json:"kind"`
		Start        string `json:"startTimeUnixNano"`
		End          string `json:"endTimeUnixNano"`
		Attributes   []kv   `json:"attributes,omitempty"`
		Status       status `json:"status"`
	}
	status struct {
		Code    int    `json:"code,omitempty"`
		Message string `json:"message,omitempty"`
	}
)

// OTLP span kinds and status codes.
const (
	kindInternal = 1
	kindServer   = 2
	kindClient   = 3
	statusError  = 2
)

func str(k, v string) kv { return kv{Key: k, Value: value{String: &v}} }

func num(k string, n int64) kv {
	s := strconv.FormatInt(n, 10)
	return kv{Key: k, Value: value{Int: &s}}
}

func strs(k string, vs []string) kv {
	a := &arrayOf{}
	for _, v := range vs {
		a.Values = append(a.Values, value{String: &v})
	}
	return kv{Key: k, Value: value{Array: a}}
}

// payload is one export request: the resource, the scope, the spans.
func (e *exporter) payload(batch []*Request) map[string]any {
	res := []kv{str("service.name", e.cfg.ServiceName), str("telemetry.sdk.language", "go"), str("telemetry.sdk.name", "sluice")}
	keys := make([]string, 0, len(e.cfg.ResourceAttributes))
	for k := range e.cfg.ResourceAttributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		res = append(res, str(k, e.cfg.ResourceAttributes[k]))
	}
	var spans []span
	for _, r := range batch {
		spans = append(spans, e.spans(r)...)
	}
	return map[string]any{"resourceSpans": []any{map[string]any{
		"resource":   map[string]any{"attributes": res},
		"scopeSpans": []any{map[string]any{"scope": map[string]any{"name": "github.com/traefik/traefik"}, "spans": spans}},
	}}}
}

// spans are Traefik's spans of one request: the entry point's (server,
// named by the method), Router, Service and ReverseProxy (client).
func (e *exporter) spans(r *Request) []span {
	trace := hex.EncodeToString(r.TraceID[:])
	id := func(i int) string { return hex.EncodeToString(r.spanIDs[i][:]) }
	parent := ""
	if r.hasParent {
		parent = hex.EncodeToString(r.remoteParent[:])
	}
	ep := span{TraceID: trace, SpanID: id(spanEntryPoint), ParentSpanID: parent, Name: string(r.Method), Kind: kindServer,
		Start: nanos(r.start), End: nanos(r.end), Attributes: e.serverAttrs(r), Status: statusOf(r.Status, 500)}
	out := []span{ep}
	if !r.routed {
		return out
	}
	out = append(out, span{TraceID: trace, SpanID: id(spanRouter), ParentSpanID: id(spanEntryPoint), Name: "Router", Kind: kindInternal,
		Start: nanos(r.routerStart), End: nanos(r.end), Status: statusOf(r.Status, 500),
		Attributes: []kv{str("traefik.service.name", r.routerService), str("traefik.router.name", r.router), str("http.route", r.rule)}})
	if !r.served {
		return out
	}
	out = append(out, span{TraceID: trace, SpanID: id(spanService), ParentSpanID: id(spanRouter), Name: "Service", Kind: kindInternal,
		Start: nanos(r.serviceStart), End: nanos(r.serviceEnd), Status: statusOf(r.proxyStatus, 500),
		Attributes: []kv{str("traefik.service.name", r.service)}})
	return append(out, span{TraceID: trace, SpanID: id(spanProxy), ParentSpanID: id(spanService), Name: "ReverseProxy", Kind: kindClient,
		Start: nanos(r.proxyStart), End: nanos(r.proxyEnd), Status: statusOf(r.proxyStatus, 400), Attributes: e.clientAttrs(r)})
}

// serverAttrs are Traefik's CaptureServerRequest and CaptureResponse.
func (e *exporter) serverAttrs(r *Request) []kv {
	a := []kv{str("entry_point", r.EntryPoint), str("http.request.method", string(r.Method)), str("network.protocol.version", r.Proto),
		num("http.request.body.size", r.BodySize), str("url.path", string(r.Path)), str("url.query", e.safeQuery(string(r.Query))),
		str("url.scheme", string(r.Scheme)), str("user_agent.original", string(r.UA)), str("server.address", string(r.Host)),
		str("network.peer.address", string(r.ClientIP)), str("client.address", string(r.ClientIP)),
		num("client.port", int64(r.ClientPort)), num("network.peer.port", int64(r.ClientPort))}
	a = append(a, headerAttrs("http.request.header.", r.reqHeaders)...)
	if r.Status > 0 {
		a = append(a, num("http.response.status_code", int64(r.Status)))
	}
	return append(a, headerAttrs("http.response.header.", r.respHeaders)...)
}

// clientAttrs are Traefik's CaptureClientRequest of the request sent to
// the server, and its answer's status.
func (e *exporter) clientAttrs(r *Request) []kv {
	u, _ := url.Parse(r.proxyURL + string(r.Path))
	if u == nil {
		u = &url.URL{}
	}
	u.RawQuery = e.safeQuery(string(r.Query))
	a := []kv{str("http.request.method", string(r.Method)), str("network.protocol.version", "1.1"), str("url.full", u.String()),
		str("url.scheme", u.Scheme), str("user_agent.original", string(r.UA))}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	p, _ := strconv.Atoi(port)
	a = append(a, str("network.peer.address", host), num("network.peer.port", int64(p)), str("server.address", host), num("server.port", int64(p)))
	if r.proxyStatus > 0 {
		a = append(a, num("http.response.status_code", int64(r.proxyStatus)))
	}
	return a
}

// safeQuery is Traefik's safeURL on a query: every value but the safe
// parameters' REDACTED, re-encoded (sorted by key).
func (e *exporter) safeQuery(q string) string {
	if q == "" {
		return ""
	}
	vs, _ := url.ParseQuery(q)
	for k := range vs {
		if !slices.Contains(e.cfg.SafeQueryParams, k) {
			vs.Set(k, "REDACTED")
		}
	}
	return vs.Encode()
}

// headerAttrs are the captured headers, one attribute a name (its
// values, as Traefik's StringSlice).
func headerAttrs(prefix string, b []byte) []kv {
	values := map[string][]string{}
	var names []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0)
		name := strings.ToLower(string(b[:i]))
		b = b[i+1:]
		j := bytes.IndexByte(b, 0)
		if _, ok := values[name]; !ok {
			names = append(names, name)
		}
		values[name] = append(values[name], string(b[:j]))
		b = b[j+1:]
	}
	var out []kv
	for _, n := range names {
		out = append(out, strs(prefix+n, values[n]))
	}
	return out
}

// statusOf is Traefik's span status: an error from errorFrom up (500
// for server and internal spans, 400 for client ones) or for an invalid
// code.
func statusOf(code, errorFrom int) status {
	switch {
	case code < 100 || code >= 600:
		return status{Code: statusError, Message: "Invalid HTTP status code " + strconv.Itoa(code)}
	case code >= errorFrom:
		return status{Code: statusError}
	}
	return status{}
}

func nanos(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }
