package kube

import (
	"context"

	"github.com/VictoriaMetrics/metrics"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Kinds watched, as named in diagnostics.
const (
	KindIngressRoute  = "IngressRoute"
	KindService       = "Service"
	KindEndpointSlice = "EndpointSlice"
	KindSecret        = "Secret"
	KindConfigMap     = "ConfigMap"
	KindNode          = "Node"
)

// crds are the traefik.io/v1alpha1 kinds read for HTTP, by resource.
var crds = []struct{ kind, resource string }{
	{KindIngressRoute, "ingressroutes"}, {"Middleware", "middlewares"}, {"TraefikService", "traefikservices"},
	{"TLSOption", "tlsoptions"}, {"TLSStore", "tlsstores"}, {"ServersTransport", "serverstransports"},
}

// watchErrors counts failed lists and broken watches, all kinds together.
var watchErrors = metrics.GetOrCreateCounter("sluice_kubernetes_watch_errors_total")

// WatchErrors is the number of failed lists and broken watches so far.
func WatchErrors() uint64 { return watchErrors.Get() }

type informer struct {
	kind string
	inf  cache.SharedIndexInformer
}

// informers creates (but does not start) one informer per kind and
// namespace, with Traefik's filters: the label selector on CRDs only,
// Secrets labelled owner=helm never listed.
func (p *Provider) informers(cs kubernetes.Interface, dc dynamic.Interface) ([]informer, []func(<-chan struct{})) {
	var out []informer
	var starts []func(<-chan struct{})
	for _, ns := range p.opts.Namespaces {
		typed := informers.NewSharedInformerFactoryWithOptions(cs, p.opts.Resync, informers.WithNamespace(ns))
		secrets := informers.NewSharedInformerFactoryWithOptions(cs, p.opts.Resync, informers.WithNamespace(ns),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = "owner!=helm" }))
		crdf := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dc, p.opts.Resync, ns,
			func(o *metav1.ListOptions) { o.LabelSelector = p.opts.LabelSelector })
		out = append(out,
			informer{KindService, typed.Core().V1().Services().Informer()},
			informer{KindEndpointSlice, typed.Discovery().V1().EndpointSlices().Informer()},
			informer{KindSecret, secrets.Core().V1().Secrets().Informer()},
			informer{KindConfigMap, typed.Core().V1().ConfigMaps().Informer()})
		for _, c := range crds {
			gvr := schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: c.resource}
			out = append(out, informer{c.kind, crdf.ForResource(gvr).Informer()})
		}
		starts = append(starts, typed.Start, secrets.Start, crdf.Start)
	}
	if !p.opts.DisableClusterScopeResources {
		nodes := informers.NewSharedInformerFactoryWithOptions(cs, p.opts.Resync)
		out = append(out, informer{KindNode, nodes.Core().V1().Nodes().Informer()})
		starts = append(starts, nodes.Start)
	}
	for _, in := range out {
		_ = in.inf.SetTransform(transform(in.kind))
		_ = in.inf.SetWatchErrorHandlerWithContext(p.watchError(in.kind))
		_, _ = in.inf.AddEventHandler(p.handler(in.kind))
	}
	return out, starts
}

// watchError logs a failed list or watch; client-go retries with backoff
// and the caches keep serving their last state meanwhile.
func (p *Provider) watchError(kind string) cache.WatchErrorHandlerWithContext {
	return func(ctx context.Context, r *cache.Reflector, err error) {
		watchErrors.Inc()
		p.opts.Logger.Warn("kubernetes watch failed; serving the last good table and retrying with backoff",
			"kind", kind, "error", err, "watchErrors", watchErrors.Get())
	}
}

// handler marks what changed. Updates whose model object is unchanged are
// dropped (resyncs, status and managedFields changes).
func (p *Provider) handler(kind string) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { p.changed(kind, obj) },
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*item)
			n, ok2 := newObj.(*item)
			if ok1 && ok2 && o.sum == n.sum && o.sum != 0 {
				return
			}
			p.changed(kind, newObj)
		},
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			p.changed(kind, obj)
		},
	}
}
