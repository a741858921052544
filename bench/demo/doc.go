// Package demo is the benchmark's upstream server: a fasthttp server that
// answers every request with 200 and a fixed text/plain body of 100 bytes
// (or, with ?size=16384 or ?size=1048576, of that many bytes), reads and
// drops request bodies of up to 8 MiB, sends no Date header and keeps
// connections alive. Each body starts "backend NNNN " (the last four
// characters of the listen address), so a harness can tell the backends
// apart. It runs as its own process (bench/cmd/backend) or inside the
// fixed-rate load generator (bench/cmd/loadgen -serve), and is never
// imported by the product.
package demo
