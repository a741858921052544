package fastpath

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// h2cBackend speaks HTTP/2 with prior knowledge only, and sends a trailer.
func h2cBackend(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/trailers-only" { // a gRPC error: the status in the only HEADERS frame
			w.Header().Set("Grpc-Status", "5")
			w.WriteHeader(200)
			return
		}
		w.Header().Set("Trailer", "X-Trailer")
		fmt.Fprintf(w, "proto=%s path=%s host=%s xfp=%s", r.Proto, r.URL.Path, r.Host, r.Header.Get("X-Forwarded-Proto"))
		w.Header().Set("X-Trailer", "done")
	})
	srv := &http.Server{Handler: h2c.NewHandler(h, &http2.Server{})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func h2cClient() *http.Client {
	return &http.Client{Transport: &http2.Transport{AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
}

// TestH2C: an HTTP/2 (prior knowledge) client through a plain entry point
// to an h2c server keeps HTTP/2 end to end, trailers included (gRPC needs
// them); an HTTP/1.1 client reaches the h2c server too; an h2c client
// reaches an HTTP/1.1 server; unknown hosts are 404 over HTTP/2.
func TestH2C(t *testing.T) {
	h2be, h1be := h2cBackend(t), backend(t)
	reg := upstream.NewRegistry(upstream.Options{})
	addr, _ := proxy(t, map[string][]service.Server{
		"g.example":  {{URL: "h2c://" + h2be, Endpoint: reg.Get("h2c", h2be)}},
		"h1.example": {{URL: "http://" + h1be, Endpoint: reg.Get("http", h1be)}},
	}, nil)
	client := h2cClient()
	do := func(c *http.Client, host, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Host = host
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := do(client, "g.example", "/svc/Method")
	if resp.ProtoMajor != 2 || body != "proto=HTTP/2.0 path=/svc/Method host=g.example xfp=http" || resp.Trailer.Get("X-Trailer") != "done" {
		t.Fatalf("h2c to h2c: %s %q trailer %v", resp.Proto, body, resp.Trailer)
	}
	// Relayed as trailers: as headers, a flush could end the stream
	// without the status gRPC clients require in trailers.
	if resp, _ := do(client, "g.example", "/trailers-only"); resp.Trailer.Get("Grpc-Status") != "5" {
		t.Fatalf("trailers-only gRPC status: header %v trailer %v", resp.Header, resp.Trailer)
	}
	if _, body := do(http.DefaultClient, "g.example", "/one"); body != "proto=HTTP/2.0 path=/one host=g.example xfp=http" {
		t.Fatalf("HTTP/1.1 to h2c: %q", body)
	}
	if resp, body := do(client, "h1.example", "/x?y=1"); resp.StatusCode != 200 || !strings.Contains(body, "uri=/x?y=1 host=h1.example") {
		t.Fatalf("h2c to HTTP/1.1: %d %q", resp.StatusCode, body)
	}
	if resp, body := do(client, "nope.example", "/"); resp.StatusCode != 404 || body != "404 page not found\n" {
		t.Fatalf("unknown host over h2c: %d %q", resp.StatusCode, body)
	}
}

// newH2Request is a GET / to addr for host with headers.
func newH2Request(addr, host string, hdr map[string]string) (*http.Request, error) {
	req, err := http.NewRequest("GET", "http://"+addr+"/", nil)
	if err != nil {
		return nil, err
	}
	req.Host = host
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return req, nil
}
