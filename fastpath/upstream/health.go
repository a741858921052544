package upstream

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// HealthConfig is an active health check (Traefik's healthCheck).
type HealthConfig struct {
	Mode              string // "http" (default) or "grpc" (the gRPC health checking protocol)
	Scheme            string // default: the endpoint's
	Path              string
	Method            string // default GET
	Hostname          string // Host header; default the endpoint address
	Port              int    // default the endpoint's
	Status            int    // expected; 0: any 2xx or 3xx
	Interval          time.Duration
	UnhealthyInterval time.Duration // default Interval
	Timeout           time.Duration
	FollowRedirects   bool
	Headers           map[string]string
}

// key identifies a check of an endpoint: same key, same state.
func (c HealthConfig) key(e *Endpoint) string {
	var hs []string
	for k, v := range c.Headers {
		hs = append(hs, k+"="+v)
	}
	sort.Strings(hs)
	return fmt.Sprintf("%s|%s|%s|%s|%s|%s|%d|%d|%v|%v|%v|%t|%s", e.Key, c.Mode, c.Scheme, c.Path, c.Method, c.Hostname, c.Port,
		c.Status, c.Interval, c.UnhealthyInterval, c.Timeout, c.FollowRedirects, strings.Join(hs, ","))
}

// Health is the state of one endpoint under one check. It lives in the
// Registry, not in a routing table, so a table swap that keeps the same
// check keeps the state (Traefik restarts every server as up).
type Health struct {
	cfg    HealthConfig
	e      *Endpoint
	url    string
	down   atomic.Bool
	probes atomic.Uint64 // probes done, for tests and logs
	cancel context.CancelFunc
	used   bool // guarded by Registry.mu
	log    *slog.Logger
	proxy  *proxyRoute // the check's, chosen as the endpoint's are
}

// Down reports whether the last probe failed. nil is always up.
func (h *Health) Down() bool { return h != nil && h.down.Load() }

// Health returns the running check of e with cfg, starting it if new.
func (r *Registry) Health(e *Endpoint, cfg HealthConfig, log *slog.Logger) *Health {
	k := cfg.key(e)
	r.mu.Lock()
	defer r.mu.Unlock()
	if h := r.health[k]; h != nil {
		h.used = true
		return h
	}
	if cfg.UnhealthyInterval <= 0 {
		cfg.UnhealthyInterval = cfg.Interval
	}
	h := &Health{cfg: cfg, e: e, used: true, log: log}
	h.url = h.target()
	if u, err := url.Parse(h.url); err == nil {
		h.proxy, _ = proxyFor(r.opts, h.scheme(), u.Host) // an error: as the endpoint, which reports it
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	r.health[k] = h
	go h.run(ctx)
	return h
}

func (h *Health) target() string {
	scheme := h.scheme()
	if scheme == "h2c" {
		scheme = "http" // spoken as HTTP/2 with prior knowledge (see run)
	}
	addr := h.e.Addr
	if h.cfg.Port > 0 {
		host, _, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort(host, strconv.Itoa(h.cfg.Port))
	}
	path := h.cfg.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return scheme + "://" + addr + path
}

func (h *Health) scheme() string {
	if h.cfg.Scheme != "" {
		return h.cfg.Scheme
	}
	return h.e.Scheme
}

// tlsConfig is the endpoint's TLS configuration (its ServersTransport,
// or the default transport's: serverName, CAs, insecureSkipVerify, client
// certificates), which the check uses too, as Traefik's does.
func (h *Health) tlsConfig() *tls.Config {
	if tc := h.e.Client.TLSConfig; tc != nil {
		return tc.Clone()
	}
	return &tls.Config{MinVersion: tls.VersionTLS12}
}

// dial is how the check reaches its target: directly, or through the
// proxy's tunnel (Go's transport does absolute-form requests itself).
func (h *Health) dial() func(string) (net.Conn, error) {
	raw := h.e.rawDialOrDefault()
	if h.proxy == nil || h.proxy.absolute {
		return raw
	}
	return h.proxy.dial(raw, 30*time.Second)
}

func (h *Health) run(ctx context.Context) {
	client := &http.Client{Timeout: h.cfg.Timeout, Transport: &http.Transport{
		TLSClientConfig: h.tlsConfig(), DisableKeepAlives: true, DialContext: dialContext(h.e.rawDialOrDefault()),
		Proxy: h.proxy.proxyFunc(),
	}}
	if h.cfg.Mode == "grpc" || h.scheme() == "h2c" {
		client.Transport = grpcTransport(h.url, h.tlsConfig(), h.dial())
	}
	if !h.cfg.FollowRedirects {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	for {
		err := h.probe(ctx, client)
		was := h.down.Swap(err != nil)
		h.probes.Add(1)
		if was != (err != nil) {
			if err != nil {
				h.log.Warn("health check failed; server out of rotation", "server", h.e.Key, "check", h.url, "error", err)
			} else {
				h.log.Info("health check passed; server back in rotation", "server", h.e.Key, "check", h.url)
			}
		}
		wait := h.cfg.Interval
		if err != nil {
			wait = h.cfg.UnhealthyInterval
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (h *Health) probe(ctx context.Context, client *http.Client) error {
	if h.cfg.Mode == "grpc" {
		return h.probeGRPC(ctx, client)
	}
	method := h.cfg.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := h.request(ctx, method, h.url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	ok := resp.StatusCode >= 200 && resp.StatusCode < 400
	if h.cfg.Status != 0 {
		ok = resp.StatusCode == h.cfg.Status
	}
	if !ok {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// request is a probe with the check's hostname and headers.
func (h *Health) request(ctx context.Context, method, url string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	if h.cfg.Hostname != "" {
		req.Host = h.cfg.Hostname
	}
	for k, v := range h.cfg.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}
