package middleware

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// DigestAuth is Traefik's digestAuth (traefik v3.7
// pkg/middlewares/auth/digest_auth.go on go-http-auth's DigestAuth):
// users are htdigest lines (user:realm:HA1), MD5 and qop=auth only. The
// nonces it hands out are kept (at most about 1,100, the oldest dropped
// first) to refuse a replayed nonce count; they live as long as the
// middleware, that is until the Middleware or its Secret changes.
type DigestAuth struct {
	Users        []string // user:realm:HA1 lines
	Realm        string   // default "traefik"
	HeaderField  string
	RemoveHeader bool
}

// Middleware builds it; a line that is not user:realm:hash is an error
// naming the line by number only.
func (d DigestAuth) Middleware() (pipeline.Middleware, error) {
	users := make(map[string]string, len(d.Users))
	for i, line := range d.Users {
		parts := strings.Split(line, ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("user %d: not a user:realm:hash line", i+1)
		}
		users[parts[0]+":"+parts[1]] = parts[2]
	}
	a := &digestAuth{users: users, realm: realmOr(d.Realm), opaque: randomKey(), header: []byte(d.HeaderField),
		remove: d.RemoveHeader, clients: map[string]*digestClient{}}
	return a.wrap, nil
}

type digestAuth struct {
	users         map[string]string // user:realm -> HA1
	realm, opaque string
	header        []byte
	remove        bool

	mu      sync.Mutex
	clients map[string]*digestClient // by nonce
}

type digestClient struct {
	nc       uint64
	lastSeen int64
}

// go-http-auth's cache bounds.
const (
	digestCacheSize      = 1000
	digestCacheTolerance = 100
)

var errDigestPanic = errors.New("a parameter without a value")

func (a *digestAuth) wrap(next pipeline.Handler) pipeline.Handler {
	return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
		user, stale, err := a.check(x)
		if err != nil { // go-http-auth panics; Traefik's recovery answers 500
			x.Respond(fasthttp.StatusInternalServerError, pipeline.BodyInternal)
			return
		}
		if user == "" {
			a.logUser(x)
			a.requireAuth(x, stale)
			return
		}
		x.SetUser([]byte(user))
		h := &x.Out.Header
		if len(a.header) > 0 {
			h.DelBytes(a.header)
			h.SetBytesKV(a.header, []byte(user))
		}
		if a.remove {
			h.DelBytes(hdrAuthorization)
		}
		next.Serve(x)
	})
}

// logUser records a refused request's username for the access log, as
// Traefik reads it: from the header named headerField (Authorization when
// unset).
func (a *digestAuth) logUser(x *pipeline.Exchange) {
	name := a.header
	if len(name) == 0 {
		name = hdrAuthorization
	}
	if auth, err := digestParams(string(x.Out.Header.PeekBytes(name))); err == nil && auth["username"] != "" {
		x.SetUser([]byte(auth["username"]))
	}
}

// check is go-http-auth's CheckAuth: the user, or "" (stale when the
// nonce count went backwards).
func (a *digestAuth) check(x *pipeline.Exchange) (user string, stale bool, err error) {
	auth, err := digestParams(string(x.Out.Header.PeekBytes(hdrAuthorization)))
	if auth == nil || err != nil {
		return "", false, err
	}
	if _, ok := auth["algorithm"]; !ok {
		auth["algorithm"] = "MD5"
	}
	if a.opaque != auth["opaque"] || auth["algorithm"] != "MD5" || auth["qop"] != "auth" {
		return "", false, nil
	}
	if full := x.Out.Header.RequestURI(); string(full) != auth["uri"] {
		u, err := url.Parse(auth["uri"])
		p, ok := parse(x)
		if err != nil || !ok || len(u.Path) > len(p.path) || !bytes.HasPrefix(p.path, []byte(u.Path)) {
			return "", false, nil
		}
	}
	ha1 := a.users[auth["username"]+":"+a.realm]
	ha2 := md5Hex(string(x.Out.Header.Method()) + ":" + auth["uri"])
	kd := md5Hex(strings.Join([]string{ha1, auth["nonce"], auth["nc"], auth["cnonce"], auth["qop"], ha2}, ":"))
	if subtle.ConstantTimeCompare([]byte(kd), []byte(auth["response"])) != 1 {
		return "", false, nil
	}
	nc, err := strconv.ParseUint(auth["nc"], 16, 64)
	if err != nil {
		return "", false, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.clients[auth["nonce"]]
	if !ok {
		return "", false, nil
	}
	if c.nc != 0 && nc <= c.nc {
		return "", nc < c.nc, nil
	}
	c.nc, c.lastSeen = nc, time.Now().UnixNano()
	return auth["username"], false, nil
}

// requireAuth answers 401 with a fresh nonce, kept for the client's
// next try.
func (a *digestAuth) requireAuth(x *pipeline.Exchange, stale bool) {
	nonce := randomKey()
	a.mu.Lock()
	if len(a.clients) > digestCacheSize+digestCacheTolerance {
		a.purge(digestCacheTolerance * 2)
	}
	a.clients[nonce] = &digestClient{lastSeen: time.Now().UnixNano()}
	a.mu.Unlock()
	challenge := fmt.Sprintf(`Digest realm="%s", nonce="%s", opaque="%s", `, a.realm, nonce, a.opaque)
	if stale {
		challenge += `stale="true", `
	}
	challenge += `algorithm="MD5", qop="auth"`
	answerUnauthorized(x, []byte(challenge))
}

// purge drops the n nonces seen longest ago; a.mu is held.
func (a *digestAuth) purge(n int) {
	type entry struct {
		nonce    string
		lastSeen int64
	}
	entries := make([]entry, 0, len(a.clients))
	for nonce, c := range a.clients {
		entries = append(entries, entry{nonce, c.lastSeen})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].lastSeen < entries[j].lastSeen })
	for _, e := range entries[:min(n, len(entries))] {
		delete(a.clients, e.nonce)
	}
}

// digestParams is go-http-auth's DigestAuthParams: the pairs of a
// "Digest k=v, k2="v2"" header, or nil. A pair with nothing after its
// '=' is an error (go-http-auth indexes past the end of it).
func digestParams(authorization string) (map[string]string, error) {
	scheme, rest, ok := strings.Cut(authorization, " ")
	if !ok || scheme != "Digest" {
		return nil, nil
	}
	m := map[string]string{}
	for _, pair := range parseList(strings.TrimSpace(rest)) {
		k, v, found := strings.Cut(pair, "=")
		if !found {
			m[pair] = ""
			continue
		}
		if v == "" {
			return nil, errDigestPanic
		}
		if v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		m[k] = v
	}
	return m, nil
}

// parseList is go-http-auth's ParseList: comma-separated items, commas
// inside quotes kept, backslash escapes inside quotes taken.
func parseList(value string) []string {
	var list []string
	var escape, quote bool
	var b strings.Builder
	for _, r := range value {
		switch {
		case escape:
			b.WriteRune(r)
			escape = false
		case quote:
			if r == '\\' {
				escape = true
			} else {
				if r == '"' {
					quote = false
				}
				b.WriteRune(r)
			}
		case r == ',':
			list = append(list, strings.TrimSpace(b.String()))
			b.Reset()
		case r == '"':
			quote = true
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	if s := b.String(); s != "" {
		list = append(list, strings.TrimSpace(s))
	}
	return list
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// randomKey is go-http-auth's RandomKey: 12 random bytes, base64.
func randomKey() string {
	var k [12]byte
	_, _ = rand.Read(k[:])
	return base64.StdEncoding.EncodeToString(k[:])
}
