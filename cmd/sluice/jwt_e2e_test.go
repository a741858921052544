package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"
)

// rs256 signs claims as an RS256 JWT with key id kid.
func rs256(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid}) + "." + enc(claims)
	d := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestBinaryJWT: Sluice's sluice-jwt plugin with its key set served over
// HTTPS (trusted through a CA Secret), over the four client protocols: a
// valid token passes with its sub and email forwarded as headers (a
// client's own X-User dropped), a missing token is a 401 Bearer
// challenge, an expired or foreign-audience token a 401 invalid_token,
// and "none" never passes.
func TestBinaryJWT(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]any{{"kty": "RSA", "kid": "k1", "use": "sig",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}}})
	ca := newTestCA(t, "jwks CA")
	crt, k := ca.issue(t, "jwks", "127.0.0.3")
	pair, _ := tls.X509KeyPair(crt, k)
	ln, err := net.Listen("tcp4", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(jwks) }),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}}}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	caSecret := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: jwks-ca, namespace: e2e}\ndata: {ca.crt: %s}\n---\n",
		base64.StdEncoding.EncodeToString(ca.pem))
	f := newMWFixture(t, caSecret+mwObject("jwt", fmt.Sprintf("{plugin: {sluice-jwt: {jwksURL: 'https://%s/jwks.json', tls: {caSecret: jwks-ca}, "+
		"issuer: 'https://issuer.example', audiences: [api], requiredClaims: [sub], forwardClaims: {sub: X-User, email: X-Email}}}}", ln.Addr()))+
		mwRoute("jwt", "jwt.example", "[{name: jwt}]"))
	now := time.Now()
	good := rs256(t, key, "k1", map[string]any{"sub": "alice", "email": "a@example", "iss": "https://issuer.example", "aud": "api", "exp": now.Add(time.Hour).Unix()})
	expired := rs256(t, key, "k1", map[string]any{"sub": "alice", "iss": "https://issuer.example", "aud": "api", "exp": now.Add(-time.Hour).Unix()})
	foreign := rs256(t, key, "k1", map[string]any{"sub": "alice", "iss": "https://issuer.example", "aud": "other", "exp": now.Add(time.Hour).Unix()})
	none := b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(`{"sub":"mallory","iss":"https://issuer.example","aud":"api"}`)) + "."
	f.run(t, []mwCase{
		{name: "valid", host: "jwt.example", path: "/", header: map[string]string{"Authorization": "Bearer " + good, "X-User": "forged"},
			status: 200, uri: "/", seen: map[string]string{"X-User": "alice", "X-Email": "a@example"}},
		{name: "no token", host: "jwt.example", path: "/", status: 401, respHeader: map[string]string{"Www-Authenticate": `Bearer realm="sluice"`}},
		{name: "expired", host: "jwt.example", path: "/", header: map[string]string{"Authorization": "Bearer " + expired}, status: 401,
			respHeader: map[string]string{"Www-Authenticate": `Bearer realm="sluice", error="invalid_token", error_description="the token has expired"`}},
		{name: "other audience", host: "jwt.example", path: "/", header: map[string]string{"Authorization": "Bearer " + foreign}, status: 401},
		{name: "alg none", host: "jwt.example", path: "/", header: map[string]string{"Authorization": "Bearer " + none}, status: 401},
	})
}
