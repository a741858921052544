package middleware

import (
	"bytes"

	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// Traefik's path middlewares work on Go's URL: Path (decoded) and RawPath
// (the escaped form, kept only when it is not Path's default escaping),
// and send URL.RequestURI(), whose path is EscapedPath(). Sluice keeps
// only the escaped path it sends (the Exchange's request path); the
// functions here give the same results on bytes, without allocating once
// the Exchange's scratch buffers have grown.

// plainPath reports whether p holds no escape and nothing Go's path
// escaping would escape: it is then its own decoded form and its own
// default escaping.
func plainPath(p []byte) bool {
	for _, c := range p {
		if c == '%' || match.ShouldEscapePath(c) {
			return false
		}
	}
	return true
}

// cleanAlready reports whether path.Clean keeps p, a rooted path (or an
// empty one), but for a trailing slash: no empty, "." or ".." segment.
func cleanAlready(p []byte) bool {
	if len(p) == 0 {
		return true
	}
	if p[0] != '/' {
		return false
	}
	for i := 1; i <= len(p); {
		j := i
		for j < len(p) && p[j] != '/' {
			j++
		}
		seg := p[i:j]
		if len(seg) == 0 && j < len(p) || string(seg) == "." || string(seg) == ".." {
			return false
		}
		i = j + 1
	}
	return true
}

// escapedPath appends URL.EscapedPath() of a URL with path and raw (nil:
// no RawPath) to dst; tmp is scratch.
func escapedPath(dst, path, raw []byte, tmp *[]byte) []byte {
	if raw != nil && match.ValidEncodedPath(raw) {
		if p, err := match.UnescapePath((*tmp)[:0], raw); err == nil && bytes.Equal(p, path) {
			*tmp = p
			return append(dst, raw...)
		}
	}
	if string(path) == "*" {
		return append(dst, '*')
	}
	return match.EscapePath(dst, path)
}

// reqPath is a request path as Go's URL holds it: path decoded, raw the
// escaped form when it is not path's default escaping (nil otherwise).
// Scratch buffers of the Exchange hold it: 0 the decoded path, 2 and 3
// a middleware's new path and raw path, 4 and 5 send's.
type reqPath struct {
	x         *pipeline.Exchange
	path, raw []byte
}

// Scratch buffers, by use.
const (
	bufPath   = iota
	bufHeader // the headers middlewares' joined values
	bufNewPath
	bufNewRaw
	bufOut
	bufTmp
)

// parse reads the Exchange's request path: url.setPath of the escaped
// path Sluice sends. It reports false for an invalid escape.
func parse(x *pipeline.Exchange) (reqPath, bool) {
	esc, _, _ := x.RequestPath()
	u := reqPath{x: x}
	if plainPath(esc) { // the common case: decoding and escaping change nothing
		u.path = esc
		return u, true
	}
	p, err := match.UnescapePath((*x.Scratch(bufPath))[:0], esc)
	*x.Scratch(bufPath) = p
	if err != nil {
		return u, false
	}
	u.path = p
	def := match.EscapePath((*x.Scratch(bufTmp))[:0], p)
	*x.Scratch(bufTmp) = def
	if !bytes.Equal(def, esc) {
		u.raw = esc // Out's URI: valid until send sets it
	}
	return u, true
}

// escaped is URL.EscapedPath(), in scratch buffer bufOut.
func (u reqPath) escaped() []byte {
	x := u.x
	out := escapedPath((*x.Scratch(bufOut))[:0], u.path, u.raw, x.Scratch(bufTmp))
	*x.Scratch(bufOut) = out
	return out
}

// send makes u the Exchange's request path (URL.RequestURI()).
func (u reqPath) send() { u.x.SetRequestPath(u.escaped()) }

// sendJoined is Traefik's "req.URL = req.URL.JoinPath()" and the check
// after it, then send: it reports false, sending nothing, when cleaning
// the path changes it (Traefik then answers 400). An empty path is sent
// as it is.
func (u reqPath) sendJoined() bool {
	if u.raw == nil && plainPath(u.path) && cleanAlready(u.path) {
		u.x.SetRequestPath(u.path) // nothing to escape, nothing to clean
		return true
	}
	if !u.joinedSame() {
		return false
	}
	if len(u.path) == 0 {
		u.send()
		return true
	}
	u.x.SetRequestPath(match.CleanPath(u.escaped()))
	return true
}

// joinedSame reports whether URL.JoinPath() keeps u's decoded path.
func (u reqPath) joinedSame() bool {
	if len(u.path) == 0 {
		return true
	}
	x := u.x
	cleaned := match.CleanPath(u.escaped())
	p, err := match.UnescapePath((*x.Scratch(bufTmp))[:0], cleaned)
	*x.Scratch(bufTmp) = p
	return err == nil && bytes.Equal(p, u.path)
}

// encodedPrefixLen is Traefik's: the bytes of raw that hold the decoded
// prefix, %XX counting as one.
func encodedPrefixLen(raw []byte, prefix []byte) int {
	decoded, i := 0, 0
	for i < len(raw) && decoded < len(prefix) {
		if raw[i] == '%' && i+2 < len(raw) {
			i += 3
		} else {
			i++
		}
		decoded++
	}
	return i
}

// leadingSlash is ensureLeadingSlash, writing into dst when it must add one.
func leadingSlash(dst, s []byte) []byte {
	if len(s) == 0 || s[0] == '/' {
		return s
	}
	return append(append(dst[:0], '/'), s...)
}
