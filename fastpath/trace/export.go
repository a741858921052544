package trace

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
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
	body    []byte // the batch being sent (the exporter's goroutine)
}

// batchSize and batchDelay bound a batch, as OTel's batch span
// processor's defaults (512 spans, 5 s) would, sooner.
const (
	batchSize  = 128
	batchDelay = time.Second
)

func newExporter(cfg *Config, t *Tracer) *exporter {
	client := &http.Client{Timeout: 10 * time.Second}
	if cfg.TLS != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = cfg.TLS
		client.Transport = tr
	}
	e := &exporter{cfg: cfg, t: t, queue: make(chan *Request, cfg.Queue), client: client,
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
	e.body = e.payload(e.body[:0], batch)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.cfg.Endpoint, bytes.NewReader(e.body))
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
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		e.errors.Add(1)
	}
}

// The OTLP JSON encoding (https://opentelemetry.io/docs/specs/otlp/):
// ids in hex, enums as numbers, 64-bit integers as strings. Written with
// appends: a span is a few hundred bytes, and the exporter's goroutine
// shares the proxy's CPU.

// OTLP span kinds and status codes.
const (
	kindInternal = 1
	kindServer   = 2
	kindClient   = 3
	statusError  = 2
)

// payload appends one export request: the resource, the scope, the
// spans of batch.
func (e *exporter) payload(b []byte, batch []*Request) []byte {
	b = append(b, `{"resourceSpans":[{"resource":{"attributes":[`...)
	b = attr(b, "service.name", e.cfg.ServiceName, true)
	b = attr(b, "telemetry.sdk.language", "go", false)
	b = attr(b, "telemetry.sdk.name", "sluice", false)
	keys := make([]string, 0, len(e.cfg.ResourceAttributes))
	for k := range e.cfg.ResourceAttributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = attr(b, k, e.cfg.ResourceAttributes[k], false)
	}
	b = append(b, `]},"scopeSpans":[{"scope":{"name":"github.com/traefik/traefik"},"spans":[`...)
	for i, r := range batch {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.appendSpans(b, r)
	}
	return append(b, "]}]}]}"...)
}

// appendSpans appends Traefik's spans of one request: the entry point's
// (server, named by the method), Router, Service and ReverseProxy
// (client).
func (e *exporter) appendSpans(b []byte, r *Request) []byte {
	var parent []byte
	if r.hasParent {
		parent = r.remoteParent[:]
	}
	b = spanHead(b, r, spanEntryPoint, parent, string(r.Method), kindServer, r.start, r.end, r.Status, 500)
	b = e.serverAttrs(b, r)
	b = append(b, "]}"...)
	if !r.routed {
		return b
	}
	b = spanHead(append(b, ','), r, spanRouter, r.spanIDs[spanEntryPoint][:], "Router", kindInternal, r.routerStart, r.end, r.Status, 500)
	b = attr(b, "traefik.service.name", r.routerService, true)
	b = attr(b, "traefik.router.name", r.router, false)
	b = append(attr(b, "http.route", r.rule, false), "]}"...)
	if !r.served {
		return b
	}
	b = spanHead(append(b, ','), r, spanService, r.spanIDs[spanRouter][:], "Service", kindInternal, r.serviceStart, r.serviceEnd, r.proxyStatus, 500)
	b = append(attr(b, "traefik.service.name", r.service, true), "]}"...)
	b = spanHead(append(b, ','), r, spanProxy, r.spanIDs[spanService][:], "ReverseProxy", kindClient, r.proxyStart, r.proxyEnd, r.proxyStatus, 400)
	return append(e.clientAttrs(b, r), "]}"...)
}

// spanHead appends a span up to its attributes' opening bracket.
func spanHead(b []byte, r *Request, i int, parent []byte, name string, kind int, start, end time.Time, code, errorFrom int) []byte {
	b = append(b, `{"traceId":"`...)
	b = hex.AppendEncode(b, r.TraceID[:])
	b = append(b, `","spanId":"`...)
	b = hex.AppendEncode(b, r.spanIDs[i][:])
	if parent != nil {
		b = append(b, `","parentSpanId":"`...)
		b = hex.AppendEncode(b, parent)
	}
	b = append(b, `","name":`...)
	b = appendJSONString(b, name)
	b = append(b, `,"kind":`...)
	b = strconv.AppendInt(b, int64(kind), 10)
	b = append(b, `,"startTimeUnixNano":"`...)
	b = strconv.AppendInt(b, start.UnixNano(), 10)
	b = append(b, `","endTimeUnixNano":"`...)
	b = strconv.AppendInt(b, end.UnixNano(), 10)
	b = append(b, `","status":{`...)
	switch {
	case code < 100 || code >= 600:
		b = append(b, `"code":2,"message":"Invalid HTTP status code `...)
		b = append(strconv.AppendInt(b, int64(code), 10), '"')
	case code >= errorFrom:
		b = append(b, `"code":2`...)
	}
	return append(b, `},"attributes":[`...)
}

// serverAttrs are Traefik's CaptureServerRequest and CaptureResponse.
func (e *exporter) serverAttrs(b []byte, r *Request) []byte {
	b = attr(b, "entry_point", r.EntryPoint, true)
	b = attr(b, "http.request.method", string(r.Method), false)
	b = attr(b, "network.protocol.version", r.Proto, false)
	b = attrInt(b, "http.request.body.size", r.BodySize)
	b = attr(b, "url.path", string(r.Path), false)
	b = attr(b, "url.query", e.safeQuery(string(r.Query)), false)
	b = attr(b, "url.scheme", string(r.Scheme), false)
	b = attr(b, "user_agent.original", string(r.UA), false)
	b = attr(b, "server.address", string(r.Host), false)
	b = attr(b, "network.peer.address", string(r.ClientIP), false)
	b = attr(b, "client.address", string(r.ClientIP), false)
	b = attrInt(b, "client.port", int64(r.ClientPort))
	b = attrInt(b, "network.peer.port", int64(r.ClientPort))
	b = headerAttrs(b, "http.request.header.", r.reqHeaders)
	if r.Status > 0 {
		b = attrInt(b, "http.response.status_code", int64(r.Status))
	}
	return headerAttrs(b, "http.response.header.", r.respHeaders)
}

// clientAttrs are Traefik's CaptureClientRequest of the request sent to
// the server, and its answer's status.
func (e *exporter) clientAttrs(b []byte, r *Request) []byte {
	scheme, hostport, _ := strings.Cut(r.proxyURL, "://")
	host, port := hostport, map[string]string{"http": "80", "https": "443"}[scheme]
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		host, port = hostport[:i], hostport[i+1:]
	}
	host = strings.Trim(host, "[]")
	full := r.proxyURL + string(r.Path)
	if q := e.safeQuery(string(r.Query)); q != "" {
		full += "?" + q
	}
	b = attr(b, "http.request.method", string(r.Method), true)
	b = attr(b, "network.protocol.version", "1.1", false)
	b = attr(b, "url.full", full, false)
	b = attr(b, "url.scheme", scheme, false)
	b = attr(b, "user_agent.original", string(r.UA), false)
	p, _ := strconv.Atoi(port)
	b = attr(b, "network.peer.address", host, false)
	b = attrInt(b, "network.peer.port", int64(p))
	b = attr(b, "server.address", host, false)
	b = attrInt(b, "server.port", int64(p))
	if r.proxyStatus > 0 {
		b = attrInt(b, "http.response.status_code", int64(r.proxyStatus))
	}
	return b
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

// attr appends a string attribute (first: no comma before it).
func attr(b []byte, k, v string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, `{"key":`...)
	b = appendJSONString(b, k)
	b = append(b, `,"value":{"stringValue":`...)
	b = appendJSONString(b, v)
	return append(b, "}}"...)
}

// attrInt appends an integer attribute (never first).
func attrInt(b []byte, k string, n int64) []byte {
	b = append(b, `,{"key":`...)
	b = appendJSONString(b, k)
	b = append(b, `,"value":{"intValue":"`...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, `"}}`...)
}

// headerAttrs appends the captured headers, one attribute a name (its
// values, as Traefik's StringSlice).
func headerAttrs(b []byte, prefix string, h []byte) []byte {
	values := map[string][]string{}
	var names []string
	for len(h) > 0 {
		i := bytes.IndexByte(h, 0)
		name := strings.ToLower(string(h[:i]))
		h = h[i+1:]
		j := bytes.IndexByte(h, 0)
		if _, ok := values[name]; !ok {
			names = append(names, name)
		}
		values[name] = append(values[name], string(h[:j]))
		h = h[j+1:]
	}
	for _, n := range names {
		b = append(b, `,{"key":`...)
		b = appendJSONString(b, prefix+n)
		b = append(b, `,"value":{"arrayValue":{"values":[`...)
		for i, v := range values[n] {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"stringValue":`...)
			b = append(appendJSONString(b, v), '}')
		}
		b = append(b, "]}}}"...)
	}
	return b
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
