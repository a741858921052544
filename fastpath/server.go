package fastpath

import (
	"time"

	"github.com/valyala/fasthttp"
)

// MaxHeaderBytes matches Go's http.DefaultMaxHeaderBytes, Traefik's limit.
const MaxHeaderBytes = 1 << 20

// NewServer returns the fasthttp server of one entry point: no invented
// Server, Content-Type or Date headers, request bodies streamed past 64 KiB,
// header limit as large as Traefik's, Go's idle timeout.
func NewServer(h *Handler) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                       h.Serve,
		Name:                          "",
		NoDefaultServerHeader:         true,
		NoDefaultContentType:          true,
		NoDefaultDate:                 true,
		DisableHeaderNamesNormalizing: false,
		DisablePreParseMultipartForm:  true,
		StreamRequestBody:             true,
		MaxRequestBodySize:            64 << 10,
		ReadBufferSize:                MaxHeaderBytes,
		IdleTimeout:                   180 * time.Second,
		ReadTimeout:                   0,
		CloseOnShutdown:               true,
		Logger:                        quietLogger{},
	}
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
