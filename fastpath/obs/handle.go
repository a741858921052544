package obs

import (
	"sync"
	"sync/atomic"
	"time"
)

// Protocols, as Traefik's getRequestProtocol names them.
const (
	ProtoHTTP uint8 = iota
	ProtoWebsocket
	ProtoSSE
	ProtoGRPCWeb
	ProtoGRPC
)

var protoNames = [...]string{"http", "websocket", "sse", "grpc-web", "grpc"}

// Methods, as Traefik's getMethod bounds them.
var methodNames = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PRI",
	"EXTENSION_METHOD", "NON_UTF8_HTTP_METHOD"}

// Method is the index of a request method in methodNames, without
// allocating: Traefik's verbs, else EXTENSION_METHOD (or
// NON_UTF8_HTTP_METHOD for a method that is not UTF-8).
func Method(m []byte) uint8 {
	switch string(m) {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "DELETE":
		return 4
	case "CONNECT":
		return 5
	case "OPTIONS":
		return 6
	case "TRACE":
		return 7
	case "PATCH":
		return 8
	case "PRI":
		return 9
	}
	for _, c := range m {
		if c >= 0x80 {
			return 11
		}
	}
	return 10
}

// DefaultBuckets are Traefik's duration buckets, in seconds.
var DefaultBuckets = []float64{0.1, 0.3, 1.2, 5}

// cell is one (code, method, protocol) combination of a handle.
type cell struct {
	key                 uint32
	count, sumNanos     atomic.Uint64
	reqBytes, respBytes atomic.Uint64
	buckets             []atomic.Uint64 // per bucket (not cumulative); beyond the last: count minus their sum
}

// tlsCell counts the TLS requests of one (version, cipher).
type tlsCell struct {
	version, cipher uint16
	count           atomic.Uint64
}

const slots = 64 // cells looked up lock-free; more go to a locked overflow

// Handle is the series of one entry point, router or service.
type Handle struct {
	kind   string // "entrypoint", "router", "service"
	mid    string // labels sorting between code and method: `,entrypoint="web"`
	tail   string // labels sorting after protocol: `,router="r",service="s"`
	tlsPre string // labels sorting before tls_cipher (all of them: entrypoint, router, service)
	bounds []float64
	cells  [slots]atomic.Pointer[cell]
	tls    [16]atomic.Pointer[tlsCell]
	mu     sync.Mutex
	more   []*cell // beyond slots (guarded by mu)

	hl   *headerLabels // nil: no headerLabels configured
	hdr  headerCounts  // requests_total by header values (with hl)
	base [][2]string   // the handle's own labels (entrypoint, or router and service)

	retries atomic.Uint64                // a service's retries (traefik_service_retries_total)
	servers atomic.Pointer[ServerStates] // a service's checked servers (traefik_service_server_up)
}

// ServerStates calls yield with each server of a service and whether it is
// up, for traefik_service_server_up.
type ServerStates func(yield func(url string, up bool))

// Retried counts one retry of a request on the service. Safe on nil.
func (h *Handle) Retried() {
	if h != nil {
		h.retries.Add(1)
	}
}

// SetServers sets where a service's servers' health is read (nil: the
// service has no health checks, as Traefik then reports none).
func (h *Handle) SetServers(s ServerStates) {
	if h == nil {
		return
	}
	if s == nil {
		h.servers.Store(nil)
		return
	}
	h.servers.Store(&s)
}

// Observe counts one request: status code, method (Method) and protocol
// index, its duration and body sizes. Safe on a nil handle (metrics off).
func (h *Handle) Observe(code int, method, proto uint8, d time.Duration, reqBytes, respBytes int) {
	if h == nil {
		return
	}
	if code < 0 || code > 999 {
		code = 0
	}
	c := h.cell(uint32(code)<<8 | uint32(method)<<4 | uint32(proto) | 1<<31)
	c.count.Add(1)
	if d < 0 {
		d = 0
	}
	c.sumNanos.Add(uint64(d))
	s := d.Seconds()
	for i, b := range h.bounds {
		if s <= b {
			c.buckets[i].Add(1)
			break
		}
	}
	if reqBytes > 0 {
		c.reqBytes.Add(uint64(reqBytes))
	}
	if respBytes > 0 {
		c.respBytes.Add(uint64(respBytes))
	}
}

func (h *Handle) cell(key uint32) *cell {
	i := (key * 2654435761) >> 26 % slots
	for n := 0; n < slots; n++ {
		p := &h.cells[(i+uint32(n))%slots]
		c := p.Load()
		if c == nil {
			nc := &cell{key: key, buckets: make([]atomic.Uint64, len(h.bounds))}
			if p.CompareAndSwap(nil, nc) {
				return nc
			}
			c = p.Load()
		}
		if c.key == key {
			return c
		}
	}
	return h.overflow(key)
}

func (h *Handle) overflow(key uint32) *cell {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.more {
		if c.key == key {
			return c
		}
	}
	c := &cell{key: key, buckets: make([]atomic.Uint64, len(h.bounds))}
	h.more = append(h.more, c)
	return c
}

// ObserveTLS counts one request over TLS with the connection's version
// and cipher suite (crypto/tls's numbers).
func (h *Handle) ObserveTLS(version, cipher uint16) {
	if h == nil {
		return
	}
	for i := range h.tls {
		p := &h.tls[i]
		c := p.Load()
		if c == nil {
			nc := &tlsCell{version: version, cipher: cipher}
			if p.CompareAndSwap(nil, nc) {
				c = nc
			} else {
				c = p.Load()
			}
		}
		if c.version == version && c.cipher == cipher {
			c.count.Add(1)
			return
		}
	}
}

// each calls f for every cell (the lock-free ones, then the overflow).
func (h *Handle) each(f func(*cell)) {
	for i := range h.cells {
		if c := h.cells[i].Load(); c != nil {
			f(c)
		}
	}
	h.mu.Lock()
	more := h.more
	h.mu.Unlock()
	for _, c := range more {
		f(c)
	}
}

func fmtSeconds(nanos uint64) float64 { return float64(nanos) / 1e9 }
