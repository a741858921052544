package fastpath

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestFramingConflict(t *testing.T) {
	for _, tc := range []struct {
		head string
		want bool
	}{
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", true},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\ncontent-length: 3\r\n\r\n", true},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", false},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nX-Content-Length: 3\r\n\r\n", false},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Lengthy: 3\r\n\r\n", false},
	} {
		var h fasthttp.RequestHeader
		if err := h.Read(bufio.NewReader(strings.NewReader(tc.head))); err != nil {
			t.Fatalf("%q: %v", tc.head, err)
		}
		if got := framingConflict(&h); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.head, got, tc.want)
		}
	}
}

func TestHTTP1Version(t *testing.T) {
	for proto, want := range map[string]bool{
		"HTTP/1.1": true, "HTTP/1.0": true, "HTTP/1.2": true, "HTTP/2.0": false, "HTTP/3.7": false,
		"HTTP/1.x": false, "HTTP/1.10": false, "http/1.1": false, "": false,
	} {
		if got := http1Version([]byte(proto)); got != want {
			t.Errorf("%q: %v, want %v", proto, got, want)
		}
	}
}
