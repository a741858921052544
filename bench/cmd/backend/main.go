// Command backend is the benchmark's upstream (package bench/demo) as a
// process of its own: a fasthttp server on loopback with fixed bodies of
// 100 B, 16 KiB or 1 MiB that keeps connections alive.
package main

import (
	"flag"
	"log"
	"runtime"

	"github.com/sluiceproxy/sluice/bench/demo"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address (loopback only)")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)
	log.Printf("listening on %s (GOMAXPROCS=%d)", *addr, *procs)
	if err := demo.Server(*addr).ListenAndServe(*addr); err != nil {
		log.Fatal(err)
	}
}
