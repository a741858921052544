package h2

import (
	"errors"

	"golang.org/x/net/http2/hpack"
)

// HPACK (RFC 7541): a decoder for request header blocks, with the
// connection's dynamic table, decoding into a headerList without
// allocating once its buffers have grown; and an encoder for responses
// that uses the static table only (literals without indexing, as nginx
// does), so no response header is ever retained by the connection.

var errCompression = errors.New("hpack: invalid header block")

// staticTable is RFC 7541 Appendix A; index 1 is staticTable[0].
var staticTable = [...][2]string{
	{":authority", ""}, {":method", "GET"}, {":method", "POST"}, {":path", "/"},
	{":path", "/index.html"}, {":scheme", "http"}, {":scheme", "https"}, {":status", "200"},
	{":status", "204"}, {":status", "206"}, {":status", "304"}, {":status", "400"},
	{":status", "404"}, {":status", "500"}, {"accept-charset", ""}, {"accept-encoding", "gzip, deflate"},
	{"accept-language", ""}, {"accept-ranges", ""}, {"accept", ""}, {"access-control-allow-origin", ""},
	{"age", ""}, {"allow", ""}, {"authorization", ""}, {"cache-control", ""},
	{"content-disposition", ""}, {"content-encoding", ""}, {"content-language", ""}, {"content-length", ""},
	{"content-location", ""}, {"content-range", ""}, {"content-type", ""}, {"cookie", ""},
	{"date", ""}, {"etag", ""}, {"expect", ""}, {"expires", ""},
	{"from", ""}, {"host", ""}, {"if-match", ""}, {"if-modified-since", ""},
	{"if-none-match", ""}, {"if-range", ""}, {"if-unmodified-since", ""}, {"last-modified", ""},
	{"link", ""}, {"location", ""}, {"max-forwards", ""}, {"proxy-authenticate", ""},
	{"proxy-authorization", ""}, {"range", ""}, {"referer", ""}, {"refresh", ""},
	{"retry-after", ""}, {"server", ""}, {"set-cookie", ""}, {"strict-transport-security", ""},
	{"transfer-encoding", ""}, {"user-agent", ""}, {"vary", ""}, {"via", ""},
	{"www-authenticate", ""},
}

// staticName is the first static index of each name.
var staticName = func() map[string]uint64 {
	m := make(map[string]uint64, len(staticTable))
	for i := len(staticTable) - 1; i >= 0; i-- {
		m[staticTable[i][0]] = uint64(i + 1)
	}
	return m
}()

// entryOverhead is what RFC 7541 section 4.1 adds to an entry's size.
const entryOverhead = 32

// dynEntry is one dynamic table entry: name and value in one buffer.
type dynEntry struct {
	buf     []byte
	nameLen int
}

// decoder is one connection's HPACK decoding context. Entries live in
// ents[start:], oldest first; evicted entries' buffers are reused.
type decoder struct {
	ents  []dynEntry
	start int
	size  int // RFC 7541 size of the live entries
	max   int // the table size the encoder chose (at most headerTableLimit)
	free  [][]byte
}

func newDecoder() decoder { return decoder{max: headerTableLimit} }

// headerList receives decoded fields: their bytes in arena, their offsets
// in refs. Past limit bytes (RFC 7541 sizes) it keeps decoding, to keep
// the dynamic table in step, but stores nothing and sets tooLarge.
type headerList struct {
	arena    []byte
	refs     []fieldRef
	total    int
	limit    int
	tooLarge bool
}

type fieldRef struct{ name, value, end int32 } // name at arena[name:value], value at arena[value:end]

func (l *headerList) reset(limit int) {
	l.arena, l.refs, l.total, l.limit, l.tooLarge = l.arena[:0], l.refs[:0], 0, limit, false
}

// commit records the field whose name starts at from and whose value
// starts at val in the arena (both already appended), or drops it when
// the list is over its limit.
func (l *headerList) commit(from, val int) {
	l.total += len(l.arena) - from + entryOverhead
	if l.total > l.limit {
		l.tooLarge = true
	}
	if l.tooLarge {
		l.arena = l.arena[:from]
		return
	}
	l.refs = append(l.refs, fieldRef{int32(from), int32(val), int32(len(l.arena))})
}

func (l *headerList) field(i int) (name, value []byte) {
	r := l.refs[i]
	return l.arena[r.name:r.value:r.value], l.arena[r.value:r.end:r.end]
}

// decode decodes one complete header block into out.
func (d *decoder) decode(p []byte, out *headerList) error {
	fields := false
	for len(p) > 0 {
		b := p[0]
		var err error
		switch {
		case b&0x80 != 0: // indexed field
			p, err = d.indexed(p, out)
			fields = true
		case b&0xc0 == 0x40: // literal with incremental indexing
			p, err = d.literal(p, 6, true, out)
			fields = true
		case b&0xe0 == 0x20: // dynamic table size update: only before any field
			if fields {
				return errCompression
			}
			var v uint64
			if v, p, err = readInt(p, 5); err == nil {
				if v > headerTableLimit {
					return errCompression
				}
				d.max = int(v)
				d.evict(0)
			}
		default: // literal without indexing (0000) or never indexed (0001)
			p, err = d.literal(p, 4, false, out)
			fields = true
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) indexed(p []byte, out *headerList) ([]byte, error) {
	idx, p, err := readInt(p, 7)
	if err != nil {
		return nil, err
	}
	from := len(out.arena)
	if out.arena, err = d.appendName(out.arena, idx); err != nil {
		return nil, err
	}
	val := len(out.arena)
	out.arena = d.appendValue(out.arena, idx)
	out.commit(from, val)
	return p, nil
}

func (d *decoder) literal(p []byte, prefix uint, index bool, out *headerList) ([]byte, error) {
	idx, p, err := readInt(p, prefix)
	if err != nil {
		return nil, err
	}
	from := len(out.arena)
	if idx > 0 {
		out.arena, err = d.appendName(out.arena, idx)
	} else {
		out.arena, p, err = readString(out.arena, p)
	}
	if err != nil {
		return nil, err
	}
	val := len(out.arena)
	if out.arena, p, err = readString(out.arena, p); err != nil {
		return nil, err
	}
	if index {
		d.insert(out.arena[from:val], out.arena[val:])
	}
	out.commit(from, val)
	return p, nil
}

// lookup returns entry idx (1-based, static then dynamic).
func (d *decoder) lookup(idx uint64) (name, value []byte, static string, svalue string, ok bool) {
	switch {
	case idx == 0:
		return nil, nil, "", "", false
	case idx <= uint64(len(staticTable)):
		e := staticTable[idx-1]
		return nil, nil, e[0], e[1], true
	}
	i := idx - uint64(len(staticTable)) // 1 = newest
	live := uint64(len(d.ents) - d.start)
	if i > live {
		return nil, nil, "", "", false
	}
	e := d.ents[len(d.ents)-int(i)]
	return e.buf[:e.nameLen], e.buf[e.nameLen:], "", "", true
}

func (d *decoder) appendName(dst []byte, idx uint64) ([]byte, error) {
	name, _, sname, _, ok := d.lookup(idx)
	if !ok {
		return dst, errCompression
	}
	if name == nil {
		return append(dst, sname...), nil
	}
	return append(dst, name...), nil
}

func (d *decoder) appendValue(dst []byte, idx uint64) []byte {
	_, value, sname, svalue, _ := d.lookup(idx)
	if sname != "" {
		return append(dst, svalue...)
	}
	return append(dst, value...)
}

// insert adds an entry, evicting the oldest to make room (RFC 7541
// section 4.4: an entry larger than the table empties it).
func (d *decoder) insert(name, value []byte) {
	size := len(name) + len(value) + entryOverhead
	if size > d.max {
		d.evict(d.max + 1)
		return
	}
	d.evict(size)
	var buf []byte
	if n := len(d.free); n > 0 {
		buf, d.free = d.free[n-1][:0], d.free[:n-1]
	}
	buf = append(append(buf, name...), value...)
	if d.start > 0 && d.start >= len(d.ents)/2 {
		n := copy(d.ents, d.ents[d.start:])
		clear(d.ents[n:])
		d.ents, d.start = d.ents[:n], 0
	}
	d.ents = append(d.ents, dynEntry{buf: buf, nameLen: len(name)})
	d.size += size
}

// evict drops the oldest entries until room more bytes fit under max.
func (d *decoder) evict(room int) {
	for d.size+room > d.max && d.start < len(d.ents) {
		e := d.ents[d.start]
		d.size -= len(e.buf) + entryOverhead
		if cap(e.buf) <= 1024 {
			d.free = append(d.free, e.buf)
		}
		d.ents[d.start] = dynEntry{}
		d.start++
	}
}

// readInt reads an HPACK integer with an n-bit prefix (RFC 7541 5.1).
func readInt(p []byte, n uint) (uint64, []byte, error) {
	if len(p) == 0 {
		return 0, nil, errCompression
	}
	mask := uint64(1)<<n - 1
	v := uint64(p[0]) & mask
	if v < mask {
		return v, p[1:], nil
	}
	var m uint
	for i := 1; i < len(p); i++ {
		b := p[i]
		v += uint64(b&0x7f) << m
		if b&0x80 == 0 {
			return v, p[i+1:], nil
		}
		if m += 7; m > 28 {
			return 0, nil, errCompression // more than any length or index here
		}
	}
	return 0, nil, errCompression
}

// readString appends a string literal (RFC 7541 5.2) to dst.
func readString(dst, p []byte) ([]byte, []byte, error) {
	if len(p) == 0 {
		return dst, nil, errCompression
	}
	huff := p[0]&0x80 != 0
	n, p, err := readInt(p, 7)
	if err != nil || n > uint64(len(p)) {
		return dst, nil, errCompression
	}
	s := p[:n]
	if !huff {
		return append(dst, s...), p[n:], nil
	}
	w := appender{dst}
	if _, err := hpack.HuffmanDecode(&w, s); err != nil {
		return dst, nil, errCompression
	}
	return w.b, p[n:], nil
}

type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// appendInt appends an HPACK integer with an n-bit prefix and the bits
// first above it.
func appendInt(b []byte, n uint, first byte, v uint64) []byte {
	mask := uint64(1)<<n - 1
	if v < mask {
		return append(b, first|byte(v))
	}
	b = append(b, first|byte(mask))
	v -= mask
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendString(b, s []byte) []byte {
	return append(appendInt(b, 7, 0, uint64(len(s))), s...)
}

// appendStatus encodes :status.
func appendStatus(b []byte, code int) []byte {
	switch code {
	case 200:
		return append(b, 0x80|8)
	case 204:
		return append(b, 0x80|9)
	case 206:
		return append(b, 0x80|10)
	case 304:
		return append(b, 0x80|11)
	case 400:
		return append(b, 0x80|12)
	case 404:
		return append(b, 0x80|13)
	case 500:
		return append(b, 0x80|14)
	}
	if code < 100 || code > 999 {
		code = 500
	}
	b = appendInt(b, 4, 0, 8)
	return append(b, 3, byte('0'+code/100), byte('0'+code/10%10), byte('0'+code%10))
}

// appendField encodes a field (name lower case) as a literal without
// indexing, its name indexed when the static table has it.
func appendField(b, name, value []byte) []byte {
	if idx := staticName[string(name)]; idx > 0 {
		b = appendInt(b, 4, 0, idx)
	} else {
		b = appendString(append(b, 0), name)
	}
	return appendString(b, value)
}
