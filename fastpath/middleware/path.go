package middleware

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// The path middlewares, as Traefik v3.7's pkg/middlewares/addprefix,
// stripprefix, stripprefixregex, replacepath and replacepathregex: each
// edits the decoded path and the raw path as Traefik edits URL.Path and
// URL.RawPath, and sends what URL.RequestURI() would.

// Headers the path middlewares add, pre-canonicalised.
var (
	hdrForwardedPrefix = []byte("X-Forwarded-Prefix")
	hdrReplacedPath    = []byte("X-Replaced-Path")
)

// AddPrefix is Traefik's addPrefix: Prefix before the path.
type AddPrefix struct{ Prefix string }

// Middleware builds it; an empty prefix is an error, as in Traefik.
func (a AddPrefix) Middleware() (pipeline.Middleware, error) {
	if a.Prefix == "" {
		return nil, errors.New("prefix cannot be empty")
	}
	prefix := []byte(a.Prefix)
	return withPath(func(u reqPath) bool {
		u.path = prefixed(u.x.Scratch(bufNewPath), prefix, u.path)
		if u.raw != nil {
			u.raw = prefixed(u.x.Scratch(bufNewRaw), prefix, u.raw)
		}
		u.send()
		return true
	}), nil
}

// prefixed is ensureLeadingSlash(prefix + s), in buf.
func prefixed(buf *[]byte, prefix, s []byte) []byte {
	b := (*buf)[:0]
	if len(prefix)+len(s) > 0 && (len(prefix) > 0 && prefix[0] != '/' || len(prefix) == 0 && s[0] != '/') {
		b = append(b, '/')
	}
	b = append(append(b, prefix...), s...)
	*buf = b
	return b
}

// StripPrefix is Traefik's stripPrefix: the first of Prefixes the decoded
// path starts with is removed, and named in X-Forwarded-Prefix.
type StripPrefix struct {
	Prefixes []string
	// ForceSlash (deprecated in Traefik, default false) makes the
	// stripped path "/" + the rest without its leading slash.
	ForceSlash bool
}

// Middleware builds it; prefixes are trimmed of spaces, as in Traefik.
func (s StripPrefix) Middleware() (pipeline.Middleware, error) {
	prefixes := make([][]byte, len(s.Prefixes))
	for i, p := range s.Prefixes {
		prefixes[i] = []byte(strings.TrimSpace(p))
	}
	force := s.ForceSlash
	return withPath(func(u reqPath) bool {
		for _, p := range prefixes {
			if bytes.HasPrefix(u.path, p) {
				if !u.strip(p, force) {
					return false
				}
				addCanonical(&u.x.Out.Header, hdrForwardedPrefix, p)
				break
			}
		}
		return true
	}), nil
}

// withPath is a path middleware: serve edits the parsed request path and
// reports whether the request goes on (false: it answered).
func withPath(serve func(u reqPath) bool) pipeline.Middleware {
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			u, ok := parse(x)
			if !ok {
				badPath(x)
				return
			}
			if serve(u) {
				next.Serve(x)
			}
		})
	}
}

// strip removes prefix, a prefix of u's decoded path, from the path and
// from the raw path (the bytes that encode it), and sends the result as
// Traefik does after JoinPath; false: it answered 400.
func (u reqPath) strip(prefix []byte, force bool) bool {
	x := u.x
	u.path = stripped(x.Scratch(bufNewPath), u.path[len(prefix):], force)
	if u.raw != nil {
		u.raw = stripped(x.Scratch(bufNewRaw), u.raw[encodedPrefixLen(u.raw, prefix):], force)
	}
	if !u.sendJoined() {
		x.Respond(fasthttp.StatusBadRequest, bodyBadRequest)
		return false
	}
	return true
}

// bodyBadRequest is http.Error's body for StatusText(400).
var bodyBadRequest = []byte("Bad Request\n")

// stripped is what remains of a path after its prefix: with a leading
// slash (ensureLeadingSlash), or, with force, "/" + rest without its own.
func stripped(buf *[]byte, rest []byte, force bool) []byte {
	if force {
		rest = bytes.TrimPrefix(rest, []byte("/"))
	} else if len(rest) == 0 || rest[0] == '/' {
		return rest
	}
	b := append(append((*buf)[:0], '/'), rest...)
	*buf = b
	return b
}

// StripPrefixRegex is Traefik's stripPrefixRegex: the first expression
// matching the decoded path, where its match is a prefix of the path,
// removes that match.
type StripPrefixRegex struct{ Regex []string }

// Middleware builds it; an expression that does not compile is an error.
func (s StripPrefixRegex) Middleware() (pipeline.Middleware, error) {
	var exps []*regexp.Regexp
	for _, e := range s.Regex {
		re, err := regexp.Compile(strings.TrimSpace(e))
		if err != nil {
			return nil, err
		}
		exps = append(exps, re)
	}
	return withPath(func(u reqPath) bool {
		for _, re := range exps {
			loc := re.FindIndex(u.path)
			if loc == nil || loc[1] == loc[0] || !bytes.HasPrefix(u.path, u.path[loc[0]:loc[1]]) {
				continue
			}
			// strings.Replace(path, match, "", 1) removes the first
			// occurrence: the prefix itself.
			prefix := u.path[loc[0]:loc[1]]
			addCanonical(&u.x.Out.Header, hdrForwardedPrefix, prefix)
			return u.strip(prefix, false)
		}
		return true
	}), nil
}

// ReplacePath is Traefik's replacePath: the path becomes Path (taken as
// escaped), the old one goes in X-Replaced-Path.
type ReplacePath struct{ Path string }

// Middleware builds it.
func (r ReplacePath) Middleware() (pipeline.Middleware, error) {
	raw := []byte(r.Path)
	decoded, err := match.UnescapePath(nil, raw)
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			old, _, _ := x.RequestPath()
			addCanonical(&x.Out.Header, hdrReplacedPath, old)
			if err != nil { // Traefik answers each request so
				x.Respond(fasthttp.StatusInternalServerError, unescapeError(raw))
				return
			}
			u := reqPath{x: x, path: decoded, raw: raw}
			u.send()
			next.Serve(x)
		})
	}, nil
}

// unescapeError is http.Error's body for url.PathUnescape's error on s.
func unescapeError(s []byte) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && (i+2 >= len(s) || !match.IsHex(s[i+1]) || !match.IsHex(s[i+2])) {
			return []byte(fmt.Sprintf("invalid URL escape %q\n", s[i:min(i+3, len(s))]))
		}
	}
	return []byte("invalid URL escape\n")
}

// ReplacePathRegex is Traefik's replacePathRegex: when Regex matches the
// escaped path, the path becomes its replacement (with $1 groups), the
// old one goes in X-Replaced-Path.
type ReplacePathRegex struct{ Regex, Replacement string }

// Middleware builds it; a regex that does not compile is an error.
func (r ReplacePathRegex) Middleware() (pipeline.Middleware, error) {
	re, err := regexp.Compile(strings.TrimSpace(r.Regex))
	if err != nil {
		return nil, fmt.Errorf("error compiling regular expression %s: %w", r.Regex, err)
	}
	repl := []byte(strings.TrimSpace(r.Replacement))
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			cur, _, _ := x.RequestPath()
			if !re.Match(cur) {
				next.Serve(x)
				return
			}
			addCanonical(&x.Out.Header, hdrReplacedPath, cur)
			raw := re.ReplaceAll(cur, repl)
			decoded, err := match.UnescapePath((*x.Scratch(bufNewPath))[:0], raw)
			*x.Scratch(bufNewPath) = decoded
			if err != nil {
				x.Respond(fasthttp.StatusInternalServerError, unescapeError(raw))
				return
			}
			u := reqPath{x: x, path: decoded, raw: raw}
			if !u.joinedSame() {
				x.Respond(fasthttp.StatusBadRequest, bodyBadRequest)
				return
			}
			u.send() // RequestURI was set before JoinPath: sent uncleaned
			next.Serve(x)
		})
	}, nil
}

// badPath answers a request path Sluice cannot decode. The entry point
// rejects invalid escapes before routing, so this is a guard.
func badPath(x *pipeline.Exchange) { x.Respond(fasthttp.StatusBadRequest, pipeline.BodyBadRequest) }
