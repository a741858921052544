package h2

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// HTTP/2 abuse (issue 25): each attack is answered within a bound of
// frames, time and memory, and the server goes on serving others.

// TestContinuationFlood: a header block that never ends (CVE-2024-27316's
// pattern: endless CONTINUATION frames) is cut with ENHANCE_YOUR_CALM
// after maxBlockFrames frames, whatever their size.
func TestContinuationFlood(t *testing.T) {
	addr := serve(t, &Server{}, echo)
	for _, size := range []int{0, 1000} {
		r := dialRaw(t, addr)
		r.settled()
		r.buf.Reset()
		for i := 0; i < len(get); i += 2 {
			_ = r.enc.WriteField(hpack.HeaderField{Name: get[i], Value: get[i+1]})
		}
		if err := r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: r.buf.Bytes()}); err != nil {
			t.Fatal(err)
		}
		chunk := bytes.Repeat([]byte{0x40, 0}, size/2) // empty literal fields
		w := http2.NewFramer(r.c, nil)                 // written from its own goroutine
		go func() {
			for range 100000 {
				if w.WriteContinuation(1, false, chunk) != nil {
					return
				}
			}
		}()
		if got := r.answer(1); got != "GOAWAY ENHANCE_YOUR_CALM" {
			t.Errorf("CONTINUATION frames of %d bytes: %s, want GOAWAY ENHANCE_YOUR_CALM", size, got)
		}
	}
	healthy(t, addr)
}

// TestHPACKBomb: a small block that references one large dynamic-table
// entry thousands of times decodes to far more than MaxHeaderBytes; it is
// answered 431 without the decoded list being built.
func TestHPACKBomb(t *testing.T) {
	addr := serve(t, &Server{MaxHeaderBytes: 16 << 10}, echo)
	r := dialRaw(t, addr)
	r.buf.Reset()
	for i := 0; i < len(get); i += 2 {
		_ = r.enc.WriteField(hpack.HeaderField{Name: get[i], Value: get[i+1]})
	}
	_ = r.enc.WriteField(hpack.HeaderField{Name: ":authority", Value: "a.example"})
	_ = r.enc.WriteField(hpack.HeaderField{Name: "x-bomb", Value: strings.Repeat("b", 4000)}) // enters the table at 62
	block := append([]byte(nil), r.buf.Bytes()...)
	for len(block) < 15000 {
		block = append(block, 0x80|62) // indexed field 62: 4 KB each
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndStream: true, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	if got := r.answer(1); got != "431" {
		t.Errorf("a block decoding to %d MB: %s, want 431", (len(block)-4100)*4000>>20, got)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := int64(after.TotalAlloc - before.TotalAlloc); grown > 4<<20 {
		t.Errorf("decoding the bomb allocated %d KiB", grown>>10)
	}
	healthy(t, addr)
}

// TestControlFrameFloods: PING and SETTINGS sent as fast as a client can,
// never reading the acknowledgements: the server's buffer does not grow
// with them (its writes block; the reader waits), and its memory stays
// flat; once the client reads again the connection still works.
func TestControlFrameFloods(t *testing.T) {
	addr := serve(t, &Server{}, echo)
	for _, kind := range []string{"PING", "SETTINGS"} {
		r := dialRaw(t, addr)
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		deadline := time.Now().Add(time.Second)
		_ = r.c.SetWriteDeadline(deadline)
		n := 0
		for time.Now().Before(deadline) {
			var err error
			if kind == "PING" {
				err = r.fr.WritePing(false, [8]byte{1})
			} else {
				err = r.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65535})
			}
			if err != nil {
				break // the server stopped reading: backpressure
			}
			n++
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 16<<20 {
			t.Errorf("%s flood (%d frames, acknowledgements unread): the heap grew %d MiB", kind, n, grown>>20)
		}
		t.Logf("%s flood: %d frames in 1 s, none of their acknowledgements read; heap %+d KiB", kind, n, (int64(after.HeapInuse)-int64(before.HeapInuse))>>10)
		r.c.Close()
	}
	healthy(t, addr)
}

// settled reads the server's SETTINGS and acknowledges them, so that
// nothing more needs writing while another goroutine writes.
func (r *rawClient) settled() {
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			r.t.Fatal(err)
		}
		if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
			if err := r.fr.WriteSettingsAck(); err != nil {
				r.t.Fatal(err)
			}
			return
		}
	}
}

// healthy: a new connection is served.
func healthy(t *testing.T, addr string) {
	t.Helper()
	r := dialRaw(t, addr)
	r.request(1, true, append(get, ":authority", "a.example")...)
	if got := r.answer(1); got != "200" {
		t.Fatalf("after the attack, a request: %s", got)
	}
}
