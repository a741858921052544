package kube

import (
	"net/http"
	"sync"
	"time"
)

// observer sees every request to the API server. client-go retries a
// refused watch itself without telling the informer's error handler, so
// this is where an unreachable API server shows: the first failure is
// logged and each one counted; the first success after is logged too.
type observer struct {
	next http.RoundTripper
	p    *Provider
	mu   sync.Mutex
	down bool
	last time.Time // last failure logged
}

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := o.next.RoundTrip(req)
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case err != nil && req.Context().Err() == nil:
		watchErrors.Inc()
		if !o.down || time.Since(o.last) > 10*time.Second {
			o.p.opts.Logger.Warn("kubernetes watch failed: API server unreachable; serving the last good table and retrying with backoff",
				"error", err, "watchErrors", watchErrors.Get())
			o.last = time.Now()
		}
		o.down = true
	case err == nil && o.down:
		o.down = false
		o.p.opts.Logger.Info("API server reachable again; catching up")
	}
	return resp, err
}
