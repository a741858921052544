package fastpath

import (
	"time"

	"github.com/valyala/fasthttp"
)

// DefaultMaxHeaderBytes is the default request header limit. Traefik's is
// Go's 1 MiB, but fasthttp cannot grow a connection's read buffer, so the
// limit is the buffer every connection holds: 1 MiB each made 1,000 client
// connections cost 800 MB of RSS. 32 KiB is twice HAProxy's default
// buffer and four times nginx's largest header line; raise it per entry
// point with http.maxHeaderBytes.
const DefaultMaxHeaderBytes = 32 << 10

// maxBufferedBody is the largest request body read whole before the
// handler runs; larger ones are streamed to the server (and not mirrored).
const maxBufferedBody = 64 << 10

// NewServer returns the fasthttp server of one entry point: no invented
// Server, Content-Type or Date headers, request bodies streamed past 64 KiB,
// Go's idle timeout.
func NewServer(h *Handler) *fasthttp.Server {
	maxHeader := h.cfg.MaxHeaderBytes
	if maxHeader == 0 {
		maxHeader = DefaultMaxHeaderBytes
	}
	return &fasthttp.Server{
		Handler:                       h.Serve,
		Name:                          "",
		NoDefaultServerHeader:         true,
		NoDefaultContentType:          true,
		NoDefaultDate:                 true,
		DisableHeaderNamesNormalizing: false,
		DisablePreParseMultipartForm:  true,
		StreamRequestBody:             true,
		MaxRequestBodySize:            maxBufferedBody,
		ReadBufferSize:                maxHeader,
		IdleTimeout:                   180 * time.Second,
		ReadTimeout:                   0,
		CloseOnShutdown:               true,
		Logger:                        quietLogger{},
	}
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
