package obs

import (
	"bufio"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Traefik's headerLabels (--metrics.prometheus.headerLabels.<label>=<header>)
// add, to the requests_total counters only, one label per configured
// header with the request's value ("" when absent). Values are the
// client's, so these counts live in a map (read-locked per request)
// rather than in the handle's fixed cells, and the registry holds at
// most MaxHeaderSeries of them: past that, a request whose values have
// no series yet is counted with every header label OverflowValue
// (Traefik sets no bound; a client sending a new value per request would
// otherwise grow Sluice's memory and the scrape without end).

// MaxHeaderSeries bounds the header-labelled series of a registry.
const MaxHeaderSeries = 100_000

// OverflowValue is every header label's value on the series that counts
// requests past MaxHeaderSeries.
const OverflowValue = "sluice_overflow"

// HeaderPeeker is a request header (fasthttp's RequestHeader).
type HeaderPeeker interface{ Peek(key string) []byte }

// headerLabels are the configured labels, sorted, and their headers,
// and the number of header-labelled series of the registry's handles.
type headerLabels struct {
	names   []string
	headers []string
	series  atomic.Int64
	max     int64
}

func newHeaderLabels(m map[string]string) *headerLabels {
	if len(m) == 0 {
		return nil
	}
	h := &headerLabels{max: MaxHeaderSeries}
	for k := range m {
		h.names = append(h.names, k)
	}
	sort.Strings(h.names)
	for _, k := range h.names {
		h.headers = append(h.headers, m[k])
	}
	return h
}

// headerCounts are a handle's requests_total by code, method, protocol
// and header values.
type headerCounts struct {
	mu sync.RWMutex
	m  map[string]*headerCount
}

type headerCount struct {
	code          int
	method, proto uint8
	values        []string
	overflow      bool // the series of the requests past MaxHeaderSeries
	n             atomic.Uint64
}

// CountHeaders counts one request with its header labels' values (a
// no-op without header labels, or on a nil handle).
func (h *Handle) CountHeaders(code int, method, proto uint8, hd HeaderPeeker) {
	if h == nil || h.hl == nil {
		return
	}
	var buf [256]byte
	key := strconv.AppendInt(append(buf[:0], method, proto), int64(code), 10)
	n := len(key) // the key of the overflow series is key[:n] and 1
	for _, name := range h.hl.headers {
		key = append(append(key, 0), hd.Peek(name)...)
	}
	hc := &h.hdr
	c := hc.get(key)
	if c == nil && h.hl.series.Load() >= h.hl.max {
		key = append(key[:n], 1) // full: counted under the read lock once its series exists
		c = hc.get(key)
	}
	if c == nil {
		c = hc.add(key, n, code, method, proto, h.hl, hd)
	}
	c.n.Add(1)
}

// get is the count of key, or nil.
func (hc *headerCounts) get(key []byte) *headerCount {
	hc.mu.RLock()
	defer hc.mu.RUnlock()
	return hc.m[string(key)]
}

// add makes the count of key (its first n bytes are the code, method and
// protocol), or of the overflow series when the registry holds
// MaxHeaderSeries.
func (hc *headerCounts) add(key []byte, n, code int, method, proto uint8, hl *headerLabels, hd HeaderPeeker) *headerCount {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if c := hc.m[string(key)]; c != nil {
		return c
	}
	c := &headerCount{code: code, method: method, proto: proto, overflow: len(key) == n+1 && key[n] == 1}
	if !c.overflow && hl.series.Add(1) > hl.max {
		hl.series.Add(-1)
		key, c.overflow = append(key[:n], 1), true
		if o := hc.m[string(key)]; o != nil {
			return o
		}
	}
	for _, name := range hl.headers {
		v := OverflowValue
		if !c.overflow {
			v = string(hd.Peek(name))
		}
		c.values = append(c.values, v)
	}
	if hc.m == nil {
		hc.m = map[string]*headerCount{}
	}
	hc.m[string(key)] = c
	return c
}

// release gives back the series of a handle the registry drops.
func (hc *headerCounts) release(hl *headerLabels) {
	if hl == nil {
		return
	}
	hc.mu.RLock()
	n := 0
	for _, c := range hc.m {
		if !c.overflow { // the overflow series are not counted
			n++
		}
	}
	hc.mu.RUnlock()
	hl.series.Add(-int64(n))
}

// writeHeaderCounts writes a handle's requests_total with its header
// labels, every label sorted by name as Prometheus's client writes them.
func writeHeaderCounts(b *bufio.Writer, name string, h *Handle, base [][2]string) {
	h.hdr.mu.RLock()
	keys := make([]string, 0, len(h.hdr.m))
	for k := range h.hdr.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cells := make([]*headerCount, len(keys))
	for i, k := range keys {
		cells[i] = h.hdr.m[k]
	}
	h.hdr.mu.RUnlock()
	for _, c := range cells {
		ls := append([][2]string{{"code", strconv.Itoa(c.code)}, {"method", methodNames[c.method&0xf]}, {"protocol", protoNames[c.proto&0xf]}}, base...)
		for i, n := range h.hl.names {
			ls = append(ls, [2]string{n, c.values[i]})
		}
		sort.Slice(ls, func(i, j int) bool { return ls[i][0] < ls[j][0] })
		parts := make([]string, len(ls))
		for i, l := range ls {
			parts[i] = l[0] + `="` + escape(l[1]) + `"`
		}
		b.WriteString(name + "{" + strings.Join(parts, ",") + "} " + strconv.FormatUint(c.n.Load(), 10) + "\n")
	}
}
