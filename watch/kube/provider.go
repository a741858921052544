package kube

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/watch"
)

// Update is one delivery of the provider.
type Update struct {
	Snapshot *model.Snapshot
	Diags    []model.Diagnostic // objects that could not be decoded
	// EndpointsOnly: nothing but EndpointSlices changed since the last
	// delivery, those of the Services named in Services ("ns/name").
	EndpointsOnly bool
	Services      []string
}

// Provider watches a cluster. Run it once.
type Provider struct {
	opts     Options
	cfg      *rest.Config
	infs     []informer
	notify   chan struct{}
	mu       sync.Mutex
	full     bool
	services map[string]bool

	// Recovery (recover.go): the client and contexts Run made, the
	// observer's state, and whether a prober runs. infs and stop change
	// under mu when the informers are restarted.
	dc       dynamic.Interface
	probeCfg *rest.Config
	link     link
	runCtx   context.Context
	stop     context.CancelFunc
	probing  bool
}

// New returns a provider for the cluster cfg points at.
func New(cfg *rest.Config, opts Options) *Provider {
	opts.defaults()
	p := &Provider{opts: opts, notify: make(chan struct{}, 1), services: map[string]bool{}}
	p.cfg = rest.CopyConfig(cfg)
	p.probeCfg = rest.CopyConfig(cfg)
	p.cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &observer{next: rt, p: p} })
	return p
}

// changed records an event and wakes the loop.
func (p *Provider) changed(kind string, obj any) {
	p.mu.Lock()
	if it, ok := obj.(*item); ok && kind == KindEndpointSlice {
		if s, ok := it.obj.(*model.EndpointSlice); ok {
			p.services[s.Meta.Namespace+"/"+s.ServiceName()] = true
		} else {
			p.full = true
		}
	} else {
		p.full = true
	}
	p.mu.Unlock()
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// Run starts the informers, waits for their caches, delivers the first
// full snapshot, then one Update per coalesced burst of changes, until ctx
// is done. apply runs on Run's goroutine, one call at a time.
func (p *Provider) Run(ctx context.Context, apply func(Update)) error {
	dc, err := dynamic.NewForConfig(p.cfg)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	gen, cancel := context.WithCancel(ctx)
	p.mu.Lock()
	p.dc, p.stop = dc, cancel
	p.infs = p.informers(dc)
	infs := p.infs
	p.mu.Unlock()
	for _, in := range infs {
		go in.inf.RunWithContext(gen)
	}
	if err := waitSynced(ctx, infs, p.opts.Logger); err != nil {
		return err
	}
	p.mu.Lock()
	p.runCtx = ctx // outages from now on are probed (before the first sync, client-go's retries are all there is)
	p.mu.Unlock()
	p.take()
	apply(p.update(false, nil))
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.notify:
		}
		if !p.holdOff(ctx) {
			return nil
		}
		if wait := p.opts.ThrottleDuration - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		full, services := p.take()
		if !full && len(services) == 0 {
			continue
		}
		last = time.Now()
		apply(p.update(!full, services))
	}
}

// holdOff waits until no event came for HoldOff, or MaxHoldOff passed.
func (p *Provider) holdOff(ctx context.Context) bool {
	deadline := time.NewTimer(p.opts.MaxHoldOff)
	defer deadline.Stop()
	quiet := time.NewTimer(p.opts.HoldOff)
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return true
		case <-quiet.C:
			return true
		case <-p.notify:
			quiet.Reset(p.opts.HoldOff)
		}
	}
}

func (p *Provider) take() (bool, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	full := p.full
	var services []string
	for k := range p.services {
		services = append(services, k)
	}
	p.full, p.services = false, map[string]bool{}
	return full, services
}

// current is the informers serving now (restart replaces them).
func (p *Provider) current() []informer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.infs
}

func waitSynced(ctx context.Context, infs []informer, log *slog.Logger) error {
	synced := make([]cache.InformerSynced, len(infs))
	for i, in := range infs {
		synced[i] = in.inf.HasSynced
	}
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		all := true
		for _, s := range synced {
			all = all && s()
		}
		if all {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			log.Warn("waiting for the Kubernetes caches to sync", "watchErrors", watchErrors.Get())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// update builds a snapshot from the caches.
func (p *Provider) update(endpointsOnly bool, services []string) Update {
	u := Update{Snapshot: &model.Snapshot{}, EndpointsOnly: endpointsOnly, Services: services}
	for _, in := range p.current() {
		for _, o := range in.inf.GetStore().List() {
			it, ok := o.(*item)
			if !ok {
				continue
			}
			u.Diags = append(u.Diags, it.diags...)
			if it.obj != nil {
				watch.Add(u.Snapshot, it.obj)
			}
		}
	}
	return u
}

// Lookup returns the UID of a cached object, for events.
func (p *Provider) lookup(kind, ns, name string) (string, bool) {
	for _, in := range p.current() {
		if in.kind != kind {
			continue
		}
		key := name
		if ns != "" {
			key = ns + "/" + name
		}
		if o, ok, _ := in.inf.GetStore().GetByKey(key); ok {
			if it, ok := o.(*item); ok {
				return string(it.UID), true
			}
		}
	}
	return "", false
}
