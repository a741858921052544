package kube

import (
	"context"
	"strings"

	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/sluiceproxy/sluice/compile/model"
)

// Events posts diagnostics as Kubernetes Events on the objects they name.
// It is nil (and Post a no-op) unless the role allows creating events:
// Traefik's ClusterRole does not, and a drop-in must work inside it.
type Events struct {
	p   *Provider
	rec record.EventRecorder
}

// NewEvents returns an event poster, or nil when the service account may
// not create events (checked once with a SelfSubjectAccessReview).
func (p *Provider) NewEvents(ctx context.Context) *Events {
	cs, err := kubernetes.NewForConfig(p.cfg)
	if err != nil {
		return nil
	}
	review := &authv1.SelfSubjectAccessReview{Spec: authv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authv1.ResourceAttributes{Verb: "create", Resource: "events"},
	}}
	res, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil || !res.Status.Allowed {
		p.opts.Logger.Info("Kubernetes Events for diagnostics are off: the role does not allow creating events")
		return nil
	}
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	return &Events{p: p, rec: b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "sluice"})}
}

// Post records one Event per diagnostic on the object it names ("Kind
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
		apiVersion := "traefik.io/v1alpha1"
		switch kind {
		case KindService, KindSecret, KindConfigMap, KindNode:
			apiVersion = "v1"
		case KindEndpointSlice:
			apiVersion = "discovery.k8s.io/v1"
		}
		typ, reason := corev1.EventTypeWarning, "SluiceWarning"
		if d.Severity == model.Error {
			reason = "SluiceError"
		}
		msg := d.Message
		if d.Field != "" {
			msg = d.Field + ": " + msg
		}
		e.rec.Event(&corev1.ObjectReference{Kind: kind, APIVersion: apiVersion, Namespace: ns, Name: name, UID: types.UID(uid)}, typ, reason, msg)
	}
}
