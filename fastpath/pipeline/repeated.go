package pipeline

import (
	"github.com/valyala/fasthttp"
)

// A request may repeat a field fasthttp keeps a single value of:
// fasthttp's parser keeps the last User-Agent and the last Content-Type.
// Go's server keeps every line, and its transport (Traefik's) sends the
// first User-Agent only and every Content-Type line, in order. The
// front ends count both fields as they scan (repeatedSingle), and only
// such a request pays for keepRepeated.

var hdrContentType = []byte(fasthttp.HeaderContentType)

// keepRepeated sets out's User-Agent to in's first, and its Content-Type
// lines to all of in's, as received.
func keepRepeated(in, out *fasthttp.RequestHeader) {
	ua, ct := false, 0
	for k, v := range in.AllInOrder() {
		switch string(k) {
		case fasthttp.HeaderUserAgent:
			if !ua {
				ua = true
				out.SetUserAgentBytes(v)
			}
		case fasthttp.HeaderContentType:
			if ct++; ct == 1 {
				out.SetContentTypeBytes(v)
			} else {
				addRawLine(out, hdrContentType, v)
			}
		}
	}
}
