package demo

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

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
	page := Page()
	h := func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/page" {
			ctx.SetContentType("text/html; charset=utf-8")
			ctx.SetBody(page)
			return
		}
		if string(ctx.Path()) == "/sec" {
			for _, kv := range ChainHeaders {
				ctx.Response.Header.Set(kv[0], kv[1])
			}
		}
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

// ChainHeaders are the response header lines the benchmarks' typical
// middleware chain (genroutes -kind mw) adds on plain HTTP; the backend
// sends them itself at /sec, so that what relaying those bytes costs a
// proxy can be told apart from what producing them costs.
var ChainHeaders = [][2]string{
	{"X-Frame-Options", "DENY"},
	{"X-Content-Type-Options", "nosniff"},
	{"X-Xss-Protection", "1; mode=block"},
	{"Referrer-Policy", "same-origin"},
	{"Content-Security-Policy", "default-src 'self'"},
	{"X-Served-By", "bench"},
}

// PageSize is the size of the HTML page served at /page.
const PageSize = 100 << 10

// Page is an HTML page of PageSize bytes for the compression benchmarks:
// markup and text as a product listing has them (words drawn from a
// vocabulary by a fixed generator, prices, links), so that it compresses
// as real pages do rather than as a repeated string does.
func Page() []byte {
	words := strings.Fields("the quick brown fox jumps over lazy dog proxy route service ingress cluster traffic " +
		"latency request response header body stream cache token secret tenant region zone replica shard " +
		"order invoice customer product price stock shipping delivery return review rating discount")
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Catalogue</title>" +
		"<link rel=\"stylesheet\" href=\"/static/site.css\"></head>\n<body><main class=\"catalogue\">\n")
	x := uint32(2463534242)
	next := func() uint32 { x ^= x << 13; x ^= x >> 17; x ^= x << 5; return x }
	for i := 0; b.Len() < PageSize; i++ {
		fmt.Fprintf(&b, "<article class=\"item\" id=\"item-%d\"><h2><a href=\"/items/%d\">", i, next()%100000)
		for j := 0; j < 3+int(next()%4); j++ {
			b.WriteString(words[next()%uint32(len(words))] + " ")
		}
		fmt.Fprintf(&b, "</a></h2><p class=\"price\">%d.%02d EUR</p><p>", next()%500, next()%100)
		for j := 0; j < 12+int(next()%20); j++ {
			b.WriteString(words[next()%uint32(len(words))] + " ")
		}
		b.WriteString("</p></article>\n")
	}
	out := b.Bytes()[:PageSize-len("</main></body></html>\n")]
	return append(out, "</main></body></html>\n"...)
}
