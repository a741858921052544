package kube

import (
	"encoding/json"

	"github.com/cespare/xxhash/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/watch"
)

// item is what the informer caches hold: the model object and just enough
// metadata for client-go's keys. It is immutable once stored.
type item struct {
	metav1.ObjectMeta // name, namespace, uid, resourceVersion only
	kind              string
	obj               any // *model.IngressRoute, ..., nil when it did not decode
	diags             []model.Diagnostic
	sum               uint64 // hash of what Sluice reads: equal sums make an update a no-op
}

func (i *item) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
func (i *item) DeepCopyObject() runtime.Object   { return i } // immutable: sharing is safe

// transform returns the informer transform for one kind: the dynamic
// client's objects become items; items and tombstones pass as they are.
func transform(kind string) cache.TransformFunc {
	return func(in any) (any, error) {
		if u, ok := in.(*unstructured.Unstructured); ok {
			return fromUnstructured(kind, u), nil
		}
		return in, nil
	}
}

func newItem(kind string, m *metav1.ObjectMeta, obj any) *item {
	it := &item{kind: kind, obj: obj, ObjectMeta: metav1.ObjectMeta{
		Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
	}}
	it.sum = sum(obj)
	return it
}

// typedItem converts the core kinds into their k8s.io/api types (plain
// structs: no scheme is registered) and from there into the model.
func typedItem(kind string, u *unstructured.Unstructured) (*item, bool) {
	switch kind {
	case KindService:
		if o, ok := convert[corev1.Service](u); ok {
			return newItem(kind, &o.ObjectMeta, service(o)), true
		}
	case KindEndpointSlice:
		if o, ok := convert[discoveryv1.EndpointSlice](u); ok {
			return newItem(kind, &o.ObjectMeta, endpointSlice(o)), true
		}
	case KindSecret:
		if o, ok := convert[corev1.Secret](u); ok {
			return newItem(kind, &o.ObjectMeta, secret(o)), true
		}
	case KindConfigMap:
		if o, ok := convert[corev1.ConfigMap](u); ok {
			return newItem(kind, &o.ObjectMeta, &model.ConfigMap{Meta: meta(&o.ObjectMeta), Data: o.Data}), true
		}
	case KindNode:
		if o, ok := convert[corev1.Node](u); ok {
			return newItem(kind, &o.ObjectMeta, node(o)), true
		}
	}
	return nil, false
}

func convert[T any](u *unstructured.Unstructured) (*T, bool) {
	var o T
	return &o, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &o) == nil
}

func fromUnstructured(kind string, u *unstructured.Unstructured) *item {
	if it, ok := typedItem(kind, u); ok {
		return it
	}
	u.SetManagedFields(nil)
	if u.GetKind() == "" {
		u.SetKind(kind)
		u.SetAPIVersion("traefik.io/v1alpha1")
	}
	m := metav1.ObjectMeta{Name: u.GetName(), Namespace: u.GetNamespace(), UID: u.GetUID(), ResourceVersion: u.GetResourceVersion()}
	js, err := u.MarshalJSON()
	var obj any
	var diags []model.Diagnostic
	if err == nil {
		obj, diags = watch.DecodeObject(js, model.Origin{})
	}
	it := newItem(kind, &m, obj)
	it.diags = diags
	return it
}

// sum hashes the model object without its resourceVersion.
func sum(obj any) uint64 {
	m := model.MetaOf(obj)
	if m == nil {
		return 0
	}
	rv := m.ResourceVersion
	m.ResourceVersion = ""
	js, _ := json.Marshal(obj)
	m.ResourceVersion = rv
	return xxhash.Sum64(js)
}

func meta(m *metav1.ObjectMeta) model.Meta {
	return model.Meta{
		Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, CreationTimestamp: m.CreationTimestamp.UTC().Format("2006-01-02T15:04:05Z"),
	}
}

func service(s *corev1.Service) *model.Service {
	out := &model.Service{Meta: meta(&s.ObjectMeta), Spec: model.ServiceSpec{
		Type: string(s.Spec.Type), ClusterIP: s.Spec.ClusterIP, ExternalName: s.Spec.ExternalName, Selector: s.Spec.Selector,
	}}
	for _, p := range s.Spec.Ports {
		tp := model.IntOrString{IsString: p.TargetPort.Type == 1, Int: int64(p.TargetPort.IntVal), Str: p.TargetPort.StrVal}
		out.Spec.Ports = append(out.Spec.Ports, model.ServicePort{
			Name: p.Name, Protocol: string(p.Protocol), Port: p.Port, TargetPort: tp, NodePort: p.NodePort, AppProtocol: deref(p.AppProtocol),
		})
	}
	return out
}

func endpointSlice(s *discoveryv1.EndpointSlice) *model.EndpointSlice {
	out := &model.EndpointSlice{Meta: meta(&s.ObjectMeta), AddressType: string(s.AddressType)}
	for _, e := range s.Endpoints {
		out.Endpoints = append(out.Endpoints, model.Endpoint{
			Addresses: e.Addresses, Hostname: deref(e.Hostname), NodeName: deref(e.NodeName), Zone: deref(e.Zone),
			Conditions: model.EndpointConditions{Ready: e.Conditions.Ready, Serving: e.Conditions.Serving, Terminating: e.Conditions.Terminating},
		})
	}
	for _, p := range s.Ports {
		out.Ports = append(out.Ports, model.EndpointPort{Name: p.Name, Port: p.Port, Protocol: string(deref(p.Protocol)), AppProtocol: p.AppProtocol})
	}
	return out
}

func secret(s *corev1.Secret) *model.Secret {
	return &model.Secret{Meta: meta(&s.ObjectMeta), Type: string(s.Type), Data: s.Data}
}

func node(n *corev1.Node) *model.Node {
	out := &model.Node{Meta: meta(&n.ObjectMeta), Spec: model.NodeSpec{Unschedulable: n.Spec.Unschedulable}}
	for _, a := range n.Status.Addresses {
		out.Status.Addresses = append(out.Status.Addresses, model.NodeAddress{Type: string(a.Type), Address: a.Address})
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
