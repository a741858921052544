package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/sluiceproxy/sluice/compile/model"
)

// Events posts diagnostics as Kubernetes Events on the objects they name.
// It is nil (and Post a no-op) unless the role allows creating events:
// Traefik's ClusterRole does not, and a drop-in must work inside it.
// Events are created in the background, in order; when the API server
// cannot keep up, the newest are dropped (the log has them all).
type Events struct {
	p     *Provider
	queue chan *unstructured.Unstructured
}

var (
	eventsGVR = schema.GroupVersionResource{Version: "v1", Resource: "events"}
	reviewGVR = schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "selfsubjectaccessreviews"}
)

// NewEvents returns an event poster, or nil when the service account may
// not create events (checked once with a SelfSubjectAccessReview).
func (p *Provider) NewEvents(ctx context.Context) *Events {
	dc, err := dynamic.NewForConfig(p.cfg)
	if err != nil {
		return nil
	}
	review := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
		"spec": map[string]any{"resourceAttributes": map[string]any{"verb": "create", "resource": "events"}},
	}}
	res, err := dc.Resource(reviewGVR).Create(ctx, review, metav1.CreateOptions{})
	if allowed, _, _ := unstructured.NestedBool(objectOf(res), "status", "allowed"); err != nil || !allowed {
		p.opts.Logger.Info("Kubernetes Events for diagnostics are off: the role does not allow creating events")
		return nil
	}
	e := &Events{p: p, queue: make(chan *unstructured.Unstructured, 256)}
	go e.run(ctx, dc)
	return e
}

func objectOf(u *unstructured.Unstructured) map[string]any {
	if u == nil {
		return nil
	}
	return u.Object
}

// run creates the queued Events until ctx ends.
func (e *Events) run(ctx context.Context, dc dynamic.Interface) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-e.queue:
			if _, err := dc.Resource(eventsGVR).Namespace(ev.GetNamespace()).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
				e.p.opts.Logger.Debug("could not create a Kubernetes Event", "object", ev.GetName(), "error", err)
			}
		}
	}
}

// Post queues one Event per diagnostic on the object it names ("Kind
// ns/name"), if that object is in the caches.
func (e *Events) Post(diags []model.Diagnostic) {
	if e == nil {
		return
	}
	for _, d := range diags {
		kind, ref, ok := strings.Cut(d.Object, " ")
		if !ok {
			continue
		}
		ns, name, _ := strings.Cut(ref, "/")
		uid, ok := e.p.lookup(kind, ns, name)
		if !ok {
			continue
		}
		select {
		case e.queue <- event(d, kind, ns, name, uid, time.Now()):
		default:
		}
	}
}

// event is the core/v1 Event for one diagnostic, as client-go's recorder
// writes it: Warning, reason SluiceError or SluiceWarning, the field in the
// message, source component sluice.
func event(d model.Diagnostic, kind, ns, name, uid string, now time.Time) *unstructured.Unstructured {
	apiVersion := "traefik.io/v1alpha1"
	switch kind {
	case KindService, KindSecret, KindConfigMap, KindNode:
		apiVersion = "v1"
	case KindEndpointSlice:
		apiVersion = "discovery.k8s.io/v1"
	}
	reason := "SluiceWarning"
	if d.Severity == model.Error {
		reason = "SluiceError"
	}
	msg := d.Message
	if d.Field != "" {
		msg = d.Field + ": " + msg
	}
	evNS := ns
	if evNS == "" {
		evNS = metav1.NamespaceDefault // events on cluster-scoped objects (Nodes)
	}
	ts := now.UTC().Format(time.RFC3339)
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Event",
		"metadata": map[string]any{"name": fmt.Sprintf("%s.%x", name, now.UnixNano()), "namespace": evNS},
		"involvedObject": map[string]any{
			"kind": kind, "apiVersion": apiVersion, "namespace": ns, "name": name, "uid": uid,
		},
		"type": "Warning", "reason": reason, "message": msg,
		"source":         map[string]any{"component": "sluice"},
		"firstTimestamp": ts, "lastTimestamp": ts, "count": int64(1),
		"reportingComponent": "sluice",
	}}
}
