package middleware

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// grpcAnswer is a gRPC server's streamed answer as the h2c service gives
// it: read in the pieces given, then trailers; only marks them as the
// answer's headers once (trailers-only).
type grpcAnswer struct {
	pieces   [][]byte
	trailers http.Header
	only     bool
}

func (a *grpcAnswer) Read(p []byte) (int, error) {
	if len(a.pieces) == 0 {
		return 0, io.EOF
	}
	n := copy(p, a.pieces[0])
	a.pieces = a.pieces[1:]
	return n, nil
}
func (a *grpcAnswer) Close() error          { return nil }
func (a *grpcAnswer) Trailers() http.Header { return a.trailers }
func (a *grpcAnswer) TrailersOnly() bool    { return a.only }

// TestGrpcWeb: the request goes on as gRPC (type, body decoded, no
// length), the answer comes back as gRPC-Web (type, CORS headers, expose
// list, trailer frame; base64 pieces for -text); a trailers-only answer
// keeps its status among the headers and an empty trailer frame.
func TestGrpcWeb(t *testing.T) {
	msg := "\x00\x00\x00\x00\x02hi"
	for _, c := range []struct {
		name, ct, body, origin string
		answer                 *grpcAnswer
		wantCT, wantBody       string
		wantHeader             map[string]string
		wantOrigin             int64 // the bytes before the trailer frame (OriginBytes)
	}{
		{name: "binary", ct: "application/grpc-web+proto", body: msg, origin: "https://app.example",
			answer: &grpcAnswer{pieces: [][]byte{[]byte("\x00\x00\x00\x00\x01A")}, trailers: http.Header{"Grpc-Status": {"5"}, "Grpc-Message": {"nope"}}},
			wantCT: "application/grpc-web+proto", wantBody: "\x00\x00\x00\x00\x01A" + "\x80\x00\x00\x00\x24grpc-message: nope\r\ngrpc-status: 5\r\n", wantOrigin: 6,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Credentials": "true", "Vary": "Origin",
				"Access-Control-Expose-Headers": "Access-Control-Allow-Credentials, Access-Control-Allow-Origin, Content-Type, Vary, grpc-status, grpc-message"}},
		{name: "text, two reads", ct: "application/grpc-web-text", body: base64.StdEncoding.EncodeToString([]byte(msg)), origin: "https://evil.example",
			answer: &grpcAnswer{pieces: [][]byte{[]byte("\x00\x00"), []byte("\x00\x00\x01A")}, trailers: http.Header{"Grpc-Status": {"0"}}},
			wantCT: "application/grpc-web-text", wantOrigin: 4 + 8,
			wantBody: base64.StdEncoding.EncodeToString([]byte("\x00\x00")) + base64.StdEncoding.EncodeToString([]byte("\x00\x00\x01A")) +
				base64.StdEncoding.EncodeToString([]byte("\x80\x00\x00\x00\x10grpc-status: 0\r\n")),
			wantHeader: map[string]string{"Access-Control-Allow-Origin": "", "Vary": "Origin",
				"Access-Control-Expose-Headers": "Content-Type, Vary, grpc-status, grpc-message"}},
		{name: "trailers-only", ct: "application/grpc-web", body: msg,
			answer: &grpcAnswer{trailers: http.Header{"Grpc-Status": {"7"}}, only: true},
			wantCT: "application/grpc-web", wantBody: "\x80\x00\x00\x00\x00", wantOrigin: 0,
			wantHeader: map[string]string{"Grpc-Status": "7", "Access-Control-Expose-Headers": "Content-Type, Grpc-Status, Vary, grpc-status, grpc-message"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := "POST /svc/M HTTP/1.1\r\nHost: g.example\r\nContent-Type: " + c.ct + "\r\nContent-Length: " +
				strconv.Itoa(len(c.body)) + "\r\n"
			if c.origin != "" {
				raw += "Origin: " + c.origin + "\r\n"
			}
			x := beginStreamed(t, raw+"\r\n", c.body)
			defer pipeline.Release(x)
			mw, _ := GrpcWeb{AllowOrigins: []string{"https://app.example"}}.Middleware()
			var sawCT, sawBody string
			var sawLength int
			mw(pipeline.HandlerFunc(func(x *pipeline.Exchange) {
				sawCT, sawLength = string(x.Out.Header.ContentType()), x.Out.Header.ContentLength()
				b, _ := io.ReadAll(x.Out.BodyStream())
				sawBody = string(b)
				x.Resp.Header.SetContentType("application/grpc")
				if strings.HasSuffix(c.ct, "+proto") {
					x.Resp.Header.SetContentType("application/grpc+proto")
				}
				x.Resp.SetBodyStream(c.answer, -1)
			})).Serve(x)
			if wantCT := strings.Replace(strings.Replace(c.ct, "-web-text", "", 1), "-web", "", 1); sawCT != wantCT || sawBody != msg || sawLength != -1 {
				t.Fatalf("server saw %q %q length %d, want %q %q -1", sawCT, sawBody, sawLength, wantCT, msg)
			}
			b, _ := io.ReadAll(x.Resp.BodyStream())
			if got := string(x.Resp.Header.ContentType()); got != c.wantCT || string(b) != c.wantBody {
				t.Fatalf("answer %q %q, want %q %q", got, b, c.wantCT, c.wantBody)
			}
			if o, ok := x.Resp.BodyStream().(interface{ OriginBytes() int64 }); !ok || o.OriginBytes() != c.wantOrigin {
				t.Errorf("origin bytes %v, want %d", o, c.wantOrigin)
			}
			for k, v := range c.wantHeader {
				if got := string(x.Resp.Header.Peek(k)); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestGrpcWebPreflight: rs/cors's preflight with grpc-web's options.
func TestGrpcWebPreflight(t *testing.T) {
	for _, c := range []struct {
		name, origin, method, headers string
		want                          map[string]string
	}{
		{"allowed", "https://app.example", "post", "x-grpc-web, content-type", map[string]string{"Access-Control-Allow-Origin": "https://app.example",
			"Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "X-Grpc-Web, Content-Type",
			"Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "600"}},
		{"other origin", "https://evil.example", "POST", "x-grpc-web", map[string]string{"Access-Control-Allow-Origin": ""}},
		{"method not simple", "https://app.example", "DELETE", "x-grpc-web", map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			x, _ := begin(t, "OPTIONS /svc/M HTTP/1.1\r\nHost: g.example\r\nOrigin: "+c.origin+"\r\nAccess-Control-Request-Method: "+c.method+
				"\r\nAccess-Control-Request-Headers: "+c.headers+"\r\n\r\n", "10.0.0.1")
			defer pipeline.Release(x)
			mw, _ := GrpcWeb{AllowOrigins: []string{"https://app.example"}}.Middleware()
			mw(pipeline.HandlerFunc(func(*pipeline.Exchange) { t.Fatal("a preflight went on") })).Serve(x)
			if x.Resp.StatusCode() != 200 || len(x.Resp.Body()) != 0 {
				t.Fatalf("preflight answered %d %q", x.Resp.StatusCode(), x.Resp.Body())
			}
			var vary []string
			for _, v := range x.Resp.Header.PeekAll("Vary") {
				vary = append(vary, string(v))
			}
			if !reflect.DeepEqual(vary, []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}) {
				t.Fatalf("Vary %q", vary)
			}
			for k, v := range c.want {
				if got := string(x.Resp.Header.Peek(k)); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestCorsHeaderList: rs/cors v1.7.0's parsing, quirks included.
func TestCorsHeaderList(t *testing.T) {
	for in, want := range map[string][]string{
		"x-grpc-web,content-type":   {"X-Grpc-Web", "Content-Type"},
		"X-GRPC-WEB , x_user.agent": {"X-Grpc-Web", "X_Useragent"}, // '.' dropped, and the next letter not raised
		"":                          nil,
		"a":                         {"A"},
	} {
		got := corsHeaderList([]byte(in))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	if !containsLowered([]byte("Content-Type, X-GRPC-Web"), valXGrpcWeb) || containsLowered([]byte("x\rgrpc-web"), valXGrpcWeb) {
		t.Fatal("containsLowered")
	}
	if !bytes.Equal(trailerFrame(nil, nil), []byte{0x80, 0, 0, 0, 0}) {
		t.Fatal("empty trailer frame")
	}
}

// beginStreamed begins an Exchange for a request whose body streams, as
// the front end's (StreamRequestBody) do.
func beginStreamed(t *testing.T, header, body string) *pipeline.Exchange {
	t.Helper()
	ctx := new(fasthttp.RequestCtx)
	if err := ctx.Request.Header.Read(bufio.NewReader(strings.NewReader(header))); err != nil {
		t.Fatal(err)
	}
	ctx.Request.SetBodyStream(strings.NewReader(body), len(body))
	x := pipeline.Acquire()
	if !x.BeginHTTP1(ctx, &pipeline.EntryPoint{Name: "web", Insecure: true, Log: slog.Default()}, netip.MustParseAddr("10.0.0.1"), nil) {
		t.Fatalf("Begin refused %q", header)
	}
	return x
}
