// Command backend is the benchmark's upstream: a fasthttp server on
// loopback that answers every request with 200 and a fixed body (100 bytes
// by default; ?size=N for N bytes, from a set of precomputed bodies), reads
// and discards request bodies, and keeps connections alive.
package main

import (
	"bytes"
	"flag"
	"log"
	"runtime"
	"strconv"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address (loopback only)")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)

	// "backend 9001 " + padding: the name lets a harness see both backends answer.
	tag := "backend " + (*addr)[len(*addr)-4:] + " "
	bodies := map[int][]byte{}
	for _, n := range []int{100, 16 << 10, 1 << 20} {
		b := append([]byte(tag), bytes.Repeat([]byte("x"), n)...)[:n-1]
		bodies[n] = append(b, '\n')
	}
	h := func(ctx *fasthttp.RequestCtx) {
		size := 100
		if v := ctx.QueryArgs().Peek("size"); v != nil {
			size, _ = strconv.Atoi(string(v))
		}
		body, ok := bodies[size]
		if !ok {
			ctx.Error("size must be 100, 16384 or 1048576\n", fasthttp.StatusBadRequest)
			return
		}
		ctx.SetContentType("text/plain")
		ctx.SetBody(body)
	}
	s := &fasthttp.Server{
		Handler:            h,
		Name:               "bench-backend",
		NoDefaultDate:      true,
		MaxRequestBodySize: 8 << 20,
	}
	log.Printf("listening on %s (GOMAXPROCS=%d)", *addr, *procs)
	if err := s.ListenAndServe(*addr); err != nil {
		log.Fatal(err)
	}
}
