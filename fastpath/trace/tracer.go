package trace

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"math"
	"sync"
	"time"
)

// Config is --tracing.*, with Traefik's defaults from NewConfig.
type Config struct {
	ServiceName        string
	SampleRate         float64
	ResourceAttributes map[string]string
	// Endpoint is the OTLP/HTTP traces URL (Traefik's
	// tracing.otlp.http.endpoint; /v1/traces when it has no path).
	Endpoint string
	Headers  map[string]string
	// GRPCEndpoint, when set, sends the traces over OTLP/gRPC to this
	// host:port instead (tracing.otlp.grpc.endpoint, Traefik's default
	// localhost:4317); GRPCInsecure: without TLS (tracing.otlp.grpc.insecure).
	GRPCEndpoint string
	GRPCInsecure bool
	// TLS is the exporter's client TLS (tracing.otlp.{http,grpc}.tls.*: a
	// CA to trust, a client certificate, insecureSkipVerify); nil: Go's
	// defaults.
	TLS             *tls.Config
	CapturedRequest []string // header names, canonical
	CapturedResp    []string
	SafeQueryParams []string
	Queue           int // traces queued for export (default 1024)
	// OnExportError, when set, hears of failing exports as package
	// failrep rules (at most every failrep.Interval while they go on):
	// err and the traces lost since the last call; err nil when exports
	// succeed again. It is called on the exporter's goroutine.
	OnExportError func(err error, tracesLost uint64)
}

// NewConfig is Traefik's default tracing: service "traefik", every
// request sampled, OTLP/HTTP to https://localhost:4318/v1/traces.
func NewConfig() *Config {
	return &Config{ServiceName: "traefik", SampleRate: 1, Endpoint: "https://localhost:4318/v1/traces"}
}

// Tracer starts and exports traces.
type Tracer struct {
	cfg       Config
	threshold uint64 // TraceIDRatioBased: sampled when the id's low 63 bits are below it
	pool      sync.Pool
	exp       *exporter
	rnd       sync.Pool // *idSource
}

// New starts a tracer and its exporter.
func New(cfg Config) *Tracer {
	if cfg.Queue <= 0 {
		cfg.Queue = 1024
	}
	t := &Tracer{cfg: cfg}
	switch {
	case cfg.SampleRate >= 1:
		t.threshold = math.MaxUint64
	case cfg.SampleRate > 0:
		t.threshold = uint64(cfg.SampleRate * (1 << 63)) // OTel's traceIDUpperBound
	}
	t.pool.New = func() any { return new(Request) }
	t.rnd.New = func() any { return newIDSource() }
	t.exp = newExporter(&t.cfg, t)
	return t
}

// Dropped counts the traces the exporter had no room for.
func (t *Tracer) Dropped() uint64 { return t.exp.dropped.Load() }

// Close exports what is queued (waiting at most timeout).
func (t *Tracer) Close(timeout time.Duration) { t.exp.close(timeout) }

// Begin decides whether a request is traced: its incoming traceparent
// (nil: none) decides when valid (ParentBased), else the sample rate on a
// new trace id. It returns nil for a request not traced: then the
// traceparent, if any, is passed on untouched.
func (t *Tracer) Begin(traceparent []byte, now time.Time) *Request {
	var r *Request
	trace, parent, flags, ok := parseTraceparent(traceparent)
	if ok {
		if flags&1 == 0 {
			return nil
		}
		r = t.pool.Get().(*Request)
		r.reset()
		r.TraceID, r.remoteParent, r.hasParent = trace, parent, true
	} else {
		ids := t.rnd.Get().(*idSource)
		ids.fill(trace[:])
		t.rnd.Put(ids)
		if binary.BigEndian.Uint64(trace[8:])>>1 >= t.threshold && t.threshold != math.MaxUint64 { // OTel's TraceIDRatioBased
			return nil
		}
		r = t.pool.Get().(*Request)
		r.reset()
		r.TraceID = trace
	}
	ids := t.rnd.Get().(*idSource)
	for i := range r.spanIDs {
		ids.fill(r.spanIDs[i][:])
	}
	t.rnd.Put(ids)
	r.start = now
	return r
}

// parseTraceparent reads a W3C traceparent: version 00 (or a later one,
// read as 00), trace id, parent id, flags; all-zero ids are invalid.
func parseTraceparent(v []byte) (trace [16]byte, parent [8]byte, flags byte, ok bool) {
	if len(v) < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' || string(v[:2]) == "ff" || len(v) > 55 && (string(v[:2]) == "00" || v[55] != '-') {
		return trace, parent, 0, false
	}
	var f [1]byte
	if _, err := hex.Decode(trace[:], v[3:35]); err != nil {
		return trace, parent, 0, false
	}
	if _, err := hex.Decode(parent[:], v[36:52]); err != nil {
		return trace, parent, 0, false
	}
	if _, err := hex.Decode(f[:], v[53:55]); err != nil || trace == ([16]byte{}) || parent == ([8]byte{}) {
		return trace, parent, 0, false
	}
	return trace, parent, f[0], true
}

// idSource makes random ids from a seed read once (ids need to be
// unique, not secret).
type idSource struct{ s0, s1 uint64 }

func newIDSource() *idSource {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return &idSource{binary.LittleEndian.Uint64(b[:8]) | 1, binary.LittleEndian.Uint64(b[8:])}
}

// fill writes random bytes (xorshift128+) to b, never all zero.
func (s *idSource) fill(b []byte) {
	for i := 0; i < len(b); i += 8 {
		x, y := s.s0, s.s1
		s.s0 = y
		x ^= x << 23
		s.s1 = x ^ y ^ (x >> 17) ^ (y >> 26)
		binary.LittleEndian.PutUint64(b[i:], s.s1+y)
	}
	if b[0] == 0 {
		b[0] = 1
	}
}
