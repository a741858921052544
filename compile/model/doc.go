// Package model holds plain structs for the Kubernetes objects Sluice reads
// (traefik.io/v1alpha1 CRDs, core Services, discovery/v1 EndpointSlices) and
// the Diagnostic type the compiler reports with.
//
// Field names and JSON tags follow the Kubernetes API, so providers decode
// into these types directly. The package imports no client-go; providers
// convert to it and the compiler reads only it. A Snapshot is treated as
// immutable once handed to the compiler.
package model
