package middleware

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// signJWT makes a compact JWS of header and claims with key (nil: no
// signature; a []byte: HMAC-SHA256 with it as the secret).
func signJWT(t testing.TB, header, claims map[string]any, key any) string {
	t.Helper()
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(header) + "." + enc(claims)
	var sig []byte
	var err error
	switch k := key.(type) {
	case *rsa.PrivateKey:
		h := crypto.SHA256
		d := sha256.Sum256([]byte(signed))
		if header["alg"] == "PS256" {
			sig, err = rsa.SignPSS(rand.Reader, k, h, d[:], nil)
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, h, d[:])
		}
	case *ecdsa.PrivateKey:
		d := sha256.Sum256([]byte(signed))
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, k, d[:])
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(signed))
	case []byte:
		m := hmac.New(sha256.New, k)
		m.Write([]byte(signed))
		sig = m.Sum(nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// testJWKS is a key set of rsaKey (kid "r"), ecKey ("e") and edKey ("d").
func testJWKS(rsaKey *rsa.PrivateKey, ecKey *ecdsa.PrivateKey, edKey ed25519.PrivateKey) []byte {
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	doc := map[string]any{"keys": []map[string]any{
		{"kty": "RSA", "kid": "r", "use": "sig", "n": b64(rsaKey.N.Bytes()), "e": b64(big.NewInt(int64(rsaKey.E)).Bytes())},
		{"kty": "EC", "kid": "e", "crv": "P-256", "x": b64(ecKey.X.FillBytes(make([]byte, 32))), "y": b64(ecKey.Y.FillBytes(make([]byte, 32)))},
		{"kty": "OKP", "kid": "d", "crv": "Ed25519", "x": b64(edKey.Public().(ed25519.PublicKey))},
		{"kty": "oct", "kid": "h", "k": b64([]byte("secret"))}, // left out
	}}
	b, _ := json.Marshal(doc)
	return b
}

// TestVerifyJWT: each algorithm with its key; "none", HMAC (also with the
// RSA public key as its secret), a key of another type, an unknown kid, a
// tampered payload and malformed tokens refused; the claims rules.
func TestVerifyJWT(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	keys, err := ParseJWKS(testJWKS(rsaKey, ecKey, edKey))
	if err != nil || len(keys) != 3 {
		t.Fatalf("ParseJWKS: %d keys, %v", len(keys), err)
	}
	now := time.Now()
	claims := map[string]any{"sub": "alice", "iss": "https://issuer", "aud": []string{"api", "web"}, "exp": now.Add(time.Hour).Unix()}
	pubDER, _ := json.Marshal(rsaKey.Public()) // any bytes of the public key, as a confused verifier would use them
	all := []string{"RS256", "PS256", "ES256", "EdDSA"}
	for name, c := range map[string]struct {
		token string
		ok    bool
	}{
		"RS256":            {signJWT(t, map[string]any{"alg": "RS256", "kid": "r"}, claims, rsaKey), true},
		"PS256":            {signJWT(t, map[string]any{"alg": "PS256", "kid": "r"}, claims, rsaKey), true},
		"ES256":            {signJWT(t, map[string]any{"alg": "ES256", "kid": "e"}, claims, ecKey), true},
		"EdDSA, no kid":    {signJWT(t, map[string]any{"alg": "EdDSA"}, claims, edKey), true},
		"none":             {signJWT(t, map[string]any{"alg": "none"}, claims, nil), false},
		"HS256 confusion":  {signJWT(t, map[string]any{"alg": "HS256", "kid": "r"}, claims, pubDER), false},
		"HS256 oct key":    {signJWT(t, map[string]any{"alg": "HS256", "kid": "h"}, claims, []byte("secret")), false},
		"ES256 by RSA kid": {signJWT(t, map[string]any{"alg": "ES256", "kid": "r"}, claims, ecKey), false},
		"unknown kid":      {signJWT(t, map[string]any{"alg": "RS256", "kid": "zz"}, claims, rsaKey), false},
		"crit":             {signJWT(t, map[string]any{"alg": "RS256", "kid": "r", "crit": []string{"x"}}, claims, rsaKey), false},
		"two parts":        {"a.b", false},
		"bad base64":       {"!!.!!.!!", false},
	} {
		_, err := verifyJWT([]byte(c.token), all, keys)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want accepted %v", name, err, c.ok)
		}
	}
	good := signJWT(t, map[string]any{"alg": "RS256", "kid": "r"}, claims, rsaKey)
	parts := strings.Split(good, ".")
	forged := map[string]any{"sub": "mallory", "exp": now.Add(time.Hour).Unix()}
	fb, _ := json.Marshal(forged)
	if _, err := verifyJWT([]byte(parts[0]+"."+base64.RawURLEncoding.EncodeToString(fb)+"."+parts[2]), all, keys); err == nil {
		t.Error("a tampered payload was accepted")
	}
	if _, err := verifyJWT([]byte(good), []string{"ES256"}, keys); err == nil {
		t.Error("an algorithm outside the configured ones was accepted")
	}

	for name, c := range map[string]struct {
		claims map[string]any
		rules  jwtRules
		ok     bool
	}{
		"valid":              {claims, jwtRules{issuer: "https://issuer", audiences: []string{"web"}, required: []string{"sub"}}, true},
		"expired":            {map[string]any{"exp": now.Add(-time.Minute).Unix()}, jwtRules{}, false},
		"expired, leeway":    {map[string]any{"exp": now.Add(-time.Minute).Unix()}, jwtRules{leeway: 2 * time.Minute}, true},
		"not yet":            {map[string]any{"nbf": now.Add(time.Minute).Unix()}, jwtRules{}, false},
		"not yet, leeway":    {map[string]any{"nbf": now.Add(time.Minute).Unix()}, jwtRules{leeway: 2 * time.Minute}, true},
		"other issuer":       {claims, jwtRules{issuer: "https://other"}, false},
		"other audience":     {claims, jwtRules{audiences: []string{"admin"}}, false},
		"string audience":    {map[string]any{"aud": "api"}, jwtRules{audiences: []string{"api"}}, true},
		"missing claim":      {claims, jwtRules{required: []string{"email"}}, false},
		"exp not a number":   {map[string]any{"exp": "soon"}, jwtRules{}, false},
		"no exp, no nbf: ok": {map[string]any{"sub": "x"}, jwtRules{}, true},
	} {
		tok := signJWT(t, map[string]any{"alg": "EdDSA", "kid": "d"}, c.claims, edKey)
		got, err := verifyJWT([]byte(tok), all, keys)
		if err == nil {
			err = c.rules.check(got, now)
		}
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want accepted %v", name, err, c.ok)
		}
	}
	if _, err := ParseJWKS([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`)); err == nil {
		t.Error("a weak RSA key was accepted")
	}
	if _, err := ParseJWKS([]byte(`{"keys":[]}`)); err == nil {
		t.Error("an empty key set was accepted")
	}
}

// FuzzJWT: whatever the token, verification and the claims checks end
// without a panic, and nothing unsigned by the key passes.
func FuzzJWT(f *testing.F) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys, _ := ParseJWKS(testJWKS(rsaKey, ecKey, edKey))
	f.Add(signJWT(f, map[string]any{"alg": "EdDSA", "kid": "d"}, map[string]any{"exp": 1 << 40, "aud": []string{"a"}}, edKey))
	f.Add("e30.e30.")
	f.Add("..")
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := verifyJWT([]byte(token), []string{"EdDSA", "RS256", "ES256"}, keys)
		if err == nil {
			_ = (&jwtRules{audiences: []string{"a"}, required: []string{"sub"}}).check(claims, time.Now())
		}
	})
}

// TestJWKSourceRotation: a key set fetched over HTTP is used until a
// token names a key it lacks; then it is fetched again (not more often
// than MinRefetch) and the new key verifies; a failing fetch keeps the
// keys held.
func TestJWKSourceRotation(t *testing.T) {
	_, oldKey, _ := ed25519.GenerateKey(rand.Reader)
	_, newKey, _ := ed25519.GenerateKey(rand.Reader)
	set := func(kid string, k ed25519.PrivateKey) []byte {
		b, _ := json.Marshal(map[string]any{"keys": []map[string]any{{"kty": "OKP", "crv": "Ed25519", "kid": kid,
			"x": base64.RawURLEncoding.EncodeToString(k.Public().(ed25519.PublicKey))}}})
		return b
	}
	var current atomic.Pointer[[]byte]
	fetches := atomic.Int32{}
	first := set("old", oldKey)
	current.Store(&first)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		b := current.Load()
		if b == nil {
			w.WriteHeader(500)
			return
		}
		w.Write(*b)
	}))
	defer srv.Close()
	src := &JWKSource{URL: srv.URL, Client: srv.Client(), MinRefetch: 50 * time.Millisecond}
	mw, err := JWT{Source: src}.Middleware()
	if err != nil {
		t.Fatal(err)
	}
	served := 0
	h := mw(pipeline.HandlerFunc(func(*pipeline.Exchange) { served++ }))
	do := func(tok string) int {
		x, _ := begin(t, "GET / HTTP/1.1\r\nHost: a.example\r\nAuthorization: Bearer "+tok+"\r\n\r\n", "10.0.0.1")
		defer pipeline.Release(x)
		x.Resp.SetStatusCode(200)
		h.Serve(x)
		return x.Resp.StatusCode()
	}
	claims := map[string]any{"exp": time.Now().Add(time.Hour).Unix()}
	oldTok := signJWT(t, map[string]any{"alg": "EdDSA", "kid": "old"}, claims, oldKey)
	newTok := signJWT(t, map[string]any{"alg": "EdDSA", "kid": "new"}, claims, newKey)
	if do(oldTok) != 200 || do(oldTok) != 200 || fetches.Load() != 1 {
		t.Fatalf("old key: served %d, %d fetches", served, fetches.Load())
	}
	rotated := set("new", newKey)
	current.Store(&rotated)
	time.Sleep(60 * time.Millisecond)
	if got := do(newTok); got != 200 || fetches.Load() != 2 {
		t.Fatalf("after rotation: %d, %d fetches", got, fetches.Load())
	}
	if got := do(oldTok); got != 401 {
		t.Fatalf("a token of the rotated-out key, verified before the rotation: %d, want 401", got)
	}
	current.Store(nil) // the server fails: the keys held stay
	time.Sleep(60 * time.Millisecond)
	if got := do(signJWT(t, map[string]any{"alg": "EdDSA", "kid": "other"}, claims, newKey)); got != 401 {
		t.Fatalf("an unknown key while the server fails: %d", got)
	}
	if got := do(newTok); got != 200 {
		t.Fatalf("the held key after a failed fetch: %d", got)
	}
}

// BenchmarkJWT is one request's check of a token seen before (its
// signature verified once, then remembered): the token read and hashed,
// its claims checked, one claim forwarded. BenchmarkJWTVerify is the
// first sight's signature check.
func BenchmarkJWT(b *testing.B) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	keys, _ := ParseJWKS(testJWKS(rsaKey, ecKey, edKey))
	claims := map[string]any{"sub": "alice", "iss": "https://issuer", "aud": "api", "exp": time.Now().Add(time.Hour).Unix()}
	for _, c := range []struct {
		alg, kid string
		key      any
	}{{"RS256", "r", rsaKey}, {"ES256", "e", ecKey}, {"EdDSA", "d", edKey}} {
		b.Run(c.alg, func(b *testing.B) {
			mw, _ := JWT{Static: keys, Issuer: "https://issuer", Audiences: []string{"api"}, ForwardClaims: map[string]string{"sub": "X-User"}}.Middleware()
			h := mw(pipeline.HandlerFunc(func(*pipeline.Exchange) {}))
			raw := "GET / HTTP/1.1\r\nHost: a.example\r\nAuthorization: Bearer " + signJWT(b, map[string]any{"alg": c.alg, "kid": c.kid}, claims, c.key) + "\r\n\r\n"
			x, ctx := begin(b, raw, "10.0.0.1")
			defer pipeline.Release(x)
			var tmpl fasthttp.RequestHeader
			x.Out.Header.CopyTo(&tmpl)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				tmpl.CopyTo(&x.Out.Header)
				ctx.Response.Reset()
				h.Serve(x)
				if x.Resp.StatusCode() == 401 {
					b.Fatal("refused")
				}
			}
		})
	}
}

func BenchmarkJWTVerify(b *testing.B) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	keys, _ := ParseJWKS(testJWKS(rsaKey, ecKey, edKey))
	claims := map[string]any{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}
	for _, c := range []struct {
		alg, kid string
		key      any
	}{{"RS256", "r", rsaKey}, {"ES256", "e", ecKey}, {"EdDSA", "d", edKey}} {
		b.Run(c.alg, func(b *testing.B) {
			tok := []byte(signJWT(b, map[string]any{"alg": c.alg, "kid": c.kid}, claims, c.key))
			b.ReportAllocs()
			for range b.N {
				if _, err := verifyJWT(tok, []string{c.alg}, keys); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
