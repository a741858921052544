package middleware

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// GrpcWeb is Traefik's grpcWeb middleware (traefik v3.7
// pkg/middlewares/grpcweb, which wraps traefik/grpc-web v0.16.0 and its
// rs/cors v1.7.0). A gRPC-Web request (POST, Content-Type
// application/grpc-web..., or application/grpc-web-text... with a base64
// body) goes on as gRPC: Content-Type application/grpc..., the body
// decoded, its length dropped. Its answer comes back as gRPC-Web: the
// Content-Type turned back, Access-Control-Expose-Headers naming the
// answer's headers and grpc-status and grpc-message, and the trailers
// appended to the body as a last frame (flag 0x80; lower-case names),
// base64 again for -text. A CORS preflight asking for x-grpc-web is
// answered here. AllowOrigins are the origins that get CORS headers
// ("*": any); others get none, and their requests still pass.
type GrpcWeb struct{ AllowOrigins []string }

// grpcWeb is a built GrpcWeb.
type grpcWeb struct {
	any     bool
	origins []string
}

// Middleware builds it; no configuration is invalid.
func (g GrpcWeb) Middleware() (pipeline.Middleware, error) {
	w := &grpcWeb{origins: g.AllowOrigins}
	w.any = slices.Contains(g.AllowOrigins, "*")
	return w.wrap, nil
}

var (
	ctGrpc           = []byte("application/grpc")
	ctGrpcWeb        = []byte("application/grpc-web")
	ctGrpcWebText    = []byte("application/grpc-web-text")
	hdrTrailer       = []byte("Trailer")
	hdrContentLength = []byte("Content-Length")
	valXGrpcWeb      = []byte("x-grpc-web")
	valOrigin        = []byte("Origin")
	corsVaryLines    = [][]byte{[]byte("Origin"), []byte("Access-Control-Request-Method"), []byte("Access-Control-Request-Headers")}
	valMaxAge600     = []byte("600") // grpc-web's corsMaxAge default, 10 minutes
)

func (g *grpcWeb) wrap(next pipeline.Handler) pipeline.Handler {
	return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
		in := &x.Out.Header
		web := in.IsPost() && bytes.HasPrefix(in.ContentType(), ctGrpcWeb)
		cors := in.IsOptions() && containsLowered(in.PeekBytes(hdrACRH), valXGrpcWeb)
		switch {
		case !web && !cors:
			next.Serve(x)
		case in.IsOptions() && len(in.PeekBytes(hdrACRM)) > 0:
			g.preflight(x)
		default:
			g.serve(next, x)
		}
	})
}

// allowed is grpc-web's origin function as Traefik configures it.
func (g *grpcWeb) allowed(origin []byte) bool {
	if g.any {
		return true
	}
	for _, o := range g.origins {
		if o == string(origin) {
			return true
		}
	}
	return false
}

// preflight is rs/cors's handlePreflight with grpc-web's options (any
// request header, credentials, max age 600 s, methods GET, POST, HEAD),
// answered 200 without a body.
func (g *grpcWeb) preflight(x *pipeline.Exchange) {
	in, out := &x.Out.Header, &x.Resp.Header
	for _, v := range corsVaryLines {
		out.AddBytesKV(hdrVary, v)
	}
	x.Resp.SetStatusCode(200)
	out.SetNoDefaultContentType(true)
	x.Resp.ResetBody()
	out.SetContentLength(0)
	origin := in.PeekBytes(hdrOrigin)
	if len(origin) == 0 || !g.allowed(origin) {
		return
	}
	method := bytes.ToUpper(in.PeekBytes(hdrACRM))
	if !corsMethodAllowed(method) {
		return
	}
	out.SetCanonical(hdrACAO, origin)
	out.SetCanonical(hdrACAM, method)
	if list := corsHeaderList(in.PeekBytes(hdrACRH)); len(list) > 0 {
		out.SetCanonical(hdrACAH, []byte(strings.Join(list, ", ")))
	}
	out.SetCanonical(hdrACAC, valTrue)
	out.SetCanonical(hdrACMA, valMaxAge600)
}

// corsMethodAllowed: rs/cors's default methods, and OPTIONS always.
func corsMethodAllowed(m []byte) bool {
	switch string(m) {
	case "GET", "POST", "HEAD", "OPTIONS":
		return true
	}
	return false
}

// serve sends the request on as gRPC and turns the answer into gRPC-Web.
func (g *grpcWeb) serve(next pipeline.Handler, x *pipeline.Exchange) {
	in := &x.Out.Header
	ct := in.ContentType()
	text := bytes.HasPrefix(ct, ctGrpcWebText)
	from := ctGrpcWeb
	if text {
		from = ctGrpcWebText
	}
	in.SetContentTypeBytes(bytes.Replace(ct, from, ctGrpc, 1))
	if text {
		x.StreamBody(func(r io.Reader) io.Reader { return base64.NewDecoder(base64.StdEncoding, r) })
	} else {
		x.StreamBody(func(r io.Reader) io.Reader { return r })
	}
	// rs/cors's handleActualRequest, before the request goes on: the
	// method is POST or OPTIONS, both allowed.
	var origin []byte
	if o := in.PeekBytes(hdrOrigin); len(o) > 0 && g.allowed(o) {
		origin = append(origin, o...)
	}
	next.Serve(x)
	g.response(x, origin, text)
}

// response turns the answer into gRPC-Web. The CORS headers were set
// before the server's were copied over them, so a server's own Vary or
// Access-Control-Allow-* wins.
func (g *grpcWeb) response(x *pipeline.Exchange, origin []byte, text bool) {
	resp := x.Resp
	h := &resp.Header
	if h.PeekBytes(hdrVary) == nil {
		h.SetCanonical(hdrVary, valOrigin)
	}
	if origin != nil {
		if h.PeekBytes(hdrACAO) == nil {
			h.SetCanonical(hdrACAO, origin)
		}
		if h.PeekBytes(hdrACAC) == nil {
			h.SetCanonical(hdrACAC, valTrue)
		}
	}
	var src io.ReadCloser
	declared := -1 // the server's Content-Length, which Traefik keeps
	if len(h.PeekBytes(hdrContentLength)) > 0 {
		declared = h.ContentLength()
	}
	if resp.IsBodyStream() {
		src = upstream.TakeBody(resp)
		if d, ok := src.(declaredLength); ok {
			declared = d.DeclaredLength()
		}
		if t, ok := src.(trailersOnly); ok && t.TrailersOnly() {
			// The server's only HEADERS frame carried the status: it
			// goes back among the headers, as Traefik got it.
			for k, vs := range src.(trailered).Trailers() {
				for _, v := range vs {
					h.Add(k, v)
				}
			}
		}
	}
	h.DelBytes(hdrTrailer)
	if ct := h.ContentType(); bytes.Contains(ct, ctGrpc) {
		to := ctGrpcWeb
		if text {
			to = ctGrpcWebText
		}
		h.SetContentTypeBytes(bytes.Replace(ct, ctGrpc, to, 1))
	}
	sent := exposeHeaders(h, x.ServerDate(), declared >= 0)
	if src == nil {
		// A held answer (one of Sluice's own, or read whole): its bytes,
		// then an empty trailer frame, written as one piece.
		out := appendGrpcWeb(nil, text, append(append([]byte(nil), resp.Body()...), trailerFrame(nil, sent)...))
		if declared >= 0 {
			// Traefik keeps the server's length, and Go's server writes
			// no more than it: the answer is cut there.
			resp.SetBody(out[:min(len(out), declared)])
			return
		}
		resp.SetBodyStream(bytes.NewReader(out), -1)
		return
	}
	s := &grpcWebStream{src: src, text: text, sent: sent, in: make([]byte, 32<<10), left: declared}
	resp.SetBodyStream(s, declared)
}

// trailered is a streamed answer that reports its trailers at its end
// (service.Trailers); trailersOnly one whose trailers were its headers.
// declaredLength one that knows the server's Content-Length where its
// own length does not say it (service's trailerBody).
type (
	trailered      interface{ Trailers() http.Header }
	trailersOnly   interface{ TrailersOnly() bool }
	declaredLength interface{ DeclaredLength() int }
)

// exposeHeaders sets Access-Control-Expose-Headers to the answer's header
// names and grpc-status, grpc-message (sorted; grpc-web lists them in Go's
// map order), and returns the names sent, lower-cased: trailers of the
// same names are not repeated in the trailer frame.
func exposeHeaders(h *fasthttp.ResponseHeader, date, length bool) []string {
	var names []string
	if date { // the server's Date, which Traefik's proxy passes on
		names = append(names, "Date")
	}
	if length && len(h.PeekBytes(hdrContentLength)) == 0 {
		names = append(names, "Content-Length")
	}
	for k := range h.All() {
		// Hop-by-hop framing is not among the headers Go's proxy copies.
		if name := string(k); name != "Connection" && name != "Transfer-Encoding" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	h.SetCanonical(hdrACEH, []byte(strings.Join(append(slices.Clone(names), "grpc-status", "grpc-message"), ", ")))
	sent := append(names, "Access-Control-Expose-Headers")
	for i, n := range sent {
		sent[i] = strings.ToLower(n)
	}
	return sent
}

// trailerFrame is gRPC-Web's trailer frame: flag 0x80, a big-endian
// length, then the trailers not already sent as headers, as Go's
// Header.Write writes them (sorted, one line per value) with lower-case
// names.
func trailerFrame(trailers http.Header, sent []string) []byte {
	lower := http.Header{}
	for k, vs := range trailers {
		if k = strings.ToLower(k); k != "trailer" && !slices.Contains(sent, k) {
			lower[k] = vs
		}
	}
	var b bytes.Buffer
	b.Write([]byte{0x80, 0, 0, 0, 0})
	_ = lower.Write(&b)
	out := b.Bytes()
	binary.BigEndian.PutUint32(out[1:5], uint32(len(out)-5))
	return out
}

// appendGrpcWeb appends p to dst, base64 (padded) for -text.
func appendGrpcWeb(dst []byte, text bool, p []byte) []byte {
	if text {
		return base64.StdEncoding.AppendEncode(dst, p)
	}
	return append(dst, p...)
}

// grpcWebStream is a streamed gRPC answer as gRPC-Web: each read of the
// server's body passes on (each its own padded base64 piece for -text,
// as Traefik flushes every write), then the trailer frame.
type grpcWebStream struct {
	src   io.ReadCloser
	text  bool
	sent  []string
	in    []byte
	out   []byte
	done  bool
	err   error
	taken bool
	left  int // bytes the answer may still have: the server's length (-1: any)
	// data is how many bytes of out are the server's messages (the rest
	// is the trailer frame); passed, how many of those Read has given.
	data, passed int
}

// OriginBytes is how much of the answer Read has given before the
// trailer frame: what Traefik's access log counts as OriginContentSize,
// the bytes written to the client when its service returned (grpc-web
// writes the trailer frame after that).
func (s *grpcWebStream) OriginBytes() int64 { return int64(s.passed) }

// Take lets TakeBody take the stream out of a response (upstream.Taker).
func (s *grpcWebStream) Take() { s.taken = true }

func (s *grpcWebStream) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	for len(s.out) == 0 {
		if s.done {
			return 0, io.EOF
		}
		if s.err != nil {
			return 0, s.err
		}
		n, err := s.src.Read(s.in)
		s.out = appendGrpcWeb(s.out[:0], s.text, s.in[:n])
		s.data = len(s.out)
		switch {
		case err == io.EOF:
			var trailers http.Header
			if t, ok := s.src.(trailered); ok {
				trailers = t.Trailers()
			}
			s.out = appendGrpcWeb(s.out, s.text, trailerFrame(trailers, s.sent))
			s.done = true
		case err != nil:
			s.err = err
		}
	}
	if s.left >= 0 && len(p) > s.left {
		p = p[:s.left]
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	d := min(n, s.data)
	s.data -= d
	s.passed += d
	if s.left > 0 {
		s.left -= n
	}
	return n, nil
}

func (s *grpcWebStream) Close() error {
	if s.taken {
		s.taken = false
		return nil
	}
	return s.src.Close()
}

// containsLowered reports whether s, lower-cased, contains sub (lower
// case ASCII), as strings.Contains(strings.ToLower(s), sub).
func containsLowered(s, sub []byte) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && s[i+j]|0x20 == sub[j]|0x20 && isLetterOrSame(s[i+j], sub[j]) {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// isLetterOrSame: folding by |0x20 is only right for letters.
func isLetterOrSame(a, b byte) bool {
	return a == b || (b|0x20 >= 'a' && b|0x20 <= 'z')
}

// corsHeaderList is rs/cors v1.7.0's parseHeaderList: names split on
// spaces and commas, canonicalised, other bytes dropped.
func corsHeaderList(list []byte) []string {
	var out []string
	h := make([]byte, 0, len(list))
	upper := true
	for i, b := range list {
		switch {
		case b >= 'a' && b <= 'z':
			if upper {
				b -= 'a' - 'A'
			}
			h = append(h, b)
		case b >= 'A' && b <= 'Z':
			if !upper {
				b += 'a' - 'A'
			}
			h = append(h, b)
		case b == '-' || b == '_' || (b >= '0' && b <= '9'):
			h = append(h, b)
		}
		if b == ' ' || b == ',' || i == len(list)-1 {
			if len(h) > 0 {
				out = append(out, string(h))
				h = h[:0]
				upper = true
			}
		} else {
			upper = b == '-' || b == '_'
		}
	}
	return out
}
