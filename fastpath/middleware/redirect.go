package middleware

import (
	"bytes"
	"errors"
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
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			old := clientRequestURL(x)
			if !schemePattern.MatchString(old) {
				next.Serve(x)
				return
			}
			target := schemePattern.ReplaceAllString(old, replacement)
			loc, err := url.Parse(target)
			if err != nil {
				x.Respond(fasthttp.StatusInternalServerError, []byte(err.Error()+"\n"))
				return
			}
			if target == old {
				next.Serve(x)
				return
			}
			r.move(x, loc.String())
		})
	}, nil
}

// move answers with the redirection, as Traefik's moveHandler.
func (r RedirectScheme) move(x *pipeline.Exchange, location string) {
	get := bytes.Equal(x.Out.Header.Method(), []byte(http.MethodGet))
	status := http.StatusFound
	switch {
	case r.ForcePermanentRedirect:
		status = http.StatusPermanentRedirect
	case r.Permanent && get:
		status = http.StatusMovedPermanently
	case r.Permanent:
		status = http.StatusPermanentRedirect
	case !get:
		status = http.StatusTemporaryRedirect
	}
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
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		host, port = hostport[:i], hostport[i:]
	}
	uri := string(out.RequestURI())
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
	switch xp := string(out.Peek("X-Forwarded-Proto")); {
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
