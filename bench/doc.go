// Package bench is the side-by-side benchmark harness: Sluice, HAProxy and
// nginx on loopback, each pinned to one core, driven by wrk and by a
// fixed-rate load generator (make bench-compare), and Sluice's profiles
// under load (make profile). It is never imported by the product.
//
//	compare.sh        the harness: scenarios, interleaved rounds, /proc CPU accounting
//	table.sh          medians, min-max and ratios as markdown (PERF.md)
//	flat.sh           flat with scale: 1 route and 100k hosts interleaved (make bench-flat)
//	syscalls.sh       syscalls per request by perf stat (make bench-syscalls)
//	floor.sh          each proxy beside the thinnest relay (make bench-floor)
//	profile.sh        CPU, allocation and heap profiles into profiles/
//	abbench.sh        one Go benchmark at two commits, alternated (make bench-ab)
//	smuggle.sh        the request-smuggling corpus against the three (make bench-smuggle)
//	demo              the upstream: fixed bodies of 100 B, 16 KiB or 1 MiB
//	cmd/backend       the upstream as a process of its own
//	cmd/genroutes     equivalent N-route configs for the three proxies
//	cmd/floor         that relay: no parsing, one upstream per client connection,
//	                  on raw epoll or on Go's net package
//	cmd/loadgen       fixed-rate load without coordinated omission (with -serve,
//	                  the upstreams inside it: the r1-rate scenario)
//	smuggle, cmd/smuggle  the corpus of hostile HTTP/1.1 requests, and its
//	                  runner in front of recording servers
//
// The micro-benchmarks live beside the code they measure, in
// *_timing_test.go files (see PERF.md).
package bench
