// Package bench will hold the side-by-side benchmark harness (Sluice,
// HAProxy, nginx on loopback; issue 3). It is never imported by the
// product. The micro-benchmarks live beside the code they measure, in
// *_timing_test.go files (see PERF.md).
package bench
