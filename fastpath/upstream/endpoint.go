package upstream

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/pollconn"
	"github.com/valyala/fasthttp"
)

// Options configure the connection pool of new endpoints.
type Options struct {
	MaxConns        int           // per endpoint; default 1024; requests beyond wait up to DialTimeout for one
	DialTimeout     time.Duration // default 30s (Traefik's)
	IdleConnTimeout time.Duration // default 90s (Traefik's)
	ReadTimeout     time.Duration // response timeout; 0 = none (Traefik's default)
	ReadBufferSize  int           // read buffer per request in flight; default 4 KiB (larger response headers get a larger one)
	// Proxy chooses the proxy for a server (its scheme http or https and
	// host:port), as net/http's ProxyFromEnvironment; nil: none (proxy.go).
	Proxy func(*url.URL) (*url.URL, error)
	// DescriptorCeiling keeps the process's last descriptors for what must
	// work when connections take the rest (a liveness probe, the
	// providers' watches): a server connection whose descriptor number is
	// at or above it is closed and the dial fails with
	// ErrDescriptorReserve. 0: no check.
	DescriptorCeiling int
}

// ErrDescriptorReserve is a dial refused to keep Options.DescriptorCeiling.
var ErrDescriptorReserve = errors.New("descriptors nearly exhausted: server connection refused to keep the reserve")

// Endpoint is one upstream address with its connection pool. It must not be
// copied. Client is safe for concurrent use.
type Endpoint struct {
	Key    string // scheme://host:port, then the transport's settings
	URL    string // scheme://host:port, shared by every server at this endpoint
	Addr   string // host:port
	Scheme string // http or https
	Client *fasthttp.HostClient
	used   bool // registry bookkeeping, guarded by Registry.mu
	rtOnce sync.Once
	rt     http.RoundTripper // see RoundTripper

	direct *Transport // set for a plain-HTTP endpoint of the Registry: Do skips HostClient.Do

	maxIdle int  // ServersTransport maxIdleConnsPerHost for the net/http transport
	noHTTP2 bool // ServersTransport disableHTTP2
	proxy   *proxyRoute
	rawDial func(string) (net.Conn, error) // TCP to an address, never through the proxy
}

// rawDialOrDefault is rawDial, or a plain dial for endpoints made by hand.
func (e *Endpoint) rawDialOrDefault() func(string) (net.Conn, error) {
	if e.rawDial != nil {
		return e.rawDial
	}
	return func(a string) (net.Conn, error) { return net.DialTimeout("tcp", a, 30*time.Second) }
}

// AbsoluteForm reports whether requests to e go to an HTTP proxy in
// absolute form ("GET http://server/path"), with ProxyAuthorization, if
// not empty, as their Proxy-Authorization header.
func (e *Endpoint) AbsoluteForm() bool { return e.proxy != nil && e.proxy.absolute }

// ProxyAuthorization is the Proxy-Authorization of absolute-form requests.
func (e *Endpoint) ProxyAuthorization() string {
	if e.proxy == nil {
		return ""
	}
	return e.proxy.auth
}

// Registry hands out endpoints by address. The zero value is not usable;
// call NewRegistry.
type Registry struct {
	mu      sync.Mutex
	opts    Options
	m       map[string]*Endpoint
	health  map[string]*Health
	passive map[string]*Passive
}

// NewRegistry returns an empty registry whose endpoints use opts.
func NewRegistry(opts Options) *Registry {
	if opts.MaxConns == 0 {
		opts.MaxConns = 1024
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 30 * time.Second
	}
	if opts.IdleConnTimeout == 0 {
		opts.IdleConnTimeout = 90 * time.Second
	}
	if opts.ReadBufferSize == 0 {
		opts.ReadBufferSize = 4 << 10
	}
	return &Registry{opts: opts, m: map[string]*Endpoint{}, health: map[string]*Health{}, passive: map[string]*Passive{}}
}

// Get returns the endpoint for scheme://addr, creating it if needed, and
// marks it used for the next Prune.
func (r *Registry) Get(scheme, addr string) *Endpoint {
	e, _ := r.GetWith(scheme, addr, nil)
	return e
}

// GetWith is Get under a ServersTransport (nil: the default transport).
// Endpoints of one address under different transports are distinct.
func (r *Registry) GetWith(scheme, addr string, tc *TransportConfig) (*Endpoint, error) {
	key := scheme + "://" + addr + tc.key()
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.m[key]
	if e == nil {
		var err error
		if e, err = r.newEndpoint(key, scheme, addr, tc); err != nil {
			return nil, err
		}
		r.m[key] = e
	}
	e.used = true
	return e, nil
}

func (r *Registry) newEndpoint(key, scheme, addr string, tc *TransportConfig) (*Endpoint, error) {
	o := r.opts
	if tc != nil {
		if tc.DialTimeout > 0 {
			o.DialTimeout = tc.DialTimeout
		}
		if tc.ResponseHeaderTimeout > 0 {
			o.ReadTimeout = tc.ResponseHeaderTimeout
		}
		if tc.IdleConnTimeout > 0 {
			o.IdleConnTimeout = tc.IdleConnTimeout
		}
	}
	dialer := &fasthttp.TCPDialer{Concurrency: 0}
	rawDial := func(a string) (net.Conn, error) {
		c, err := dialer.DialTimeout(a, o.DialTimeout)
		if err != nil {
			return nil, err
		}
		if o.DescriptorCeiling > 0 && pollconn.Descriptor(c) >= o.DescriptorCeiling {
			_ = c.Close()
			return nil, ErrDescriptorReserve
		}
		return pollconn.Wrap(c), nil
	}
	px, err := proxyFor(o, scheme, addr)
	if err != nil {
		return nil, err
	}
	dial := rawDial
	if px != nil {
		dial = px.dial(rawDial, o.DialTimeout)
	}
	c := &fasthttp.HostClient{
		Addr:                          addr,
		IsTLS:                         scheme == "https",
		MaxConns:                      o.MaxConns,
		MaxConnWaitTimeout:            o.DialTimeout, // a full pool queues requests rather than failing them
		MaxIdleConnDuration:           o.IdleConnTimeout,
		ReadTimeout:                   o.ReadTimeout,
		ReadBufferSize:                o.ReadBufferSize,
		DisablePathNormalizing:        true, // we forward Traefik's normalised path as is
		DisableHeaderNamesNormalizing: false,
		NoDefaultUserAgentHeader:      true,
		Transport:                     &Transport{MaxIdle: tc.maxIdle()}, // streams large bodies; fasthttp's own streaming allocates
		RetryIfErr:                    retryIdempotentOnReusedConn,
		Dial:                          dial,
	}
	// The connection released last is taken first, as Go's http.Transport
	// (and so Traefik) takes them (TestPoolReusesTheLastConnection): after a
	// burst the connections not needed idle out, where fasthttp's default
	// (FIFO) keeps cycling requests through all of them. On CPU it measured
	// at noise level at 1,000 connections (PERF.md, 1587295).
	c.ConnPoolStrategy = fasthttp.LIFO
	if c.IsTLS {
		tlsc, err := tc.tlsConfig(hostOnly(addr))
		if err != nil {
			return nil, err
		}
		c.TLSConfig = tlsc
	}
	e := &Endpoint{Key: key, URL: scheme + "://" + addr, Addr: addr, Scheme: scheme, Client: c, proxy: px, rawDial: rawDial}
	if !c.IsTLS {
		e.direct = c.Transport.(*Transport) // Do's way (do.go)
	}
	if tc != nil {
		e.maxIdle, e.noHTTP2 = tc.MaxIdleConnsPerHost, tc.DisableHTTP2
	}
	return e, nil
}

// retryIdempotentOnReusedConn sends a request again, once, after its
// connection failed (a keep-alive connection the server had closed), when
// Go's transport, and so Traefik, would: a request without a body that is
// a GET, HEAD, OPTIONS or TRACE, or carries an Idempotency-Key or
// X-Idempotency-Key header (net/http's isReplayable; Traefik's proxy sends
// a request with a body as one that cannot be rewound, so it is never
// replayed). (fasthttp's RetryIfErr returns resetTimeout, retry.)
func retryIdempotentOnReusedConn(req *fasthttp.Request, attempts int, err error) (resetTimeout, retry bool) {
	if attempts > 1 || req.IsBodyStream() || len(req.Body()) > 0 {
		return false, false
	}
	h := &req.Header
	if h.IsGet() || h.IsHead() || h.IsOptions() || h.IsTrace() {
		return false, true
	}
	return false, len(h.PeekAll("Idempotency-Key")) > 0 || len(h.PeekAll("X-Idempotency-Key")) > 0
}

func hostOnly(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

// Keep marks what a server reused from a previous table holds (its
// endpoint, and its active and passive checks, each possibly nil) as
// still in use for the next Prune, under one lock.
func (r *Registry) Keep(e *Endpoint, h *Health, p *Passive) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e != nil {
		if r.m[e.Key] == nil {
			r.m[e.Key] = e
		}
		e.used = true
	}
	if h != nil {
		h.used = true
	}
	if p != nil {
		p.used = true
	}
}

// DialRaw opens a connection of its own to the endpoint, outside the pool,
// TLS included for https: for protocol upgrades (WebSocket), whose
// connections never return to a pool.
func (e *Endpoint) DialRaw() (net.Conn, error) {
	c, err := e.Client.Dial(e.Addr)
	if err != nil || e.Client.TLSConfig == nil {
		return c, err
	}
	tc := tls.Client(c, e.Client.TLSConfig.Clone())
	if err := tc.Handshake(); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

// Prune drops endpoints not handed out since the previous Prune and closes
// their idle connections (in-flight requests on them complete normally),
// and stops the health checks not handed out or kept since.
func (r *Registry) Prune() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, e := range r.m {
		if !e.used {
			e.Client.CloseIdleConnections()
			delete(r.m, k)
			continue
		}
		e.used = false
	}
	for k, h := range r.health {
		if !h.used {
			h.cancel()
			delete(r.health, k)
			continue
		}
		h.used = false
	}
	for k, p := range r.passive {
		if !p.used {
			delete(r.passive, k)
			continue
		}
		p.used = false
	}
}

// Conns is the number of connections open to the endpoints held.
func (r *Registry) Conns() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.m {
		n += e.Client.ConnsCount()
	}
	return n
}

// Len is the number of endpoints held.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}

// NotSent reports whether err from Client.Do (or Go's transport) left the
// request unsent: the connection could not be made (refused, dial
// timeout, TLS handshake), as Traefik's retry middleware tells a failure
// before the request was written from one after it.
func NotSent(err error) bool {
	if errors.Is(err, fasthttp.ErrDialTimeout) || errors.Is(err, fasthttp.ErrNoFreeConns) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var alert tls.AlertError
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	return errors.As(err, &alert) || errors.As(err, &verify) || errors.As(err, &record)
}

// IsTimeout reports whether err from Client.Do is a timeout (504) rather
// than a refused or broken connection (502).
func IsTimeout(err error) bool {
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
