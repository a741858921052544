package middleware

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

var hdrXFProto = []byte("X-Forwarded-Proto")

// peekCanonical is Peek for a canonical header name that fasthttp does
// not keep apart (not Host, Content-Type, User-Agent, Cookie, ...): one
// pass over the fields, where Peek first copies and normalises the name
// (three times the cost, for the few fields a request has).
func peekCanonical(h *fasthttp.RequestHeader, name []byte) []byte {
	for k, v := range h.All() {
		if bytes.Equal(k, name) {
			return v
		}
	}
	return nil
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
