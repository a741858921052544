// Package examples embeds the example manifests so `sluice demo` runs with
// no files and no cluster.
package examples

import "embed"

// FS holds every *.yaml file of this directory.
//
//go:embed *.yaml
var FS embed.FS

// DemoBackends are the addresses the example EndpointSlices point at;
// `sluice demo` starts a small HTTP server on each.
var DemoBackends = []string{"127.0.0.1:18081", "127.0.0.1:18082", "127.0.0.1:18083"}
