package middleware

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// BasicAuth is Traefik's basicAuth (traefik v3.7
// pkg/middlewares/auth/basic_auth.go, with go-http-auth's checks): users
// are htpasswd lines, user:hash with an apr1/MD5-crypt, {SHA} or bcrypt
// hash. A request without valid credentials is answered 401 with
// WWW-Authenticate: Basic realm="<Realm>".
type BasicAuth struct {
	Users        []string // user:hash lines
	Realm        string   // default "traefik"
	HeaderField  string   // a request header that receives the user's name
	RemoveHeader bool     // drop Authorization before the server
}

// The 401 of go-http-auth.
var (
	bodyUnauthorized = []byte("401 Unauthorized\n")
	hdrWWWAuth       = []byte("WWW-Authenticate")
	hdrAuthorization = []byte("Authorization")
	ctTextPlain      = []byte("text/plain")
)

// Middleware builds it; a line that is not user:hash is an error that
// names the line by number, never by content (it holds a hash).
func (b BasicAuth) Middleware() (pipeline.Middleware, error) {
	if len(b.Users) == 0 {
		return nil, errors.New("no users found")
	}
	users := make(map[string]string, len(b.Users))
	var anySecret string
	for i, line := range b.Users {
		parts := strings.Split(line, ":")
		if len(parts) != 2 {
			return nil, fmt.Errorf("user %d: not a user:hash line", i+1)
		}
		users[parts[0]] = parts[1]
		anySecret = parts[1]
	}
	a := &basicAuth{users: users, notFound: anySecret, header: []byte(b.HeaderField), remove: b.RemoveHeader}
	a.challenge = []byte(`Basic realm="` + realmOr(b.Realm) + `"`)
	if _, err := rand.Read(a.key[:]); err != nil {
		return nil, err
	}
	return a.wrap, nil
}

func realmOr(r string) string {
	if r == "" {
		return "traefik"
	}
	return r
}

type basicAuth struct {
	users     map[string]string
	notFound  string // checked against for an unknown user, so that it costs the same
	header    []byte
	remove    bool
	challenge []byte
	key       [32]byte // keys the cache of successful checks
	// ok caches successful checks: a keyed hash of user, password and
	// hash, direct-mapped, so that a logged-in client pays bcrypt once,
	// memory stays bounded whatever clients send, and the cache holds
	// nothing a password could be recovered from without the key.
	ok [authCacheSlots]atomic.Pointer[[32]byte]
}

const authCacheSlots = 1024

func (a *basicAuth) wrap(next pipeline.Handler) pipeline.Handler {
	return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
		user, ok := a.authenticate(x)
		x.SetUser(user) // Traefik logs the name given, whether or not it passes
		if !ok {
			answerUnauthorized(x, a.challenge)
			return
		}
		h := &x.Out.Header
		if len(a.header) > 0 {
			h.DelBytes(a.header)
			h.SetBytesKV(a.header, user)
		}
		if a.remove {
			h.DelBytes(hdrAuthorization)
		}
		next.Serve(x)
	})
}

// answerUnauthorized is go-http-auth's RequireAuth.
func answerUnauthorized(x *pipeline.Exchange, challenge []byte) {
	r := x.Resp
	r.SetStatusCode(401)
	r.Header.SetContentTypeBytes(ctTextPlain)
	r.Header.SetBytesKV(hdrWWWAuth, challenge)
	r.SetBodyRaw(bodyUnauthorized)
}

// authenticate checks the request's Basic credentials (Go's
// Request.BasicAuth) and returns the user given (nil when none could be
// read) and whether it passes.
func (a *basicAuth) authenticate(x *pipeline.Exchange) ([]byte, bool) {
	auth := peekCanonical(&x.Out.Header, hdrAuthorization)
	const prefix = "Basic "
	if len(auth) < len(prefix) || !bytes.EqualFold(auth[:len(prefix)], []byte(prefix)) {
		return nil, false
	}
	buf := x.Scratch(bufHeader)
	dec, err := base64.StdEncoding.AppendDecode((*buf)[:0], auth[len(prefix):])
	*buf = dec
	if err != nil {
		return nil, false
	}
	user, password, found := bytes.Cut(dec, []byte(":"))
	if !found {
		return nil, false
	}
	secret, known := a.users[string(user)]
	if !known {
		_ = checkSecret(password, a.notFound)
		return user, false
	}
	sum := a.sum(x, user, password, secret)
	slot := &a.ok[(int(sum[0])<<8|int(sum[1]))&(authCacheSlots-1)]
	if p := slot.Load(); p != nil && *p == sum {
		return user, true
	}
	if !checkSecret(password, secret) {
		return user, false
	}
	p := new([32]byte) // only a miss allocates
	*p = sum
	slot.Store(p)
	return user, true
}

// sum is SHA-256(key, user, NUL, password, NUL, secret): a hash no one
// without the process's random key can test passwords against.
func (a *basicAuth) sum(x *pipeline.Exchange, user, password []byte, secret string) [32]byte {
	buf := x.Scratch(bufTmp)
	b := append(append(append(append(append(append((*buf)[:0], a.key[:]...), user...), 0), password...), 0), secret...)
	*buf = b
	return sha256.Sum256(b)
}

// checkSecret is go-http-auth's CheckSecret: the hash's prefix says how
// it was made ({SHA}, bcrypt's $2a$/$2b$/$2x$/$2y$), else MD5-crypt.
func checkSecret(password []byte, secret string) bool {
	switch {
	case strings.HasPrefix(secret, "{SHA}"):
		d := sha1.Sum(password)
		return subtle.ConstantTimeCompare([]byte(secret[5:]), []byte(base64.StdEncoding.EncodeToString(d[:]))) == 1
	case strings.HasPrefix(secret, "$2a$"), strings.HasPrefix(secret, "$2b$"), strings.HasPrefix(secret, "$2x$"), strings.HasPrefix(secret, "$2y$"):
		return bcrypt.CompareHashAndPassword([]byte(secret), password) == nil
	}
	parts := strings.SplitN(secret, "$", 4)
	if len(parts) != 4 {
		return false
	}
	magic := "$" + parts[1] + "$"
	return subtle.ConstantTimeCompare([]byte(secret), md5Crypt(password, []byte(parts[2]), []byte(magic))) == 1
}

// md5Crypt is the MD5-crypt of FreeBSD and Apache's apr1 (the magic
// differs), as go-http-auth computes it.
func md5Crypt(password, salt, magic []byte) []byte {
	const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	d := md5.New()
	d.Write(password)
	d.Write(magic)
	d.Write(salt)
	mixin := md5.Sum(append(append(append([]byte(nil), password...), salt...), password...))
	for i := range password {
		d.Write([]byte{mixin[i%16]})
	}
	for i := len(password); i != 0; i >>= 1 {
		if i&1 == 0 {
			d.Write(password[:1])
		} else {
			d.Write([]byte{0})
		}
	}
	final := d.Sum(nil)
	for i := 0; i < 1000; i++ {
		d2 := md5.New()
		if i&1 == 0 {
			d2.Write(final)
		} else {
			d2.Write(password)
		}
		if i%3 != 0 {
			d2.Write(salt)
		}
		if i%7 != 0 {
			d2.Write(password)
		}
		if i&1 == 0 {
			d2.Write(password)
		} else {
			d2.Write(final)
		}
		final = d2.Sum(nil)
	}
	swaps := [16]int{12, 6, 0, 13, 7, 1, 14, 8, 2, 15, 9, 3, 5, 10, 4, 11}
	result := make([]byte, 0, 22)
	v, bits := uint(0), uint(0)
	for _, i := range swaps {
		v |= uint(final[i]) << bits
		for bits += 8; bits > 6; bits -= 6 {
			result = append(result, itoa64[v&0x3f])
			v >>= 6
		}
	}
	result = append(result, itoa64[v&0x3f])
	return append(append(append(append([]byte(nil), magic...), salt...), '$'), result...)
}
