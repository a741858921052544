package middleware

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ParseJWKS reads a JSON Web Key Set (RFC 7517): RSA keys of 2,048 bits
// or more, EC keys on P-256, P-384 and P-521, Ed25519 keys; keys for
// another use than signatures, and of other types, are left out. A set
// without one usable key is an error.
func ParseJWKS(data []byte) ([]JWTKey, error) {
	var doc struct {
		Keys []struct {
			Kty, Kid, Use, Crv, N, E, X, Y string
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("the key set is not JSON: %w", err)
	}
	var keys []JWTKey
	for i, k := range doc.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub, err := jwkPublic(k.Kty, k.Crv, k.N, k.E, k.X, k.Y)
		if err != nil {
			return nil, fmt.Errorf("key %d (kid %q): %w", i, k.Kid, err)
		}
		if pub != nil {
			keys = append(keys, JWTKey{kid: k.Kid, pub: pub})
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("the key set holds no signing key Sluice can use (RSA, EC, Ed25519)")
	}
	return keys, nil
}

// jwkPublic is one key's public key; nil for a type Sluice does not use.
func jwkPublic(kty, crv, n, e, x, y string) (any, error) {
	b64 := base64.RawURLEncoding.DecodeString
	switch kty {
	case "RSA":
		nb, err1 := b64(n)
		eb, err2 := b64(e)
		if err1 != nil || err2 != nil || len(eb) == 0 || len(eb) > 4 {
			return nil, errors.New("bad RSA parameters")
		}
		k := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("an RSA key of %d bits is too weak", k.N.BitLen())
		}
		return k, nil
	case "EC":
		var c elliptic.Curve
		switch crv {
		case "P-256":
			c = elliptic.P256()
		case "P-384":
			c = elliptic.P384()
		case "P-521":
			c = elliptic.P521()
		default:
			return nil, nil
		}
		xb, err1 := b64(x)
		yb, err2 := b64(y)
		if err1 != nil || err2 != nil {
			return nil, errors.New("bad EC parameters")
		}
		k := &ecdsa.PublicKey{Curve: c, X: new(big.Int).SetBytes(xb), Y: new(big.Int).SetBytes(yb)}
		if _, err := k.ECDH(); err != nil { // on the curve, not the point at infinity
			return nil, errors.New("the EC point is not on its curve")
		}
		return k, nil
	case "OKP":
		if crv != "Ed25519" {
			return nil, nil
		}
		xb, err := b64(x)
		if err != nil || len(xb) != ed25519.PublicKeySize {
			return nil, errors.New("bad Ed25519 key")
		}
		return ed25519.PublicKey(xb), nil
	}
	return nil, nil
}

// JWKSource is a key set fetched from a URL: fetched on first use,
// refetched when older than Refresh, or when a token names a key the set
// lacks (at most once every ten seconds); a failed fetch keeps the keys
// held. Bodies over 1 MiB are refused.
type JWKSource struct {
	URL     string
	Client  *http.Client
	Refresh time.Duration // 0: 10 minutes
	// MinRefetch bounds refetches for unknown key ids (0: ten seconds).
	MinRefetch time.Duration

	keys    atomic.Pointer[[]JWTKey]
	fetched atomic.Int64 // Unix nanoseconds of the keys held
	mu      sync.Mutex   // one fetch at a time
	tried   time.Time    // the last fetch, kept under mu
	lastErr error
}

const jwksMinInterval = 10 * time.Second

// current returns the keys, fetching them when there are none or they
// are stale (unknownKid: the token names a key the set lacks).
func (s *JWKSource) current(unknownKid bool) ([]JWTKey, error) {
	refresh := s.Refresh
	if refresh <= 0 {
		refresh = 10 * time.Minute
	}
	held := s.keys.Load()
	if held != nil && !unknownKid && time.Since(time.Unix(0, s.fetched.Load())) < refresh {
		return *held, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if held = s.keys.Load(); held != nil && !unknownKid && time.Since(time.Unix(0, s.fetched.Load())) < refresh {
		return *held, nil // fetched while this one waited
	}
	minRefetch := s.MinRefetch
	if minRefetch <= 0 {
		minRefetch = jwksMinInterval
	}
	if time.Since(s.tried) >= minRefetch || held == nil && time.Since(s.tried) >= time.Second {
		s.tried = time.Now()
		keys, err := s.fetch()
		if err == nil {
			s.keys.Store(&keys)
			s.fetched.Store(time.Now().UnixNano())
			return keys, nil
		}
		s.lastErr = err
	}
	if held != nil {
		return *held, nil
	}
	return nil, s.lastErr
}

func (s *JWKSource) fetch() ([]JWTKey, error) {
	resp, err := s.Client.Get(s.URL)
	if err != nil {
		return nil, fmt.Errorf("fetching the key set: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching the key set: %s", resp.Status)
	}
	body, err := readLimited(resp.Body, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("reading the key set: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return ParseJWKS(body)
}
