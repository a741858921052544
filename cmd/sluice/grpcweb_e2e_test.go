package main

import (
	"bytes"
	"encoding/base64"
	binenc "encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"
)

// TestBinaryGrpcWeb: a gRPC-Web client (binary and text) through the
// grpcWeb middleware to a real gRPC server (its health service) behind a
// scheme: h2c service, over HTTP/1.1, h2c, HTTPS and HTTP/2 over TLS: the
// answer's message and its status in the trailer frame; a NotFound comes
// back "trailers-only", its status among the headers as Traefik sends it;
// CORS for the allowed origin. Each answer's access-log line counts as
// OriginContentSize what was sent before the trailer frame, as Traefik
// does (its grpc-web writes that frame after the service returns).
func TestBinaryGrpcWeb(t *testing.T) {
	_, port := startHealthServer(t, "127.0.0.2")
	logPath := filepath.Join(t.TempDir(), "access.log")
	f := newMWFixture(t, mwObject("gw", "{grpcWeb: {allowOrigins: ['https://app.example']}}")+
		manifests("grpc", port, "127.0.0.2")+"---\n"+
		"apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: gw, namespace: e2e}\nspec:\n  routes:\n"+
		"  - match: Host(`gw.example`)\n    middlewares: [{name: gw}]\n    services: [{name: grpc, port: 80, scheme: h2c}]\n---\n",
		"--accessLog.format=json", "--accessLog.filePath="+logPath, "--accessLog.fields.headers.names.X-Case=keep")
	// DownstreamContentSize and OriginContentSize each call's line
	// should give, by its X-Case
	want := map[string][2]float64{}

	call := func(t *testing.T, cl mwClient, service string, text bool) (*http.Response, [][]byte) {
		t.Helper()
		msg, _ := proto.Marshal(&healthpb.HealthCheckRequest{Service: service})
		body := append(binenc.BigEndian.AppendUint32([]byte{0}, uint32(len(msg))), msg...)
		ct := "application/grpc-web+proto"
		if text {
			body, ct = []byte(base64.StdEncoding.EncodeToString(body)), "application/grpc-web-text+proto"
		}
		scheme := "http://"
		if cl.tls {
			scheme = "https://"
		}
		req, _ := http.NewRequest("POST", scheme+"gw.example/grpc.health.v1.Health/Check", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("X-Grpc-Web", "1")
		req.Header.Set("Origin", "https://app.example")
		id := strconv.Itoa(len(want))
		req.Header.Set("X-Case", id)
		resp, err := cl.c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", cl.name, err)
		}
		defer resp.Body.Close()
		b := readBody(t, resp)
		sent := len(b)
		if text {
			b = decodePieces(t, b)
		}
		var frames [][]byte
		for len(b) >= 5 {
			n := int(binenc.BigEndian.Uint32(b[1:5]))
			if n > len(b)-5 {
				t.Fatalf("%s: truncated frame in %q", cl.name, b)
			}
			frames, b = append(frames, b[:5+n]), b[5+n:]
		}
		if len(b) > 0 {
			t.Fatalf("%s: bytes after the frames: %q", cl.name, b)
		}
		trailer := 0 // the last frame's bytes as sent
		if len(frames) > 0 {
			if trailer = len(frames[len(frames)-1]); text {
				trailer = base64.StdEncoding.EncodedLen(trailer)
			}
		}
		want[id] = [2]float64{float64(sent), float64(sent - trailer)}
		return resp, frames
	}
	for _, cl := range f.clients {
		for _, text := range []bool{false, true} {
			resp, frames := call(t, cl, "shop", text)
			wantCT := map[bool]string{false: "application/grpc-web+proto", true: "application/grpc-web-text+proto"}[text]
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != wantCT || len(frames) != 2 {
				t.Fatalf("%s text=%v: %d %q %q", cl.name, text, resp.StatusCode, resp.Header.Get("Content-Type"), frames)
			}
			var res healthpb.HealthCheckResponse
			if frames[0][0] != 0 || proto.Unmarshal(frames[0][5:], &res) != nil || res.Status != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("%s text=%v: message %q", cl.name, text, frames[0])
			}
			if got := string(frames[1]); got[0] != 0x80 || !strings.Contains(got, "grpc-status: 0\r\n") {
				t.Errorf("%s text=%v: trailer frame %q", cl.name, text, got)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "grpc-status") {
				t.Errorf("%s text=%v: CORS headers %v", cl.name, text, resp.Header)
			}

			resp, frames = call(t, cl, "nosuch", text)
			if resp.StatusCode != 200 || resp.Header.Get("Grpc-Status") != "5" || len(frames) != 1 || string(frames[0]) != "\x80\x00\x00\x00\x00" {
				t.Errorf("%s text=%v: NotFound as %d Grpc-Status %q frames %q", cl.name, text, resp.StatusCode, resp.Header.Get("Grpc-Status"), frames)
			}
		}
	}
	checkOriginSizes(t, logPath, want)
}

// checkOriginSizes reads the access log at path and checks each line's
// DownstreamContentSize and OriginContentSize against want, by X-Case.
func checkOriginSizes(t *testing.T, path string, want map[string][2]float64) {
	t.Helper()
	for _, line := range waitLines(t, path, len(want)) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		w, ok := want[fmt.Sprint(m["request_X-Case"])]
		if !ok {
			t.Fatalf("a line for no call: %s", line)
		}
		if m["DownstreamContentSize"] != w[0] || m["OriginContentSize"] != w[1] {
			t.Errorf("case %v (%v): DownstreamContentSize %v OriginContentSize %v, want %v %v",
				m["request_X-Case"], m["RequestProtocol"], m["DownstreamContentSize"], m["OriginContentSize"], w[0], w[1])
		}
	}
}

// decodePieces decodes gRPC-Web text: padded base64 pieces one after the
// other, each a whole number of 4-byte quanta.
func decodePieces(t *testing.T, b []byte) []byte {
	t.Helper()
	var out []byte
	for ; len(b) >= 4; b = b[4:] {
		d, err := base64.StdEncoding.DecodeString(string(b[:4]))
		if err != nil {
			t.Fatalf("base64 %q: %v", b, err)
		}
		out = append(out, d...)
	}
	if len(b) > 0 {
		t.Fatalf("base64 left over: %q", b)
	}
	return out
}
