package middleware

import (
	"github.com/valyala/fasthttp"
)

var hdrXFProto = []byte("X-Forwarded-Proto")

// peekCanonical is Peek for a canonical header name, without Peek's copy
// and normalisation of the name. (Not a walk of All: that would collect
// the request's cookies, which fasthttp then forwards re-serialised;
// pipeline/cookies.go.)
func peekCanonical(h *fasthttp.RequestHeader, name []byte) []byte {
	return h.PeekCanonical(name)
}

// addCanonical is AddBytesKV for a canonical name fasthttp does not keep
// apart: a field the request lacks is set without AddBytesKV's copy and
// normalisation of the name; one it has gets another line, as Add does.
func addCanonical(h *fasthttp.RequestHeader, name, value []byte) {
	if peekCanonical(h, name) == nil {
		h.SetCanonical(name, value)
		return
	}
	h.AddBytesKV(name, value)
}
