package pipeline

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestNextToken(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil}, {"a", []string{"a"}}, {" a , ,b,", []string{"a", "b"}}, {",,", nil}, {"keep-alive, X-Foo", []string{"keep-alive", "X-Foo"}},
	} {
		var got []string
		for tok, rest := nextToken([]byte(tc.in)); tok != nil; tok, rest = nextToken(rest) {
			got = append(got, string(tok))
		}
		if len(got) != len(tc.want) {
			t.Fatalf("nextToken over %q; got %q; want %q", tc.in, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("nextToken over %q; got %q; want %q", tc.in, got, tc.want)
			}
		}
	}
}

// TestResponseConnectionTokens: headers an upstream names in its
// Connection header are removed (without allocating: alloc_test.go).
func TestResponseConnectionTokens(t *testing.T) {
	h := stripRun(t)
	if h.Peek("X-Hop") != nil || h.Peek("X-Other") != nil || string(h.Peek("X-Kept")) != "3" || h.Peek("Connection") != nil {
		t.Fatalf("unexpected headers after stripping:\n%s", h.Header())
	}
}

func stripRun(t *testing.T) *fasthttp.ResponseHeader {
	var src, h fasthttp.ResponseHeader
	src.Set("Connection", "keep-alive, X-Hop, x-other")
	src.Set("X-Hop", "1")
	src.Set("X-Other", "2")
	src.Set("X-Kept", "3")
	run := func() {
		src.CopyTo(&h)
		StripResponseHopHeaders(&h)
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 && allocsCounted {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
	return &h
}

// BenchmarkResponseHead is what a proxied answer's header costs in
// fasthttp's codec, which every HTTP/1.1 answer goes through: the
// server's header read (ResponseHeader.Read), the hop-by-hop pass, then
// written for the client (ResponseHeader.Write). "plain" is the bench
// backend's answer (Server, Content-Type, Content-Length); "relay6" the
// same with the six lines bench/cmd/genroutes' typical chain adds (what
// the backend's /sec sends); "set6" the plain answer with those six set
// as the headers middleware sets them (SetCanonical). The differences
// are fasthttp's cost per header line read or set (PERF.md section 7).
func BenchmarkResponseHead(b *testing.B) {
	plain := "HTTP/1.1 200 OK\r\nServer: bench-backend\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n"
	var six, sixRaw []string
	for _, kv := range [][2]string{{"X-Frame-Options", "DENY"}, {"X-Content-Type-Options", "nosniff"},
		{"X-Xss-Protection", "1; mode=block"}, {"Referrer-Policy", "same-origin"},
		{"Content-Security-Policy", "default-src 'self'"}, {"X-Served-By", "bench"}} {
		six = append(six, kv[0], kv[1])
		sixRaw = append(sixRaw, kv[0]+": "+kv[1]+"\r\n")
	}
	for _, c := range []struct {
		name, raw string
		set       []string
	}{
		{"plain", plain + "\r\n", nil},
		{"relay6", plain + strings.Join(sixRaw, "") + "\r\n", nil},
		{"set6", plain + "\r\n", six},
	} {
		b.Run(c.name, func(b *testing.B) {
			src, set := []byte(c.raw), make([][]byte, len(c.set))
			for i, s := range c.set {
				set[i] = []byte(s)
			}
			var h fasthttp.ResponseHeader
			r := bytes.NewReader(src)
			br, bw := bufio.NewReader(r), bufio.NewWriterSize(io.Discard, 4096)
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(src)
				br.Reset(r)
				if err := h.Read(br); err != nil {
					b.Fatal(err)
				}
				StripResponseHopHeaders(&h)
				for i := 0; i+1 < len(set); i += 2 {
					h.SetCanonical(set[i], set[i+1])
				}
				if err := h.Write(bw); err != nil {
					b.Fatal(err)
				}
				bw.Flush()
			}
		})
	}
}
