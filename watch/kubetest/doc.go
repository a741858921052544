// Package kubetest gives tests a real control plane and real test hosts:
// a kube-apiserver and etcd built from the Go module proxy
// (apiserver-up.sh, binaries cached in $SLUICE_K8S_CACHE or
// ~/.cache/apiserver-up) started on loopback, and network namespaces with
// non-loopback addresses for backends, since the API server refuses
// loopback addresses in EndpointSlices.
//
// Tests that need them call Require, which skips unless SLUICE_K8S=1
// (make test-k8s and CI set it) and fails, rather than skips, when
// SLUICE_K8S=1 and something cannot start. Every process and namespace it
// creates is removed by t.Cleanup; nothing leaves the machine.
package kubetest
