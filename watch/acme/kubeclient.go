package acme

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// objects reads and writes objects of one resource as the typed T
// through the dynamic client the providers already link: client-go's
// typed clients bring their apply configurations and OpenAPI models,
// some 25 MB of binary, for a few calls.
type objects[T any] struct {
	ri               dynamic.NamespaceableResourceInterface
	apiVersion, kind string
}

func newObjects[T any](dc dynamic.Interface, gv schema.GroupVersion, resource, kind string) objects[T] {
	return objects[T]{ri: dc.Resource(gv.WithResource(resource)), apiVersion: gv.String(), kind: kind}
}

func (o objects[T]) from(u *unstructured.Unstructured) (*T, error) {
	var out T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (o objects[T]) to(obj *T) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(o.apiVersion)
	u.SetKind(o.kind)
	return u, nil
}

func (o objects[T]) get(ctx context.Context, ns, name string) (*T, error) {
	u, err := o.ri.Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return o.from(u)
}

func (o objects[T]) create(ctx context.Context, ns string, obj *T) error {
	u, err := o.to(obj)
	if err == nil {
		_, err = o.ri.Namespace(ns).Create(ctx, u, metav1.CreateOptions{})
	}
	return err
}

func (o objects[T]) update(ctx context.Context, ns string, obj *T) error {
	u, err := o.to(obj)
	if err == nil {
		_, err = o.ri.Namespace(ns).Update(ctx, u, metav1.UpdateOptions{})
	}
	return err
}

func (o objects[T]) watch(ctx context.Context, ns string, opts metav1.ListOptions) (watch.Interface, error) {
	return o.ri.Namespace(ns).Watch(ctx, opts)
}
