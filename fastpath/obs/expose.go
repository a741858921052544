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
	e := &expo{Writer: bufio.NewWriterSize(w, 64<<10)}
	r.Global.write(e.Writer)
	r.mu.Lock()
	levels := [][]*Handle{sorted(r.eps), sorted(r.rts), sorted(r.svcs)}
	r.mu.Unlock()
	for _, le := range r.opts.Buckets {
		e.les = append(e.les, `,le="`+strconv.FormatFloat(le, 'g', -1, 64)+`"`)
	}
	for _, hs := range levels {
		if len(hs) == 0 {
			continue
		}
		kind := hs[0].kind
		total, bytesIn, bytesOut := "traefik_"+kind+"_requests_total", "traefik_"+kind+"_requests_bytes_total", "traefik_"+kind+"_responses_bytes_total"
		e.family(kind, "requests_total", "counter", hs, func(h *Handle, c *cell) {
			if h.hl == nil {
				e.sample(total, h, c, "", c.count.Load())
			}
		})
		if r.hl != nil {
			for _, h := range hs {
				writeHeaderCounts(e.Writer, total, h, h.base)
			}
		}
		e.family(kind, "requests_tls_total", "counter", hs, nil)
		dur := "traefik_" + kind + "_request_duration_seconds"
		e.bucket, e.sum, e.count = dur+"_bucket", dur+"_sum", dur+"_count"
		e.family(kind, "request_duration_seconds", "histogram", hs, e.histogram)
		e.family(kind, "requests_bytes_total", "counter", hs, func(h *Handle, c *cell) { e.sample(bytesIn, h, c, "", c.reqBytes.Load()) })
		e.family(kind, "responses_bytes_total", "counter", hs, func(h *Handle, c *cell) { e.sample(bytesOut, h, c, "", c.respBytes.Load()) })
		if kind == "service" {
			writeServiceExtras(e.Writer, hs)
		}
	}
	return 0, e.Flush()
}

// expo writes one exposition: numbers are formatted in num, the
// histogram's names and le labels are made once per level.
type expo struct {
	*bufio.Writer
	num                []byte
	les                []string
	bucket, sum, count string
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
func (e *expo) family(kind, metric, typ string, hs []*Handle, f func(*Handle, *cell)) {
	name := "traefik_" + kind + "_" + metric
	e.WriteString("# HELP " + name + " " + help[kind+"_"+metric] + "\n# TYPE " + name + " " + typ + "\n")
	for _, h := range hs {
		if f == nil {
			writeTLS(e.Writer, name, h)
			continue
		}
		h.each(func(c *cell) { f(h, c) })
	}
}

// labels writes {code=..,<mid>,method=..,protocol=..<tail><extra>}.
func (e *expo) labels(h *Handle, c *cell, extra string) {
	e.WriteString(`{code="`)
	e.num = strconv.AppendInt(e.num[:0], int64(c.key>>8)&0x3ff, 10)
	e.Write(e.num)
	e.WriteByte('"')
	e.WriteString(h.mid)
	e.WriteString(`,method="`)
	e.WriteString(methodNames[(c.key>>4)&0xf])
	e.WriteString(`",protocol="`)
	e.WriteString(protoNames[c.key&0xf])
	e.WriteByte('"')
	e.WriteString(h.tail)
	e.WriteString(extra)
	e.WriteString("} ")
}

func (e *expo) sample(name string, h *Handle, c *cell, extra string, v uint64) {
	e.WriteString(name)
	e.labels(h, c, extra)
	e.num = strconv.AppendUint(e.num[:0], v, 10)
	e.num = append(e.num, '\n')
	e.Write(e.num)
}

func (e *expo) histogram(h *Handle, c *cell) {
	count := c.count.Load()
	var cum uint64
	for i := range h.bounds {
		cum += c.buckets[i].Load()
		e.sample(e.bucket, h, c, e.les[i], min(cum, count))
	}
	e.sample(e.bucket, h, c, `,le="+Inf"`, count)
	e.WriteString(e.sum)
	e.labels(h, c, "")
	e.num = strconv.AppendFloat(e.num[:0], fmtSeconds(c.sumNanos.Load()), 'g', -1, 64)
	e.num = append(e.num, '\n')
	e.Write(e.num)
	e.sample(e.count, h, c, "", count)
}

func writeTLS(b *bufio.Writer, name string, h *Handle) {
	for i := range h.tls {
		c := h.tls[i].Load()
		if c == nil {
			continue
		}
		b.WriteString(name + "{" + h.tlsPre + `tls_cipher="` + CipherName(c.cipher) + `",tls_version="` + TLSVersion(c.version) + `"} `)
		b.WriteString(strconv.FormatUint(c.count.Load(), 10))
		b.WriteByte('\n')
	}
}

// cipherNames are Go's cipher suite names (tls.CipherSuiteName builds
// its lists anew on each call).
var cipherNames = func() map[uint16]string {
	m := map[uint16]string{}
	for _, c := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		m[c.ID] = c.Name
	}
	return m
}()

// CipherName is tls.CipherSuiteName, without allocating.
func CipherName(id uint16) string {
	if n, ok := cipherNames[id]; ok {
		return n
	}
	return tls.CipherSuiteName(id)
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
