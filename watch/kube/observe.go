package kube

import (
	"net/http"
	"sync"
	"time"
)

// observer sees every request to the API server (one per transport
// client-go builds; they share the provider's link). client-go retries a
// refused watch itself without telling the informer's error handler, so
// this is where an unreachable API server shows: the first failure is
// logged, each one counted, and the prober started (recover.go); the
// first success after is logged too.
type observer struct {
	next http.RoundTripper
	p    *Provider
}

// link is what the observers know of the API server.
type link struct {
	mu   sync.Mutex
	down bool
	last time.Time // last failure logged
}

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := o.next.RoundTrip(req)
	l := &o.p.link
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil && req.Context().Err() == nil:
		watchErrors.Inc()
		if !l.down || time.Since(l.last) > 10*time.Second {
			o.p.opts.Logger.Warn("kubernetes watch failed: API server unreachable; serving the last good table and retrying",
				"error", err, "watchErrors", watchErrors.Get())
			l.last = time.Now()
		}
		if !l.down {
			o.p.watchDown()
		}
		l.down = true
	case err == nil && l.down:
		l.down = false
		o.p.opts.Logger.Info("API server reachable again; catching up")
	}
	return resp, err
}

// up records that the API server answers (the informers were restarted).
func (l *link) up() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = false
}
