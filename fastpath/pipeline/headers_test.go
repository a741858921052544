package pipeline

import (
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
