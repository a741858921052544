package middleware

import (
	"cmp"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// Compress is Traefik's compress middleware (traefik v3.7
// pkg/middlewares/compress): the response is encoded with the best of
// Encodings the client accepts. gzip follows klauspost/compress gzhttp,
// which Traefik uses (Content-Type sniffed and set when missing, ranged
// answers and X-No-Compression left alone, Accept-Ranges dropped); br and
// zstd follow Traefik's own handler. Answers already encoded, of an
// excluded type, or shorter than MinResponseBodyBytes with a known length
// pass as they are; a body of unknown length is compressed as it streams,
// as Traefik's flush-per-write proxy makes it.
type Compress struct {
	ExcludedContentTypes, IncludedContentTypes []string
	MinResponseBodyBytes                       int      // 0: 1024
	Encodings                                  []string // of gzip, br, zstd; Traefik's default is all three in that order
	DefaultEncoding                            string   // for a request without Accept-Encoding
}

const (
	encGzip   = "gzip"
	encBrotli = "br"
	encZstd   = "zstd"
)

// compressor is a built Compress.
type compressor struct {
	excludes, includes []parsedType // excludes holds application/grpc first
	minSize            int
	encodings          []string
	rank               map[string]int // *: -1, each encoding its index, identity last
	defaultEncoding    string
}

// parsedType is a media type and its parameters.
type parsedType struct {
	mediaType string
	params    map[string]string
}

// Middleware builds it, with Traefik's validation.
func (c Compress) Middleware() (pipeline.Middleware, error) {
	if len(c.ExcludedContentTypes) > 0 && len(c.IncludedContentTypes) > 0 {
		return nil, errors.New("excludedContentTypes and includedContentTypes options are mutually exclusive")
	}
	k := &compressor{excludes: []parsedType{{mediaType: "application/grpc"}}, minSize: 1024, encodings: c.Encodings, defaultEncoding: c.DefaultEncoding}
	for _, v := range c.ExcludedContentTypes {
		mt, params, err := mime.ParseMediaType(v)
		if err != nil {
			return nil, fmt.Errorf("parsing excluded media type: %w", err)
		}
		k.excludes = append(k.excludes, parsedType{mt, params})
	}
	for _, v := range c.IncludedContentTypes {
		mt, params, err := mime.ParseMediaType(v)
		if err != nil {
			return nil, fmt.Errorf("parsing included media type: %w", err)
		}
		k.includes = append(k.includes, parsedType{mt, params})
	}
	if c.MinResponseBodyBytes > 0 {
		k.minSize = c.MinResponseBodyBytes
	}
	if len(c.Encodings) == 0 {
		return nil, errors.New("at least one encoding must be specified")
	}
	for _, e := range c.Encodings {
		if e != encGzip && e != encBrotli && e != encZstd {
			return nil, fmt.Errorf("unsupported encoding: %s", e)
		}
	}
	if c.DefaultEncoding != "" && !slices.Contains(c.Encodings, c.DefaultEncoding) {
		return nil, fmt.Errorf("unsupported default encoding: %s", c.DefaultEncoding)
	}
	k.rank = map[string]int{"*": -1, "identity": len(c.Encodings)}
	for i, e := range c.Encodings {
		k.rank[e] = i
	}
	return k.wrap, nil
}

var (
	hdrAcceptEncoding  = []byte("Accept-Encoding")
	hdrContentEncoding = []byte("Content-Encoding")
	hdrContentRange    = []byte("Content-Range")
	hdrAcceptRanges    = []byte("Accept-Ranges")
	hdrNoCompression   = []byte("No-Gzip-Compression") // gzhttp.HeaderNoCompression
	valAcceptEncoding  = []byte("Accept-Encoding")
)

func (k *compressor) wrap(next pipeline.Handler) pipeline.Handler {
	return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
		req := &x.Out.Header
		if req.IsHead() || k.excluded(req.ContentType()) {
			next.Serve(x)
			return
		}
		enc := k.defaultEncoding
		if lines := req.PeekAll("Accept-Encoding"); len(lines) > 0 {
			enc = k.choose(lines)
		}
		switch enc {
		case encGzip:
			// gzhttp decides again, from the first Accept-Encoding line.
			gzip := parseEncodingQ(string(req.Peek("Accept-Encoding")), encGzip) > 0
			next.Serve(x)
			varyFirst(&x.Resp.Header)
			if gzip {
				k.gzipResponse(x)
			}
		case encBrotli, encZstd:
			next.Serve(x)
			varyFirst(&x.Resp.Header)
			k.ownResponse(x, enc)
		default:
			next.Serve(x)
		}
	})
}

// varyFirst adds Vary: Accept-Encoding before the answer's own Vary
// lines, where Traefik's handler adds it (before the proxy copies the
// server's header).
func varyFirst(h *fasthttp.ResponseHeader) {
	var own [][]byte
	for _, v := range h.PeekAll("Vary") {
		own = append(own, append([]byte(nil), v...))
	}
	h.DelBytes(hdrVary)
	h.AddBytesKV(hdrVary, valAcceptEncoding)
	for _, v := range own {
		h.AddBytesKV(hdrVary, v)
	}
}

// excluded reports whether a request of this Content-Type is never
// compressed (Traefik checks the request's: gRPC).
func (k *compressor) excluded(ct []byte) bool {
	mt, _, err := mime.ParseMediaType(string(ct))
	if err != nil {
		mt = ""
	}
	return slices.ContainsFunc(k.excludes, func(p parsedType) bool { return p.mediaType == mt })
}

// choose is Traefik's getCompressionEncoding.
func (k *compressor) choose(lines [][]byte) string {
	if len(lines) == 1 && len(lines[0]) == 0 {
		return "identity"
	}
	type weighted struct {
		enc string
		w   float64
	}
	var acc []weighted
	for _, line := range lines {
		for _, item := range strings.Split(strings.ReplaceAll(string(line), " ", ""), ",") {
			name, q, hasQ := strings.Cut(item, ";")
			if _, ok := k.rank[name]; !ok {
				continue
			}
			w := 1.0
			if hasQ && strings.HasPrefix(q, "q=") {
				w, _ = strconv.ParseFloat(q[2:], 64)
				if w == 0 {
					continue
				}
			}
			acc = append(acc, weighted{name, w})
		}
	}
	if len(acc) == 0 {
		return "not_acceptable"
	}
	slices.SortFunc(acc, func(a, b weighted) int {
		if a.w == b.w {
			return cmp.Compare(k.rank[a.enc], k.rank[b.enc])
		}
		return cmp.Compare(b.w, a.w)
	})
	if acc[0].enc == "*" {
		if k.defaultEncoding == "" {
			return k.encodings[0]
		}
		return k.defaultEncoding
	}
	return acc[0].enc
}

// parseEncodingQ is gzhttp's parseEncodingQValue: the q of enc in an
// Accept-Encoding value, 0 if absent.
func parseEncodingQ(header, enc string) float64 {
	for _, part := range strings.Split(strings.TrimSpace(header), ",") {
		coding, params, hasParams := strings.Cut(part, ";")
		if strings.ToLower(strings.TrimSpace(coding)) != enc {
			continue
		}
		q := 1.0
		if hasParams {
			for _, p := range strings.Split(params, ";") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
					q, _ = strconv.ParseFloat(v, 64)
					q = min(max(q, 0), 1)
				}
			}
		}
		return q
	}
	return 0
}

// typeMatches is the media-type comparison of Traefik and gzhttp: same
// type, and the listed parameters (if any) all equal.
func typeMatches(list []parsedType, ct string) (matched, parsed bool) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false, false
	}
	for _, p := range list {
		if p.mediaType != mt {
			continue
		}
		if len(p.params) == 0 {
			return true, true
		}
		if len(p.params) == len(params) && allEqual(p.params, params) {
			return true, true
		}
	}
	return false, true
}

func allEqual(a, b map[string]string) bool {
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}

// gzipAllowed is gzhttp's content type filter: not excluded (an
// unparsable type is not excluded), or, with includedContentTypes,
// included.
func (k *compressor) gzipAllowed(ct string) bool {
	if len(k.includes) > 0 {
		m, _ := typeMatches(k.includes, ct)
		return m
	}
	m, _ := typeMatches(k.excludes, ct)
	return !m
}

// gzipResponse applies gzhttp's decision to the answer in x.Resp.
func (k *compressor) gzipResponse(x *pipeline.Exchange) {
	resp := x.Resp
	h := &resp.Header
	if len(h.PeekBytes(hdrNoCompression)) > 0 {
		h.DelBytes(hdrNoCompression)
		return
	}
	if len(h.PeekBytes(hdrContentEncoding)) > 0 || len(h.PeekBytes(hdrContentRange)) > 0 || !bodyAllowed(resp.StatusCode()) {
		return
	}
	b := peekResponse(x, 512)
	if len(b.head) == 0 {
		return // nothing written: plain
	}
	if b.known && b.size < k.minSize {
		return
	}
	ct := string(h.ContentType())
	if ct == "" {
		ct = http.DetectContentType(b.head)
		if x.ContentSniffing() {
			h.SetContentType(ct) // gzhttp sets what it sniffed where Traefik allows it
		}
	}
	if !k.gzipAllowed(ct) {
		return
	}
	h.DelBytes(hdrAcceptRanges)
	encodeResponse(resp, encGzip, b.known, inlineLimit(x))
}

// ownResponse applies Traefik's br/zstd handler's decision.
func (k *compressor) ownResponse(x *pipeline.Exchange, enc string) {
	resp := x.Resp
	h := &resp.Header
	if len(h.PeekBytes(hdrContentEncoding)) > 0 {
		return
	}
	if ct := h.ContentType(); len(ct) > 0 {
		if len(k.includes) > 0 {
			if m, ok := typeMatches(k.includes, string(ct)); !ok || !m {
				return
			}
		}
		if m, ok := typeMatches(k.excludes, string(ct)); !ok || m {
			return
		}
	}
	b := peekResponse(x, 1)
	if len(b.head) == 0 || b.known && b.size < k.minSize {
		return
	}
	encodeResponse(resp, enc, b.known, inlineLimit(x))
}

// bodyAllowed reports whether a status may carry a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != fasthttp.StatusNoContent && status != fasthttp.StatusNotModified
}

// inlineLimit is the most a handler may write, all before it returns,
// for Go's server to send it with a Content-Length rather than as it
// comes (chunked over HTTP/1.1): the buffer between the two, 2048 bytes
// over HTTP/1.x (bufferBeforeChunkingSize), 4096 over HTTP/2
// (handlerChunkWriteSize). Traefik's compress and buffering middlewares
// write a whole held body at once, so its length decides.
func inlineLimit(x *pipeline.Exchange) int {
	if x.Ctx() == nil {
		return 4096 // HTTP/2: only its front end has no fasthttp context
	}
	return 2048
}
