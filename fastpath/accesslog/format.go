package accesslog

import (
	"bytes"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/sluiceproxy/sluice/fastpath/match"
)

// format appends r's line in the configured format.
func (l *Logger) format(b []byte, r *Record) []byte {
	switch l.cfg.Format {
	case JSON:
		_, b = l.fields(r, append(b, '{'))
		return append(b, "}\n"...)
	case GenericCLF:
		if !l.headers {
			return l.appendCLFDirect(b, r, false)
		}
		kv, _ := l.fields(r, nil)
		return appendCLF(b, kv, &l.pos, false)
	}
	if !l.headers {
		return l.appendCLFDirect(b, r, true)
	}
	kv, _ := l.fields(r, nil)
	return appendCLF(b, kv, &l.pos, true)
}

// name is the field's key as bytes (no copy).
func (f *field) name() []byte {
	if f.kind == kHeader {
		return f.k
	}
	return unsafeBytes(f.key)
}

// clock caches the text of the current second in one layout (the
// writer's goroutine only; one clock per layout and location): logrus's
// time field, the common format's time.
type clock struct {
	sec  int64
	text []byte
}

// format appends t in layout, formatting it only when its second changed.
func (c *clock) format(b []byte, t time.Time, layout string) []byte {
	if s := t.Unix(); s != c.sec || c.text == nil {
		c.sec, c.text = s, t.AppendFormat(c.text[:0], layout)
	}
	return append(b, c.text...)
}

// nanoClock caches time.RFC3339Nano's text of the current second, the
// parts before and after the fraction (the writer's goroutine only; one
// clock per location).
type nanoClock struct {
	sec        int64
	head, zone []byte
}

// rfc3339Nano appends t as time.RFC3339Nano does.
func (c *nanoClock) rfc3339Nano(b []byte, t time.Time) []byte {
	if s := t.Unix(); s != c.sec || c.head == nil {
		c.sec = s
		c.head = t.AppendFormat(c.head[:0], "2006-01-02T15:04:05")
		c.zone = t.AppendFormat(c.zone[:0], "Z07:00")
	}
	b = append(b, c.head...)
	if ns := t.Nanosecond(); ns != 0 {
		var d [10]byte
		d[0] = '.'
		for i := 9; i > 0; i-- {
			d[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for d[n-1] == '0' {
			n--
		}
		b = append(b, d[:n]...)
	}
	return append(b, c.zone...)
}

// appendFloat is encoding/json's float64 form.
func appendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0')
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		n := len(b)
		b = strconv.AppendFloat(b, f, 'e', -1, 64)
		// e-07 becomes e-7, as encoding/json writes it
		if m := len(b) - n; m >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
		return b
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendString is encoding/json's string encoding with HTML escaping.
func appendString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	i := 0
	for i < len(s) && plainJSON[s[i]] {
		i++
	}
	b = append(b, s[:i]...) // most values need no escape at all
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b': // as encoding/json since Go 1.22
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// plainJSON are the bytes encoding/json writes as they are (with HTML
// escaping): printable ASCII but '"', '\\', '<', '>' and '&'.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

const clfTime = "02/Jan/2006:15:04:05 -0700"

// appendCLF is Traefik's CommonLogFormatter (common: with the request
// count, router, server URL and duration) or GenericCLFLogFormatter.
func appendCLF(b []byte, kv []field, pos *[numKeys]int16, common bool) []byte {
	get := func(k coreKey) *field {
		if i := pos[k]; i >= 0 {
			return &kv[i]
		}
		return nil
	}
	plain := func(b []byte, k coreKey) []byte {
		if f := get(k); f != nil && len(f.s) > 0 {
			return append(b, f.s...)
		}
		return append(b, '-')
	}
	quoted := func(b []byte, f *field) []byte {
		if f == nil || len(f.s) == 0 {
			return append(b, `"-"`...)
		}
		b = append(b, '"')
		for _, c := range f.s {
			if c == '"' {
				b = append(b, '\\')
			}
			b = append(b, c)
		}
		return append(b, '"')
	}
	number := func(b []byte, k coreKey) []byte {
		if f := get(k); f != nil {
			return strconv.AppendInt(b, f.n, 10)
		}
		return append(b, '-')
	}
	b = plain(b, keyClientHost)
	b = append(b, " - "...)
	b = plain(b, keyClientUsername)
	b = append(b, " ["...)
	if f := get(keyStartUTC); f != nil {
		b = f.t.AppendFormat(b, clfTime)
	} else if f := get(keyStartLocal); f != nil {
		b = f.t.AppendFormat(b, clfTime)
	} else {
		b = append(b, '-')
	}
	b = append(b, "] \""...)
	b = plain(b, keyRequestMethod)
	b = append(b, ' ')
	b = plain(b, keyRequestPath)
	b = append(b, ' ')
	b = plain(b, keyRequestProtocol)
	b = append(b, "\" "...)
	b = number(b, keyDownstreamStatus)
	b = append(b, ' ')
	b = number(b, keyDownstreamContentSize)
	b = append(b, ' ')
	b = quoted(b, header(kv, "request_Referer"))
	b = append(b, ' ')
	b = quoted(b, header(kv, "request_User-Agent"))
	if !common {
		return append(b, '\n')
	}
	b = append(b, ' ')
	b = number(b, keyRequestCount)
	b = append(b, ' ')
	b = quoted(b, get(keyRouterName))
	b = append(b, ' ')
	b = quoted(b, get(keyServiceURL))
	b = append(b, ' ')
	var ms int64
	if f := get(keyDuration); f != nil {
		ms = f.n / int64(time.Millisecond)
	}
	b = strconv.AppendInt(b, ms, 10)
	return append(b, "ms\n"...)
}

// header is the header field named name, or nil.
func header(kv []field, name string) *field {
	for i := range kv {
		if kv[i].kind == kHeader && string(kv[i].k) == name {
			return &kv[i]
		}
	}
	return nil
}

// requestPath appends Traefik's RequestPath: the URL's path (as Go's URL
// escapes it) and, unless dropped, its query; an absolute-form target
// loses its scheme and authority.
func requestPath(out, uri []byte, dropQuery bool) []byte {
	if len(uri) > 0 && uri[0] != '/' {
		if i := bytes.Index(uri, []byte("://")); i >= 0 {
			rest := uri[i+3:]
			if j := bytes.IndexAny(rest, "/?"); j >= 0 {
				uri = rest[j:]
			} else {
				uri = nil
			}
		}
	}
	path, query, hasQuery := uri, []byte(nil), false
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		path, query, hasQuery = uri[:i], uri[i+1:], true
	}
	out = match.AppendEscapedPath(out, path)
	if hasQuery && !dropQuery {
		out = append(append(out, '?'), query...)
	}
	return out
}

// unsafeBytes views a string's bytes; they must not be written.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
