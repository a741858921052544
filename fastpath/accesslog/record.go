package accesslog

import (
	"crypto/x509"
	"time"
)

// Record is one request as the access log needs it. The front end fills
// it after the answer is made; byte fields are appended to (their
// buffers are reused), string fields point at immutable strings of the
// routing table.
type Record struct {
	Start    time.Time
	Duration time.Duration

	EntryPoint string
	Router     string // "": no router matched
	// Service and ServiceURL name the load balancer and server that
	// answered ("": none; the Origin fields are then zero).
	Service, ServiceURL string
	OriginStatus        int
	OriginSize          int64
	OriginDuration      time.Duration

	Status  int   // sent to the client
	Size    int64 // response body bytes sent
	ReqSize int64 // request body bytes
	Retries int

	TLSVersion, TLSCipher uint16 // zero: plain
	ClientCert            *x509.Certificate
	User                  []byte // ClientUsername, when UserSet (else -)
	UserSet               bool
	ChildRouter           string // multi-layer routing: Router -> ChildRouter

	Method, URI, Proto, Host []byte
	ClientIP                 []byte // text
	ClientPort               int
	ForwardedFor             []byte // the X-Forwarded-For the entry point trusted

	// ReqHeaders and RespHeaders are name, value pairs (canonical names)
	// when Logger.Headers says the line may show them.
	ReqHeaders, RespHeaders Headers

	count uint64
}

// Headers are header fields in one buffer: name, 0, value, 0, ...
type Headers struct{ b []byte }

// Add appends one field.
func (h *Headers) Add(name, value []byte) {
	h.b = append(append(append(append(h.b, name...), 0), value...), 0)
}

// each calls f on every field, in order.
func (h *Headers) each(f func(name, value []byte)) {
	b := h.b
	for len(b) > 0 {
		i := indexZero(b)
		name := b[:i]
		b = b[i+1:]
		j := indexZero(b)
		f(name, b[:j])
		b = b[j+1:]
	}
}

func indexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return len(b)
}

// newRecord is a record whose buffers fit a typical request.
func newRecord() *Record {
	return &Record{Method: make([]byte, 0, 8), URI: make([]byte, 0, 128), Proto: make([]byte, 0, 8), Host: make([]byte, 0, 48),
		ClientIP: make([]byte, 0, 40), ForwardedFor: make([]byte, 0, 48), User: make([]byte, 0, 16)}
}

func (r *Record) reset() {
	*r = Record{Method: r.Method[:0], URI: r.URI[:0], Proto: r.Proto[:0], Host: r.Host[:0], ClientIP: r.ClientIP[:0], User: r.User[:0],
		ForwardedFor: r.ForwardedFor[:0], ReqHeaders: Headers{r.ReqHeaders.b[:0]}, RespHeaders: Headers{r.RespHeaders.b[:0]}}
}
