package upstream

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// PassiveConfig is Traefik's passiveHealthCheck: a server whose requests
// fail MaxFailedAttempts times within FailureWindow leaves the rotation
// for FailureWindow.
type PassiveConfig struct {
	FailureWindow     time.Duration // default 10s
	MaxFailedAttempts int           // default 1
}

// Passive is one endpoint's failure count under one config. Like Health,
// it lives in the Registry, so table swaps keep it.
type Passive struct {
	cfg       PassiveConfig
	e         *Endpoint
	start     atomic.Int64 // window start, unix ns
	fails     atomic.Int32
	downUntil atomic.Int64 // unix ns
	used      bool         // guarded by Registry.mu
	log       *slog.Logger
}

// Passive returns the failure counter of e under cfg.
func (r *Registry) Passive(e *Endpoint, cfg PassiveConfig, log *slog.Logger) *Passive {
	if cfg.FailureWindow <= 0 {
		cfg.FailureWindow = 10 * time.Second
	}
	if cfg.MaxFailedAttempts <= 0 {
		cfg.MaxFailedAttempts = 1
	}
	k := fmt.Sprintf("%s|%v|%d", e.Key, cfg.FailureWindow, cfg.MaxFailedAttempts)
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.passive[k]
	if p == nil {
		p = &Passive{cfg: cfg, e: e, log: log}
		r.passive[k] = p
	}
	p.used = true
	return p
}

// Fail counts a failed request (the server could not be reached or did
// not answer: Sluice's 502 and 504).
func (p *Passive) Fail(now time.Time) {
	if p == nil {
		return
	}
	n, w := now.UnixNano(), int64(p.cfg.FailureWindow)
	if s := p.start.Load(); n-s > w {
		p.start.Store(n)
		p.fails.Store(0)
	}
	if int(p.fails.Add(1)) >= p.cfg.MaxFailedAttempts {
		p.fails.Store(0)
		p.start.Store(n)
		if p.downUntil.Swap(n+w) < n {
			p.log.Warn("passive health check: server out of rotation", "server", p.e.Key, "for", p.cfg.FailureWindow)
		}
	}
}

// Down reports whether the server is out of rotation at now (unix ns).
// nil is never down.
func (p *Passive) Down(now int64) bool { return p != nil && now < p.downUntil.Load() }
