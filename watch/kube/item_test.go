package kube

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/sluiceproxy/sluice/compile/model"
)

// asRead is obj as the dynamic client delivers it.
func asRead(obj any) *unstructured.Unstructured {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		panic(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func svc(rv string, port int32, annotation string) *unstructured.Unstructured {
	return asRead(&corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", ResourceVersion: rv, UID: "u1",
			Annotations:   map[string]string{"note": annotation},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.0.0.5",
			Ports: []corev1.ServicePort{{Name: "http", Port: port, TargetPort: intstr.FromString("web")}}},
	})
}

// TestTransformKeepsWhatRoutingReads: the cache holds model objects with
// client-go's keys; changes Sluice does not read hash the same (the update
// is dropped), changes it reads do not.
func TestTransformKeepsWhatRoutingReads(t *testing.T) {
	tr := transform(KindService)
	a, _ := tr(svc("1", 80, "x"))
	it := a.(*item)
	s, ok := it.obj.(*model.Service)
	if !ok || it.Name != "s" || it.Namespace != "ns" || it.UID != "u1" {
		t.Fatalf("item %+v", it)
	}
	if p := s.Spec.Ports[0]; p.Port != 80 || !p.TargetPort.IsString || p.TargetPort.Str != "web" || s.Spec.ClusterIP != "10.0.0.5" {
		t.Errorf("service %+v", s.Spec)
	}
	if again, _ := tr(it); again != it {
		t.Error("transform is not idempotent")
	}
	b, _ := tr(svc("2", 80, "y")) // new resourceVersion, an annotation Sluice ignores
	c, _ := tr(svc("3", 81, "y"))
	if it.sum != b.(*item).sum {
		t.Error("a resourceVersion/annotation-only update is not a no-op")
	}
	if it.sum == c.(*item).sum {
		t.Error("a port change hashes like the old object")
	}
}

func TestTransformEndpointSliceAndCRD(t *testing.T) {
	ready, terminating := true, true
	port, name := int32(8080), "http"
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "s-1", Namespace: "ns", Labels: map[string]string{"kubernetes.io/service-name": "s"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.1.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready, Terminating: &terminating}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
	}
	o, _ := transform(KindEndpointSlice)(asRead(es))
	m := o.(*item).obj.(*model.EndpointSlice)
	if m.ServiceName() != "s" || m.Endpoints[0].Addresses[0] != "10.1.0.1" || !*m.Endpoints[0].Conditions.Terminating || *m.Ports[0].Port != 8080 {
		t.Errorf("slice %+v", m)
	}

	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "traefik.io/v1alpha1", "kind": "IngressRoute",
		"metadata": map[string]any{"name": "r", "namespace": "ns", "uid": "u", "managedFields": []any{map[string]any{"manager": "x"}}},
		"spec":     map[string]any{"routes": []any{map[string]any{"match": "Host(`a`)", "priority": int64(5)}}},
	}}
	o, _ = transform(KindIngressRoute)(u)
	it := o.(*item)
	ir, ok := it.obj.(*model.IngressRoute)
	if !ok || ir.Spec.Routes[0].Match != "Host(`a`)" || ir.Spec.Routes[0].Priority != 5 || len(it.diags) != 0 {
		t.Errorf("ingressroute %+v diags %v", it.obj, it.diags)
	}
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "traefik.io/v1alpha1", "kind": "IngressRoute",
		"metadata": map[string]any{"name": "bad", "namespace": "ns"},
		"spec":     map[string]any{"routes": "not a list"},
	}}
	o, _ = transform(KindIngressRoute)(bad)
	if it := o.(*item); it.obj != nil || len(it.diags) != 1 || it.diags[0].Object != "IngressRoute ns/bad" {
		t.Errorf("undecodable object: obj %v diags %v", it.obj, it.diags)
	}
}

// TestTransformSecretNodeConfigMap: the other core kinds read through the
// dynamic client keep what routing reads (Secret data is base64 on the wire).
func TestTransformSecretNodeConfigMap(t *testing.T) {
	sec := asRead(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: "ns"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": []byte("CERT")}})
	o, _ := transform(KindSecret)(sec)
	if s := o.(*item).obj.(*model.Secret); s.Type != "kubernetes.io/tls" || string(s.Data["tls.crt"]) != "CERT" {
		t.Errorf("secret %+v", s)
	}
	n := asRead(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.9"}}}})
	o, _ = transform(KindNode)(n)
	if m := o.(*item).obj.(*model.Node); m.Status.Addresses[0].Address != "10.0.0.9" || m.Meta.Name != "n1" {
		t.Errorf("node %+v", m)
	}
	cm := asRead(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ca", Namespace: "ns"}, Data: map[string]string{"ca.crt": "PEM"}})
	o, _ = transform(KindConfigMap)(cm)
	if m := o.(*item).obj.(*model.ConfigMap); m.Data["ca.crt"] != "PEM" {
		t.Errorf("configmap %+v", m)
	}
}
