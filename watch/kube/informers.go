package kube

import (
	"context"

	"github.com/VictoriaMetrics/metrics"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
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

// resource names a watched kind: its group/version/resource, whether it
// is namespaced, and the label selector its lists use.
type resource struct {
	kind     string
	gvr      schema.GroupVersionResource
	selector string
}

// resources are the kinds watched in each namespace, with Traefik's
// filters: the label selector on CRDs only, Secrets labelled owner=helm
// never listed.
func (p *Provider) resources() []resource {
	core := func(r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Version: "v1", Resource: r}
	}
	out := []resource{
		{kind: KindService, gvr: core("services")},
		{kind: KindEndpointSlice, gvr: schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}},
		{kind: KindSecret, gvr: core("secrets"), selector: "owner!=helm"},
		{kind: KindConfigMap, gvr: core("configmaps")},
	}
	for _, c := range crds {
		gvr := schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: c.resource}
		out = append(out, resource{kind: c.kind, gvr: gvr, selector: p.opts.LabelSelector})
	}
	return out
}

// informers creates (but does not start) one informer per kind and
// namespace. Every kind goes through the dynamic client: client-go's typed
// clientset registers every API type at start-up, which alone cost 18 MB
// of resident memory, all of it for kinds Sluice never reads.
func (p *Provider) informers(dc dynamic.Interface) []informer {
	var out []informer
	for _, ns := range p.opts.Namespaces {
		for _, r := range p.resources() {
			out = append(out, informer{r.kind, p.newInformer(dc.Resource(r.gvr).Namespace(ns), r.selector)})
		}
	}
	if !p.opts.DisableClusterScopeResources {
		nodes := schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
		out = append(out, informer{KindNode, p.newInformer(dc.Resource(nodes), "")})
	}
	for _, in := range out {
		_ = in.inf.SetTransform(transform(in.kind))
		_ = in.inf.SetWatchErrorHandlerWithContext(p.watchError(in.kind))
		_, _ = in.inf.AddEventHandler(p.handler(in.kind))
	}
	return out
}

// newInformer lists and watches one resource (in one namespace, or
// cluster-wide) with the label selector.
func (p *Provider) newInformer(ri dynamic.ResourceInterface, selector string) cache.SharedIndexInformer {
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return ri.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			return ri.Watch(ctx, o)
		},
	}
	return cache.NewSharedIndexInformer(lw, &unstructured.Unstructured{}, p.opts.Resync, cache.Indexers{})
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
