package fastpath

import "github.com/valyala/fasthttp"

// Preallocated bodies, as Go's http.Error and NotFoundHandler write them.
var (
	bodyNotFound       = []byte("404 page not found\n")
	bodyNoServer       = []byte("no available server\n")
	bodyBadRequest     = []byte("400 Bad Request\n")
	bodyBadGateway     = []byte("Bad Gateway\n")
	bodyGatewayTimeout = []byte("Gateway Timeout\n")
	bodyInternal       = []byte("Internal Server Error\n")
)

func respond(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.Response.SetStatusCode(status)
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.Response.SetBodyRaw(body)
}

func respondNotFound(ctx *fasthttp.RequestCtx) { respond(ctx, fasthttp.StatusNotFound, bodyNotFound) }
