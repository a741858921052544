package obs

import (
	"bufio"
	"crypto/tls"
	"io"
	"sort"
	"strconv"
)

// Help texts are Traefik's (pkg/observability/metrics/prometheus.go), by
// level and metric.
var help = map[string]string{
	"entrypoint_requests_total":           "How many HTTP requests processed on an entrypoint, partitioned by status code, protocol, and method.",
	"entrypoint_requests_tls_total":       "How many HTTP requests with TLS processed on an entrypoint, partitioned by TLS Version and TLS cipher Used.",
	"entrypoint_request_duration_seconds": "How long it took to process the request on an entrypoint, partitioned by status code, protocol, and method.",
	"entrypoint_requests_bytes_total":     "The total size of requests in bytes handled by an entrypoint, partitioned by status code, protocol, and method.",
	"entrypoint_responses_bytes_total":    "The total size of responses in bytes handled by an entrypoint, partitioned by status code, protocol, and method.",
	"router_requests_total":               "How many HTTP requests are processed on a router, partitioned by service, status code, protocol, and method.",
	"router_requests_tls_total":           "How many HTTP requests with TLS are processed on a router, partitioned by service, TLS Version, and TLS cipher Used.",
	"router_request_duration_seconds":     "How long it took to process the request on a router, partitioned by service, status code, protocol, and method.",
	"router_requests_bytes_total":         "The total size of requests in bytes handled by a router, partitioned by service, status code, protocol, and method.",
	"router_responses_bytes_total":        "The total size of responses in bytes handled by a router, partitioned by service, status code, protocol, and method.",
	"service_requests_total":              "How many HTTP requests processed on a service, partitioned by status code, protocol, and method.",
	"service_requests_tls_total":          "How many HTTP requests with TLS processed on a service, partitioned by TLS version and TLS cipher.",
	"service_request_duration_seconds":    "How long it took to process the request on a service, partitioned by status code, protocol, and method.",
	"service_requests_bytes_total":        "The total size of requests in bytes received by a service, partitioned by status code, protocol, and method.",
	"service_responses_bytes_total":       "The total size of responses in bytes returned by a service, partitioned by status code, protocol, and method.",
}

// WriteTo writes the Prometheus text exposition of every live series.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	r.Global.write(bw)
	r.mu.Lock()
	levels := [][]*Handle{sorted(r.eps), sorted(r.rts), sorted(r.svcs)}
	r.mu.Unlock()
	for _, hs := range levels {
		if len(hs) == 0 {
			continue
		}
		kind := hs[0].kind
		family(bw, kind, "requests_total", "counter", hs, func(b *bufio.Writer, h *Handle, c *cell) {
			sample(b, "traefik_"+kind+"_requests_total", h, c, "", c.count.Load())
		})
		family(bw, kind, "requests_tls_total", "counter", hs, nil)
		family(bw, kind, "request_duration_seconds", "histogram", hs, histogram)
		family(bw, kind, "requests_bytes_total", "counter", hs, func(b *bufio.Writer, h *Handle, c *cell) {
			sample(b, "traefik_"+kind+"_requests_bytes_total", h, c, "", c.reqBytes.Load())
		})
		family(bw, kind, "responses_bytes_total", "counter", hs, func(b *bufio.Writer, h *Handle, c *cell) {
			sample(b, "traefik_"+kind+"_responses_bytes_total", h, c, "", c.respBytes.Load())
		})
		if kind == "service" {
			writeServiceExtras(bw, hs)
		}
	}
	return 0, bw.Flush()
}

// writeServiceExtras writes the services' retries (those that had some:
// a series exists once counted, as in Prometheus's client) and their
// checked servers' states.
func writeServiceExtras(b *bufio.Writer, hs []*Handle) {
	b.WriteString("# HELP traefik_service_retries_total How many request retries happened on a service.\n# TYPE traefik_service_retries_total counter\n")
	for _, h := range hs {
		if n := h.retries.Load(); n > 0 {
			b.WriteString("traefik_service_retries_total{" + h.tlsPre[:len(h.tlsPre)-1] + "} " + strconv.FormatUint(n, 10) + "\n")
		}
	}
	b.WriteString("# HELP traefik_service_server_up service server is up, described by gauge value of 0 or 1.\n# TYPE traefik_service_server_up gauge\n")
	for _, h := range hs {
		if s := h.servers.Load(); s != nil {
			(*s)(func(url string, up bool) {
				v := "0"
				if up {
					v = "1"
				}
				b.WriteString("traefik_service_server_up{" + h.tlsPre + `url="` + escape(url) + `"} ` + v + "\n")
			})
		}
	}
}

func sorted(m map[string]*Handle) []*Handle {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*Handle, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// family writes one metric family of the handles: HELP, TYPE, and each
// cell through f (nil: the TLS counters).
func family(b *bufio.Writer, kind, metric, typ string, hs []*Handle, f func(*bufio.Writer, *Handle, *cell)) {
	name := "traefik_" + kind + "_" + metric
	b.WriteString("# HELP " + name + " " + help[kind+"_"+metric] + "\n# TYPE " + name + " " + typ + "\n")
	for _, h := range hs {
		if f == nil {
			writeTLS(b, name, h)
			continue
		}
		h.each(func(c *cell) { f(b, h, c) })
	}
}

// labels writes {code=..,<mid>,method=..,protocol=..<tail><extra>}.
func labels(b *bufio.Writer, h *Handle, c *cell, extra string) {
	b.WriteString(`{code="`)
	b.WriteString(strconv.Itoa(int(c.key>>8) & 0x3ff))
	b.WriteString(`"`)
	b.WriteString(h.mid)
	b.WriteString(`,method="`)
	b.WriteString(methodNames[(c.key>>4)&0xf])
	b.WriteString(`",protocol="`)
	b.WriteString(protoNames[c.key&0xf])
	b.WriteString(`"`)
	b.WriteString(h.tail)
	b.WriteString(extra)
	b.WriteString("} ")
}

func sample(b *bufio.Writer, name string, h *Handle, c *cell, extra string, v uint64) {
	b.WriteString(name)
	labels(b, h, c, extra)
	b.WriteString(strconv.FormatUint(v, 10))
	b.WriteByte('\n')
}

func histogram(b *bufio.Writer, h *Handle, c *cell) {
	name := "traefik_" + h.kind + "_request_duration_seconds"
	count := c.count.Load()
	var cum uint64
	for i, le := range h.bounds {
		cum += c.buckets[i].Load()
		sample(b, name+"_bucket", h, c, `,le="`+strconv.FormatFloat(le, 'g', -1, 64)+`"`, min(cum, count))
	}
	sample(b, name+"_bucket", h, c, `,le="+Inf"`, count)
	b.WriteString(name + "_sum")
	labels(b, h, c, "")
	b.WriteString(strconv.FormatFloat(fmtSeconds(c.sumNanos.Load()), 'g', -1, 64))
	b.WriteByte('\n')
	sample(b, name+"_count", h, c, "", count)
}

func writeTLS(b *bufio.Writer, name string, h *Handle) {
	for i := range h.tls {
		c := h.tls[i].Load()
		if c == nil {
			continue
		}
		b.WriteString(name + "{" + h.tlsPre + `tls_cipher="` + tls.CipherSuiteName(c.cipher) + `",tls_version="` + TLSVersion(c.version) + `"} `)
		b.WriteString(strconv.FormatUint(c.count.Load(), 10))
		b.WriteByte('\n')
	}
}

// TLSVersion is Traefik's GetVersion: "1.0" .. "1.3".
func TLSVersion(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "1.0"
	case tls.VersionTLS11:
		return "1.1"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	}
	return "unknown"
}
