package kube

import (
	"context"
	"net/http"
	"time"

	"k8s.io/client-go/rest"
)

// Recovery from an API server outage. client-go's reflectors retry with
// a backoff that grows to a wait in [30 s, 60 s) and only resets after two
// quiet minutes, so after a restart of the API server changes could take
// a minute to reach the table (TestK8sSoak measured 22 s median, 79 s
// worst). While the API server is unreachable Sluice probes its /readyz
// every probeEvery; once it answers, a new set of informers lists
// everything and takes over from the old ones, whose caches keep serving
// until the new ones have synced: one extra list per outage.

// probeEvery is how often an unreachable API server is probed.
const probeEvery = time.Second

// minOutage: an outage shorter than this ends without a restart (the
// reflectors' first retries, 0.8 s and 1.6 s apart, catch up by
// themselves), so that a failed request now and then costs no relist.
const minOutage = 2 * time.Second

// watchDown is called by the observer at the first failure of an
// outage: it starts the prober once.
func (p *Provider) watchDown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.probing || p.runCtx == nil {
		return
	}
	p.probing = true
	go p.probe(p.runCtx, time.Now())
}

// probe waits for the API server to answer /readyz, then restarts the
// informers when the outage (from since) lasted minOutage: even when some
// reflectors got through by themselves, others may still be waiting out a
// long backoff, and which is not observable.
func (p *Provider) probe(ctx context.Context, since time.Time) {
	defer func() {
		p.mu.Lock()
		p.probing = false
		p.mu.Unlock()
	}()
	hc, err := rest.HTTPClientFor(p.probeCfg)
	if err != nil {
		p.opts.Logger.Warn("cannot probe the API server", "error", err)
		return
	}
	url := p.probeCfg.Host + "/readyz"
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(probeEvery):
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err != nil {
			p.opts.Logger.Debug("API server probe", "error", err)
			continue
		}
		p.opts.Logger.Debug("API server probe", "status", resp.StatusCode)
		resp.Body.Close()
		switch {
		case resp.StatusCode != http.StatusOK:
		case time.Since(since) < minOutage:
			return
		default:
			p.opts.Logger.Info("API server answers again; restarting the watches instead of waiting for client-go's backoff")
			p.restart(ctx)
			return
		}
	}
}

// restartSync bounds how long a new set of informers may take to sync.
const restartSync = 2 * time.Minute

// restart starts a new set of informers, waits until they have synced,
// makes them the provider's and stops the old ones; the next update is a
// full one. If the new set cannot sync within restartSync, the old one
// stays.
func (p *Provider) restart(ctx context.Context) {
	gen, cancel := context.WithCancel(ctx)
	infs := p.informers(p.dc)
	for _, in := range infs {
		go in.inf.RunWithContext(gen)
	}
	syncCtx, done := context.WithTimeout(gen, restartSync)
	err := waitSynced(syncCtx, infs, p.opts.Logger)
	done()
	if err != nil { // down again: the old set stays, and the next outage probes anew
		cancel()
		return
	}
	p.mu.Lock()
	old := p.stop
	p.infs, p.stop, p.full = infs, cancel, true
	p.mu.Unlock()
	old()
	p.link.up()
	select {
	case p.notify <- struct{}{}:
	default:
	}
}
