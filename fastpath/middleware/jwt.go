package middleware

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"slices"
	"strings"
	"time"
)

// The JWT middleware (Sluice's own, jwt.go and jwtmw.go) checks signed
// JSON Web Tokens (RFC 7519, JWS compact form, RFC 7515) with public keys
// only: RS256/384/512, PS256/384/512, ES256/384/512 and EdDSA (Ed25519).
// "none" and every HMAC algorithm are refused whatever the configuration:
// an HMAC check would take a public key as its secret (the algorithm
// confusion attack), and a token's alg must also fit the key it names.

// jwtClaims are a token's claims, decoded.
type jwtClaims map[string]any

// JWTKey is a verification key, by its key id.
type JWTKey struct {
	kid string
	pub crypto.PublicKey
}

var (
	errTokenMalformed = errors.New("the token is malformed")
	errTokenAlg       = errors.New("the token's algorithm is not accepted")
	errTokenKey       = errors.New("no key verifies the token")
	errTokenSignature = errors.New("the token's signature is invalid")
)

// jwtAlgs are the algorithms Sluice verifies: the hash and the key type.
var jwtAlgs = map[string]struct {
	hash crypto.Hash
	kind string // rsa, pss, ecdsa, ed25519
	size int    // ECDSA: the curve's byte size
}{
	"RS256": {crypto.SHA256, "rsa", 0}, "RS384": {crypto.SHA384, "rsa", 0}, "RS512": {crypto.SHA512, "rsa", 0},
	"PS256": {crypto.SHA256, "pss", 0}, "PS384": {crypto.SHA384, "pss", 0}, "PS512": {crypto.SHA512, "pss", 0},
	"ES256": {crypto.SHA256, "ecdsa", 32}, "ES384": {crypto.SHA384, "ecdsa", 48}, "ES512": {crypto.SHA512, "ecdsa", 66},
	"EdDSA": {0, "ed25519", 0},
}

// verifyJWT checks token's signature with one of keys (by kid when the
// token names one) for an algorithm in allowed, and returns its claims.
func verifyJWT(token []byte, allowed []string, keys []JWTKey) (jwtClaims, error) {
	parts := bytes.Split(token, []byte("."))
	if len(parts) != 3 {
		return nil, errTokenMalformed
	}
	var header struct {
		Alg  string `json:"alg"`
		Kid  string `json:"kid"`
		Typ  string `json:"typ"`
		Crit []any  `json:"crit"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, errTokenMalformed
	}
	alg, ok := jwtAlgs[header.Alg]
	if !ok || !slices.Contains(allowed, header.Alg) {
		return nil, errTokenAlg
	}
	if len(header.Crit) > 0 { // extensions Sluice does not understand (RFC 7515 4.1.11)
		return nil, errTokenMalformed
	}
	sig, err := base64.RawURLEncoding.DecodeString(string(parts[2]))
	if err != nil {
		return nil, errTokenMalformed
	}
	signed := token[:len(parts[0])+1+len(parts[1])]
	tried := false
	for _, k := range keys {
		if header.Kid != "" && k.kid != "" && k.kid != header.Kid {
			continue
		}
		good, fits := verifySig(alg.kind, alg.hash, alg.size, k.pub, signed, sig)
		tried = tried || fits
		if good {
			var claims jwtClaims
			if err := decodeSegment(parts[1], &claims); err != nil {
				return nil, errTokenMalformed
			}
			return claims, nil
		}
	}
	if !tried {
		return nil, errTokenKey
	}
	return nil, errTokenSignature
}

// verifySig verifies sig over signed with pub; fits says whether pub is a
// key of the algorithm's kind at all.
func verifySig(kind string, h crypto.Hash, size int, pub crypto.PublicKey, signed, sig []byte) (good, fits bool) {
	var digest []byte
	if h != 0 {
		digest = hashOf(h, signed)
	}
	switch kind {
	case "rsa", "pss":
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return false, false
		}
		if kind == "rsa" {
			return rsa.VerifyPKCS1v15(k, h, digest, sig) == nil, true
		}
		return rsa.VerifyPSS(k, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil, true
	case "ecdsa":
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || (k.Curve.Params().BitSize+7)/8 != size {
			return false, false
		}
		if len(sig) != 2*size {
			return false, true
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(k, digest, r, s), true
	case "ed25519":
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return false, false
		}
		return ed25519.Verify(k, signed, sig), true
	}
	return false, false
}

func hashOf(h crypto.Hash, data []byte) []byte {
	var w hash.Hash
	switch h {
	case crypto.SHA256:
		w = sha256.New()
	case crypto.SHA384:
		w = sha512.New384()
	default:
		w = sha512.New()
	}
	w.Write(data)
	return w.Sum(nil)
}

func decodeSegment(seg []byte, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(string(seg))
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// jwtRules are the claims checks after the signature.
type jwtRules struct {
	issuer    string
	audiences []string
	required  []string
	leeway    time.Duration
}

// check applies the rules at now: exp and nbf (with leeway, RFC 7519
// 4.1.4-5), iss, aud (one of the audiences), required claims.
func (r *jwtRules) check(c jwtClaims, now time.Time) error {
	if v, ok := c["exp"]; ok {
		exp, err := numericDate(v)
		if err != nil {
			return errors.New("the token's exp is not a date")
		}
		if !now.Before(exp.Add(r.leeway)) {
			return errors.New("the token has expired")
		}
	}
	if v, ok := c["nbf"]; ok {
		nbf, err := numericDate(v)
		if err != nil {
			return errors.New("the token's nbf is not a date")
		}
		if now.Add(r.leeway).Before(nbf) {
			return errors.New("the token is not valid yet")
		}
	}
	if r.issuer != "" {
		if iss, _ := c["iss"].(string); iss != r.issuer {
			return errors.New("the token's issuer is not accepted")
		}
	}
	if len(r.audiences) > 0 && !audienceMatches(c["aud"], r.audiences) {
		return errors.New("the token's audience is not accepted")
	}
	for _, name := range r.required {
		if _, ok := c[name]; !ok {
			return fmt.Errorf("the token has no %s claim", name)
		}
	}
	return nil
}

func numericDate(v any) (time.Time, error) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, errTokenMalformed
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, err
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
}

// audienceMatches: aud (a string or a list of them) names one of want.
func audienceMatches(aud any, want []string) bool {
	switch a := aud.(type) {
	case string:
		return slices.Contains(want, a)
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok && slices.Contains(want, s) {
				return true
			}
		}
	}
	return false
}

// claimText is a claim as a header value: a string as it is, anything
// else as its JSON.
func claimText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return strings.TrimSpace(string(b))
}
