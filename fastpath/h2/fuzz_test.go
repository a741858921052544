package h2

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// FuzzConn: whatever a client sends after the preface, the connection
// answers without a panic and ends when the client leaves.
func FuzzConn(f *testing.F) {
	f.Add(seedBytes())
	f.Add(append([]byte{0, 0, 0, 4, 0, 0, 0, 0, 0}, 0, 0, 5, 1, 4, 0, 0, 0, 1, 0x82, 0x86, 0x84, 0x41, 0x80))
	f.Fuzz(runOne)
}

// seedBytes: SETTINGS, a POST with its body, WINDOW_UPDATE, PING and a reset.
func seedBytes() []byte {
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, kv := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", "/p"}, {":authority", "a"}, {"content-length", "3"}} {
		_ = enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
	}
	var seed bytes.Buffer
	fr := http2.NewFramer(&seed, nil)
	_ = fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 10})
	_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true})
	_ = fr.WriteData(1, true, []byte("abc"))
	_ = fr.WriteWindowUpdate(1, 100)
	_ = fr.WritePing(false, [8]byte{1})
	_ = fr.WriteRSTStream(1, http2.ErrCodeCancel)
	return seed.Bytes()
}

// runOne serves one connection whose client sends the preface, then in,
// then leaves.
func runOne(t *testing.T, in []byte) {
	{
		srv, cli := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			(&Server{IdleTimeout: time.Second}).ServeConn(srv, echo)
			srv.Close()
		}()
		go io.Copy(io.Discard, cli)
		_ = cli.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = cli.Write([]byte(clientPreface))
		_, _ = cli.Write(in)
		cli.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the connection did not end when its client left")
		}
	}
}
