package demo

import (
	"bytes"
	"strconv"

	"github.com/valyala/fasthttp"
)

// sizes are the body sizes served, in bytes; 100 is the default.
var sizes = []int{100, 16 << 10, 1 << 20}

// Server returns the server for the backend listening on addr (its name
// goes into every body; addr itself is not listened on here).
func Server(addr string) *fasthttp.Server {
	tag := "backend " + addr[max(len(addr)-4, 0):] + " "
	bodies := map[int][]byte{}
	for _, n := range sizes {
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
	return &fasthttp.Server{
		Handler:            h,
		Name:               "bench-backend",
		NoDefaultDate:      true,
		MaxRequestBodySize: 8 << 20,
	}
}
