package upstream

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http2"
)

// grpcTransport speaks HTTP/2 to the check target, over connections from
// dial: h2c for http, TLS (tc) for https.
func grpcTransport(url string, tc *tls.Config, dial func(string) (net.Conn, error)) http.RoundTripper {
	if strings.HasPrefix(url, "https://") {
		tc.NextProtos = []string{"h2"}
		return &http2.Transport{TLSClientConfig: tc,
			DialTLSContext: func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
				c, err := dial(addr)
				if err != nil {
					return nil, err
				}
				t := tls.Client(c, cfg)
				if err := t.HandshakeContext(ctx); err != nil {
					c.Close()
					return nil, err
				}
				return t, nil
			}}
	}
	return &http2.Transport{AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return dial(addr)
		}}
}

// probeGRPC calls grpc.health.v1.Health/Check for the server as a whole
// (service "") and passes only on SERVING. The messages are small enough
// to encode by hand: the request is empty, the reply is field 1, a varint.
func (h *Health) probeGRPC(ctx context.Context, client *http.Client) error {
	u, err := url.Parse(h.url)
	if err != nil {
		return err
	}
	target := u.Scheme + "://" + u.Host + "/grpc.health.v1.Health/Check" // the check's path does not apply
	req, err := h.request(ctx, http.MethodPost, target, bytes.NewReader(make([]byte, 5)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if err != nil {
		return err
	}
	st := resp.Trailer.Get("Grpc-Status")
	if st == "" {
		st = resp.Header.Get("Grpc-Status") // trailers-only
	}
	if resp.StatusCode != http.StatusOK || st != "0" {
		return fmt.Errorf("grpc health: HTTP %d, grpc-status %q", resp.StatusCode, st)
	}
	if len(body) < 5 || int(binary.BigEndian.Uint32(body[1:5])) != len(body)-5 {
		return fmt.Errorf("grpc health: malformed reply")
	}
	msg := body[5:]
	if len(msg) >= 2 && msg[0] == 0x08 && msg[1] == 1 { // status: SERVING
		return nil
	}
	return fmt.Errorf("grpc health: not SERVING (%x)", msg)
}
