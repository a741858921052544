package trace

import (
	"bytes"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// kv is one attribute of a span or of the resource.
type kv struct {
	key   string
	str   string   // a string value
	num   int64    // an integer value (isInt)
	list  []string // a string array (captured headers), when not nil
	isInt bool
}

// span is one exported span of a Request; its attributes are
// exporter.kvs[from:to].
type span struct {
	r               *Request
	id              int // index in r.spanIDs
	mw              int // for a middleware span (id 0): its index in r.mws, plus one
	parent          []byte
	name            string
	kind            int
	start, end      time.Time
	code, errorFrom int // the HTTP status, and the first one that is an error
	from, to        int
}

// OTLP span kinds and status codes.
const (
	kindInternal = 1
	kindServer   = 2
	kindClient   = 3
	statusError  = 2
)

// resource is the resource's attributes: the service name, the SDK, then
// resourceAttributes sorted by key.
func resource(cfg *Config) []kv {
	out := []kv{{key: "service.name", str: cfg.ServiceName}, {key: "telemetry.sdk.language", str: "go"},
		{key: "telemetry.sdk.name", str: "sluice"}}
	keys := make([]string, 0, len(cfg.ResourceAttributes))
	for k := range cfg.ResourceAttributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, kv{key: k, str: cfg.ResourceAttributes[k]})
	}
	return out
}

// collect builds the spans of batch into e.spans, their attributes into
// e.kvs (both reused from batch to batch).
func (e *exporter) collect(batch []*Request) {
	e.spans, e.kvs = e.spans[:0], e.kvs[:0]
	for _, r := range batch {
		e.collectRequest(r)
	}
}

// collectRequest adds Traefik's spans of one request: the entry point's
// (server, named by the method), Router, Service and ReverseProxy
// (client).
func (e *exporter) collectRequest(r *Request) {
	var parent []byte
	if r.hasParent {
		parent = r.remoteParent[:]
	}
	e.begin(span{r: r, id: spanEntryPoint, parent: parent, name: string(r.Method), kind: kindServer, start: r.start, end: r.end, code: r.Status, errorFrom: 500})
	e.serverAttrs(r)
	e.end()
	proxyParent := r.spanIDs[spanEntryPoint][:]
	if r.routed && r.detailed {
		e.detailedSpans(r)
		proxyParent = r.spanIDs[spanService][:]
	}
	if !r.served {
		return
	}
	e.begin(span{r: r, id: spanProxy, parent: proxyParent, name: "ReverseProxy", kind: kindClient, start: r.proxyStart, end: r.proxyEnd, code: r.proxyStatus, errorFrom: 400})
	e.clientAttrs(r)
	e.end()
}

// detailedSpans adds what Traefik's detailed verbosity adds: the Router
// span, a span per traceable middleware (nested as they ran) and the
// Service span. Middleware span ids are made here: nothing propagates
// them.
func (e *exporter) detailedSpans(r *Request) {
	e.begin(span{r: r, id: spanRouter, parent: r.spanIDs[spanEntryPoint][:], name: "Router", kind: kindInternal, start: r.routerStart, end: r.end, code: r.Status, errorFrom: 500})
	e.str("traefik.service.name", r.routerService)
	e.str("traefik.router.name", r.router)
	e.str("http.route", r.rule)
	e.end()
	ids := e.t.rnd.Get().(*idSource)
	for i := range r.mws {
		ids.fill(r.mws[i].id[:])
	}
	e.t.rnd.Put(ids)
	inside := func(i int) []byte {
		if i < 0 {
			return r.spanIDs[spanRouter][:]
		}
		return r.mws[i].id[:]
	}
	for i := range r.mws {
		m := &r.mws[i]
		end := m.end
		if end.IsZero() { // a middleware still running when the answer went (it cannot be, but a span needs an end)
			end = r.end
		}
		e.begin(span{r: r, mw: i + 1, parent: inside(m.parent), name: m.typ, kind: kindInternal, start: m.start, end: end, code: 200, errorFrom: 600})
		e.str("traefik.middleware.name", m.name)
		e.end()
	}
	if !r.served {
		return
	}
	e.begin(span{r: r, id: spanService, parent: inside(r.svcIn), name: "Service", kind: kindInternal, start: r.serviceStart, end: r.serviceEnd, code: r.proxyStatus, errorFrom: 500})
	e.str("traefik.service.name", r.service)
	e.end()
}

// spanID is the span's own id.
func (s *span) spanID() []byte {
	if s.mw > 0 {
		return s.r.mws[s.mw-1].id[:]
	}
	return s.r.spanIDs[s.id][:]
}

func (e *exporter) begin(s span) {
	s.from = len(e.kvs)
	e.spans = append(e.spans, s)
}

func (e *exporter) end() { e.spans[len(e.spans)-1].to = len(e.kvs) }

func (e *exporter) str(k, v string)       { e.kvs = append(e.kvs, kv{key: k, str: v}) }
func (e *exporter) num(k string, n int64) { e.kvs = append(e.kvs, kv{key: k, num: n, isInt: true}) }

// serverAttrs are Traefik's CaptureServerRequest and CaptureResponse.
func (e *exporter) serverAttrs(r *Request) {
	e.str("entry_point", r.EntryPoint)
	e.str("http.request.method", string(r.Method))
	e.str("network.protocol.version", r.Proto)
	e.num("http.request.body.size", r.BodySize)
	e.str("url.path", string(r.Path))
	e.str("url.query", e.safeQuery(string(r.Query)))
	e.str("url.scheme", string(r.Scheme))
	e.str("user_agent.original", string(r.UA))
	e.str("server.address", string(r.Host))
	e.str("network.peer.address", string(r.ClientIP))
	e.str("client.address", string(r.ClientIP))
	e.num("client.port", int64(r.ClientPort))
	e.num("network.peer.port", int64(r.ClientPort))
	e.headers("http.request.header.", r.reqHeaders)
	if r.Status > 0 {
		e.num("http.response.status_code", int64(r.Status))
	}
	e.headers("http.response.header.", r.respHeaders)
}

// clientAttrs are Traefik's CaptureClientRequest of the request sent to
// the server, and its answer's status.
func (e *exporter) clientAttrs(r *Request) {
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
	e.str("http.request.method", string(r.Method))
	e.str("network.protocol.version", "1.1")
	e.str("url.full", full)
	e.str("url.scheme", scheme)
	e.str("user_agent.original", string(r.UA))
	p, _ := strconv.Atoi(port)
	e.str("network.peer.address", host)
	e.num("network.peer.port", int64(p))
	e.str("server.address", host)
	e.num("server.port", int64(p))
	if r.proxyStatus > 0 {
		e.num("http.response.status_code", int64(r.proxyStatus))
	}
}

// headers adds the captured headers, one attribute a name (its values,
// as Traefik's StringSlice).
func (e *exporter) headers(prefix string, h []byte) {
	first := len(e.kvs)
	for len(h) > 0 {
		i := bytes.IndexByte(h, 0)
		name := prefix + strings.ToLower(string(h[:i]))
		h = h[i+1:]
		j := bytes.IndexByte(h, 0)
		v := string(h[:j])
		h = h[j+1:]
		k := slices.IndexFunc(e.kvs[first:], func(a kv) bool { return a.key == name })
		if k < 0 {
			e.kvs = append(e.kvs, kv{key: name, list: []string{v}})
		} else {
			e.kvs[first+k].list = append(e.kvs[first+k].list, v)
		}
	}
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
