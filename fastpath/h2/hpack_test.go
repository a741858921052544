package h2

import (
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/net/http2/hpack"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fields(l *headerList) string {
	var b strings.Builder
	for i := range l.refs {
		n, v := l.field(i)
		b.WriteString(string(n) + ": " + string(v) + "\n")
	}
	return b.String()
}

// TestDecoderRFC7541Examples: the request examples of RFC 7541 Appendix
// C.3 (no Huffman) and C.4 (Huffman), three requests each on one
// connection, decode to the listed fields, and the dynamic table ends
// with the listed size.
func TestDecoderRFC7541Examples(t *testing.T) {
	want := []string{
		":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\n",
		":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\ncache-control: no-cache\n",
		":method: GET\n:scheme: https\n:path: /index.html\n:authority: www.example.com\ncustom-key: custom-value\n",
	}
	sizes := []int{57, 110, 164}
	for name, blocks := range map[string][]string{
		"C.3": {
			"8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
			"8286 84be 5808 6e6f 2d63 6163 6865",
			"8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
		},
		"C.4": {
			"8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
			"8286 84be 5886 a8eb 1064 9cbf",
			"8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
		},
	} {
		d := newDecoder()
		var l headerList
		for i, blk := range blocks {
			l.reset(1 << 20)
			if err := d.decode(unhex(t, blk), &l); err != nil {
				t.Fatalf("%s request %d: %v", name, i+1, err)
			}
			if got := fields(&l); got != want[i] {
				t.Errorf("%s request %d:\n%s\nwant\n%s", name, i+1, got, want[i])
			}
			if d.size != sizes[i] {
				t.Errorf("%s request %d: table size %d, want %d", name, i+1, d.size, sizes[i])
			}
		}
	}
}

// TestDecoderEviction: with a 256-octet table (a size update), entries are
// evicted oldest first, and an index past the table is an error.
func TestDecoderEviction(t *testing.T) {
	var buf strings.Builder
	enc := hpack.NewEncoder(&buf)
	enc.SetMaxDynamicTableSizeLimit(256)
	enc.SetMaxDynamicTableSize(256)
	d := newDecoder()
	var l headerList
	for i := 0; i < 20; i++ {
		buf.Reset()
		_ = enc.WriteField(hpack.HeaderField{Name: "x-key", Value: strings.Repeat("v", i+40)})
		_ = enc.WriteField(hpack.HeaderField{Name: "x-key", Value: strings.Repeat("v", i+40)}) // now indexed
		l.reset(1 << 20)
		if err := d.decode([]byte(buf.String()), &l); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if len(l.refs) != 2 {
			t.Fatalf("round %d: %d fields", i, len(l.refs))
		}
		for j := range l.refs {
			if _, v := l.field(j); len(v) != i+40 {
				t.Fatalf("round %d field %d: value of %d octets, want %d", i, j, len(v), i+40)
			}
		}
		if d.size > 256 {
			t.Fatalf("round %d: table at %d octets over 256", i, d.size)
		}
	}
	l.reset(1 << 20)
	if err := d.decode([]byte{0x80 | 0x7f, 0x10}, &l); err == nil { // index 143: past the table
		t.Fatal("an index past the dynamic table decoded")
	}
}

// TestDecoderErrors: each malformed block is refused.
func TestDecoderErrors(t *testing.T) {
	for name, blk := range map[string]string{
		"index 0":                 "80",
		"static index past table": "ff 00", // 127+0 = 127: no dynamic entries
		"size update after field": "82 3f e1 1f",
		"size update above limit": "3f e2 1f", // 4097
		"truncated integer":       "ff",
		"truncated string":        "40 05 61",
		"huffman EOS":             "40 81 ff 81 ff",
		"huffman padding zeros":   "40 81 00 81 00",
		"integer overflow":        "ff ff ff ff ff ff ff",
	} {
		d := newDecoder()
		var l headerList
		l.reset(1 << 20)
		if err := d.decode(unhex(t, blk), &l); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// TestDecoderListLimit: past the list limit the fields are dropped and
// tooLarge set, while the table still takes the indexed literals.
func TestDecoderListLimit(t *testing.T) {
	var buf strings.Builder
	enc := hpack.NewEncoder(&buf)
	for i := 0; i < 10; i++ {
		_ = enc.WriteField(hpack.HeaderField{Name: "x-big", Value: strings.Repeat("a", 100+i)})
	}
	d := newDecoder()
	var l headerList
	l.reset(500)
	if err := d.decode([]byte(buf.String()), &l); err != nil {
		t.Fatal(err)
	}
	if !l.tooLarge || len(l.refs) > 4 {
		t.Fatalf("tooLarge=%t with %d fields kept", l.tooLarge, len(l.refs))
	}
	if n := len(d.ents) - d.start; n != 10 {
		t.Fatalf("the dynamic table holds %d entries, want 10", n)
	}
}

// TestEncoderRoundTrip: what the encoder writes, x/net's decoder reads.
func TestEncoderRoundTrip(t *testing.T) {
	b := appendStatus(nil, 200)
	b = appendStatus(b, 418)
	b = appendField(b, []byte("content-type"), []byte("text/plain"))
	b = appendField(b, []byte("x-custom"), []byte(strings.Repeat("z", 300)))
	got, err := hpack.NewDecoder(4096, nil).DecodeFull(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{":status=200", ":status=418", "content-type=text/plain", "x-custom=" + strings.Repeat("z", 300)}
	if len(got) != len(want) {
		t.Fatalf("%d fields: %v", len(got), got)
	}
	for i, f := range got {
		if f.Name+"="+f.Value != want[i] {
			t.Errorf("field %d: %s=%s, want %s", i, f.Name, f.Value, want[i])
		}
	}
}

// FuzzDecoder: any block either decodes or is refused; never a panic,
// and never more kept than the limit.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff})
	f.Add([]byte{0x3f, 0xe1, 0x1f, 0x40, 0x01, 'a', 0x01, 'b', 0xbe})
	f.Fuzz(func(t *testing.T, p []byte) {
		d := newDecoder()
		var l headerList
		for range 2 {
			l.reset(1024)
			_ = d.decode(p, &l)
			if len(l.arena) > 1024+2*len(p)+64 && !l.tooLarge {
				t.Fatalf("kept %d octets under a 1024 limit", len(l.arena))
			}
			if d.size > d.max {
				t.Fatalf("table at %d over %d", d.size, d.max)
			}
		}
	})
}
