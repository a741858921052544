package middleware

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// RedirectScheme is Traefik's redirectScheme middleware (and what an
// entry point's http.redirections generate): a request is redirected to
// the same host and path under Scheme and Port.
type RedirectScheme struct {
	Scheme    string
	Port      string // "" or the scheme's default: none in the Location
	Permanent bool   // 301/308 rather than 302/307
	// ForcePermanentRedirect: 308 whatever the method.
	ForcePermanentRedirect bool
}

// Traefik's patterns (pkg/middlewares/redirect).
var (
	requestURIPattern = regexp.MustCompile(`^(https?):\/\/(\[[\w:.]+\]|[\w\._-]+)?(:\d+)?(.*)$`)
	schemePattern     = regexp.MustCompile(`^(https?:\/\/)?(\[[\w:.]+\]|[\w\._-]+)?(:\d+)?(.*)$`)
)

// Middleware builds the middleware; an empty scheme is an error.
func (r RedirectScheme) Middleware() (pipeline.Middleware, error) {
	if r.Scheme == "" {
		return nil, errors.New("you must provide a target scheme")
	}
	port := ""
	if r.Port != "" && !(r.Scheme == "http" && r.Port == "80" || r.Scheme == "https" && r.Port == "443") {
		port = ":" + r.Port
	}
	replacement := r.Scheme + "://${2}" + port + "${4}"
	keep := notRedirected{scheme: r.Scheme, port: strings.TrimPrefix(port, ":")}
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			if keep.fast(x) {
				next.Serve(x)
				return
			}
			redirectTo(x, next, schemePattern, replacement, clientRequestURL(x), r.status)
		})
	}, nil
}

// redirectTo is Traefik's redirect handler: when re matches the URL old,
// the request is redirected to its replacement, unless that is old
// itself; status gives the answer's status by method.
func redirectTo(x *pipeline.Exchange, next pipeline.Handler, re *regexp.Regexp, replacement, old string, status func(get bool) int) {
	if !re.MatchString(old) {
		next.Serve(x)
		return
	}
	target := re.ReplaceAllString(old, replacement)
	loc, err := url.Parse(target)
	if err != nil { // oxy's error handler: the status text, nothing else
		x.RespondStatusText(fasthttp.StatusInternalServerError, []byte(http.StatusText(http.StatusInternalServerError)))
		return
	}
	if target == old {
		next.Serve(x)
		return
	}
	move(x, loc.String(), status(bytes.Equal(x.Out.Header.Method(), []byte(http.MethodGet))))
}

// status is Traefik's moveHandler's choice of status.
func (r RedirectScheme) status(get bool) int {
	if r.ForcePermanentRedirect {
		return http.StatusPermanentRedirect
	}
	return moveStatus(r.Permanent, get)
}

func moveStatus(permanent, get bool) int {
	switch {
	case permanent && get:
		return http.StatusMovedPermanently
	case permanent:
		return http.StatusPermanentRedirect
	case get:
		return http.StatusFound
	}
	return http.StatusTemporaryRedirect
}

// notRedirected recognises, without allocating, the common request that
// redirectScheme leaves alone: one already on the scheme and port.
type notRedirected struct{ scheme, port string }

// fast reports true only for a request the scheme pattern would rewrite
// into itself; false means "decide with the pattern".
func (n notRedirected) fast(x *pipeline.Exchange) bool {
	out := &x.Out.Header
	if uri := out.RequestURI(); len(uri) == 0 || uri[0] != '/' {
		return false
	}
	hp := out.Host()
	host, port, ok := splitHostPort(hp)
	if !ok {
		host, port = hp, nil
	}
	if !plainHost(host) || ok && !digits(port) {
		return false
	}
	scheme := "http"
	if x.TLS != nil {
		scheme = "https"
	}
	if xp := peekCanonical(out, hdrXFProto); len(xp) > 0 {
		switch {
		case bytes.EqualFold(xp, []byte("http")), bytes.EqualFold(xp, []byte("ws")):
			scheme = "http"
		case bytes.EqualFold(xp, []byte("https")), bytes.EqualFold(xp, []byte("wss")):
			scheme = "https"
		}
	}
	if scheme == "http" && string(port) == "80" || scheme == "https" && string(port) == "443" {
		port = nil
	}
	return scheme == n.scheme && string(port) == n.port
}

// plainHost reports whether the scheme pattern's host group matches all
// of h: `(\[[\w:.]+\]|[\w\._-]+)?`.
func plainHost(h []byte) bool {
	if len(h) >= 2 && h[0] == '[' && h[len(h)-1] == ']' {
		for _, c := range h[1 : len(h)-1] {
			if !word(c) && c != ':' && c != '.' {
				return false
			}
		}
		return len(h) > 2
	}
	for _, c := range h {
		if !word(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func word(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// splitHostPort is net.SplitHostPort on bytes, without its error.
func splitHostPort(hp []byte) (host, port []byte, ok bool) {
	i := bytes.LastIndexByte(hp, ':')
	if i < 0 {
		return nil, nil, false
	}
	if hp[0] == '[' {
		end := bytes.IndexByte(hp, ']')
		if end < 0 || end+1 != i {
			return nil, nil, false
		}
		host = hp[1:end]
	} else {
		host = hp[:i]
		if bytes.IndexByte(host, ':') >= 0 {
			return nil, nil, false
		}
	}
	port = hp[i+1:]
	if bytes.ContainsAny(host, "[]") && hp[0] != '[' || bytes.ContainsAny(port, "[]") {
		return nil, nil, false
	}
	return host, port, true
}

// RedirectRegex is Traefik's redirectRegex: a request whose URL (scheme
// from the connection, the Host as sent, the request URI) matches Regex
// is redirected to Replacement, with the match's groups ($1, ${name}).
type RedirectRegex struct {
	Regex, Replacement string
	Permanent          bool
}

// Middleware builds it; a regex that does not compile is an error.
func (r RedirectRegex) Middleware() (pipeline.Middleware, error) {
	re, err := regexp.Compile(r.Regex)
	if err != nil {
		return nil, err
	}
	status := func(get bool) int { return moveStatus(r.Permanent, get) }
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			redirectTo(x, next, re, r.Replacement, rawURL(x), status)
		})
	}, nil
}

// rawURL is the URL redirectRegex matches (Traefik's rawURL): no
// X-Forwarded-Proto, and the Host with its port.
func rawURL(x *pipeline.Exchange) string {
	out := &x.Out.Header
	scheme, host, port := "http", string(out.Host()), ""
	uri := string(x.RequestURIForMiddlewares())
	if m := requestURIPattern.FindStringSubmatch(uri); m != nil {
		scheme = m[1]
		if m[2] != "" {
			host = m[2]
		}
		port = m[3]
		uri = m[4]
	}
	if x.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + host + port + uri
}

// move answers with the redirection, as Traefik's moveHandler.
func move(x *pipeline.Exchange, location string, status int) {
	resp := x.Resp
	resp.SetStatusCode(status)
	resp.Header.Set("Location", location)
	resp.Header.SetNoDefaultContentType(true) // Traefik's answer has none (the oracle says so)
	resp.SetBodyString(http.StatusText(status))
}

// clientRequestURL is the URL the client asked for, as Traefik's
// redirectScheme rebuilds it: the scheme from the connection (https over
// TLS) or X-Forwarded-Proto, the Host's name and port, the request URI;
// the scheme's default port dropped.
func clientRequestURL(x *pipeline.Exchange) string {
	out := &x.Out.Header
	scheme := "http"
	hostport := string(out.Host())
	host, port := hostport, ""
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, ":"+p
	}
	uri := string(x.RequestURIForMiddlewares())
	if m := requestURIPattern.FindStringSubmatch(uri); m != nil {
		scheme = m[1]
		if m[2] != "" {
			host = m[2]
		}
		if m[3] != "" {
			port = m[3]
		}
		uri = m[4]
	}
	if x.TLS != nil {
		scheme = "https"
	}
	switch xp := string(peekCanonical(out, hdrXFProto)); {
	case strings.EqualFold(xp, "http"), strings.EqualFold(xp, "ws"):
		scheme = "http"
	case strings.EqualFold(xp, "https"), strings.EqualFold(xp, "wss"):
		scheme = "https"
	}
	if scheme == "http" && port == ":80" || scheme == "https" && port == ":443" {
		port = ""
	}
	return scheme + "://" + host + port + uri
}
