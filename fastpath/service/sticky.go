package service

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"strconv"

	"github.com/valyala/fasthttp"
)

// Sticky is a sticky-cookie configuration (Traefik's sticky.cookie).
type Sticky struct {
	Name     string // sanitized; Traefik's generated name when none was given
	Path     string // default "/"
	Domain   string
	Secure   bool
	HTTPOnly bool
	SameSite string // "", "none", "lax" or "strict"
	MaxAge   int    // seconds; 0: a session cookie; < 0: expire it
}

// StickyCookieName is Traefik's cookie name: the given one with bytes
// outside the RFC 2616 token set turned into '_', or, if empty, "_" and
// the first 5 hex digits of SHA-1("_TRAEFIK_BACKEND_" + service name).
func StickyCookieName(name, service string) string {
	if name == "" {
		sum := sha1.Sum([]byte("_TRAEFIK_BACKEND_" + service))
		return "_" + hex.EncodeToString(sum[:])[:5]
	}
	b := []byte(name)
	for i, c := range b {
		if !isTokenByte(c) {
			b[i] = '_'
		}
	}
	return string(b)
}

func isTokenByte(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return bytes.IndexByte([]byte(`()<>@,;:\"/[]?={}`), c) < 0
}

// stickyValue is the cookie value naming a server: the first 16 hex
// digits of SHA-256 of its URL.
func stickyValue(url string) string {
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:])[:16]
}

// legacyValue is the FNV-64a hex form Traefik accepted before.
func legacyValue(url string) string {
	h := fnv.New64a()
	h.Write([]byte(url))
	return strconv.FormatUint(h.Sum64(), 16)
}

// PickSticky returns the server a sticky cookie value names, if it is in
// the set and not fenced; else the next server by the balancer, with
// fresh true: the response must carry a new cookie (Value of that
// server). Raw URLs and FNV-64 hex values are accepted as Traefik does.
func (lb *LoadBalancer) PickSticky(value []byte) (srv *Server, fresh bool) {
	set := lb.servers.Load()
	if len(value) > 0 {
		now := set.clock()
		for i := range set.Servers {
			sv := &set.Servers[i]
			if !set.eligible(i, now) {
				continue
			}
			if string(value) == sv.cookie || string(value) == sv.URL || string(value) == sv.legacy {
				return sv, false
			}
		}
	}
	i := set.next()
	if i < 0 {
		return nil, true
	}
	return &set.Servers[i], true
}

// CookieValue is the sticky cookie value that names this server.
func (sv *Server) CookieValue() string { return sv.cookie }

// setStickyCookie adds the cookie that routes the client's next requests
// to the same server or child.
func setStickyCookie(h *fasthttp.ResponseHeader, s *Sticky, value string) {
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(s.Name)
	c.SetValue(value)
	c.SetPath(s.Path)
	c.SetDomain(s.Domain)
	c.SetSecure(s.Secure)
	c.SetHTTPOnly(s.HTTPOnly)
	switch {
	case s.MaxAge > 0:
		c.SetMaxAge(s.MaxAge)
	case s.MaxAge < 0:
		c.SetExpire(fasthttp.CookieExpireDelete)
	}
	switch s.SameSite {
	case "none":
		c.SetSameSite(fasthttp.CookieSameSiteNoneMode)
	case "lax":
		c.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	case "strict":
		c.SetSameSite(fasthttp.CookieSameSiteStrictMode)
	}
	h.SetCookie(c)
}
