package middleware

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// JWT is Sluice's JWT middleware (not in Traefik's open-source edition;
// configured as the plugin "sluice-jwt" of a Middleware): a request must
// carry a token (Authorization: Bearer, or HeaderName) signed by one of
// the keys (Static, or the set at Source) with an accepted algorithm,
// unexpired (Leeway allowed), of Issuer and one of Audiences when given,
// with the Required claims. Claims named in ForwardClaims go on as
// request headers (any such header the client sent is dropped first).
// Otherwise the answer is 401 with WWW-Authenticate: Bearer, and an
// error="invalid_token" for a token that does not check (RFC 6750).
type JWT struct {
	Static        []JWTKey
	Source        *JWKSource
	Algorithms    []string // none: every one Sluice verifies
	Issuer        string
	Audiences     []string
	Required      []string
	Leeway        time.Duration
	ForwardClaims map[string]string // claim -> header
	HeaderName    string            // "" : Authorization, with the Bearer scheme
	RemoveHeader  bool
	Realm         string
}

// Middleware builds it; a configuration that could never accept a token
// is an error.
func (j JWT) Middleware() (pipeline.Middleware, error) {
	if len(j.Static) == 0 && j.Source == nil {
		return nil, errors.New("jwt: a key set (jwksURL or jwksSecret) is required")
	}
	if len(j.Algorithms) == 0 {
		for alg := range jwtAlgs {
			j.Algorithms = append(j.Algorithms, alg)
		}
	}
	for _, a := range j.Algorithms {
		if _, ok := jwtAlgs[a]; !ok {
			return nil, errors.New("jwt: algorithm " + strconv.Quote(a) + " is not accepted (RS*, PS*, ES*, EdDSA; never none or HMAC)")
		}
	}
	m := &jwtMW{JWT: j, rules: jwtRules{issuer: j.Issuer, audiences: j.Audiences, required: j.Required, leeway: j.Leeway},
		header: []byte(http.CanonicalHeaderKey(j.HeaderName)), bearer: j.HeaderName == ""}
	if m.bearer {
		m.header = []byte("Authorization")
	}
	realm := j.Realm
	if realm == "" {
		realm = "sluice"
	}
	m.challenge = []byte(`Bearer realm="` + realm + `"`)
	for claim, h := range j.ForwardClaims {
		m.forward = append(m.forward, claimHeader{claim, http.CanonicalHeaderKey(h)})
	}
	return m.wrap, nil
}

type claimHeader struct{ claim, header string }

type jwtMW struct {
	JWT
	rules     jwtRules
	header    []byte
	bearer    bool
	challenge []byte
	forward   []claimHeader
	// verified remembers tokens whose signature checked, in direct-mapped
	// slots: a client repeating its token costs a SHA-256, not an RSA or
	// ECDSA check. An entry holds the key set it was checked against, so
	// a rotated set checks again; the time and claims rules run on every
	// request.
	verified [1024]atomic.Pointer[jwtVerified]
}

// jwtVerified is a token known to be signed by a key of keys.
type jwtVerified struct {
	sum    [32]byte
	keys   *JWTKey // the first key of the set: the set's identity
	claims jwtClaims
}

func (m *jwtMW) wrap(next pipeline.Handler) pipeline.Handler {
	return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
		h := &x.Out.Header
		for _, f := range m.forward { // never the client's own
			h.Del(f.header)
		}
		token := m.token(x)
		if token == nil {
			m.refuse(x, "")
			return
		}
		claims, err := m.verify(token)
		if err == nil {
			err = m.rules.check(claims, time.Now())
		}
		if err != nil {
			m.refuse(x, err.Error())
			return
		}
		for _, f := range m.forward {
			if v, ok := claims[f.claim]; ok {
				h.Del(f.header) // every line of the name, as Go's Header.Set
				h.Set(f.header, claimText(v))
			}
		}
		if m.RemoveHeader {
			h.DelBytes(m.header)
		}
		next.Serve(x)
	})
}

// token is the request's token, nil without one.
func (m *jwtMW) token(x *pipeline.Exchange) []byte {
	v := x.Out.Header.PeekBytes(m.header)
	if !m.bearer {
		return bytesOrNil(bytes.TrimSpace(v))
	}
	const scheme = "Bearer "
	if len(v) <= len(scheme) || !bytes.EqualFold(v[:len(scheme)], []byte(scheme)) {
		return nil
	}
	return bytesOrNil(bytes.TrimSpace(v[len(scheme):]))
}

func bytesOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// verify checks the signature with the static keys, or the source's,
// fetched again once when no key fits; a token verified before with the
// same keys is not checked again.
func (m *jwtMW) verify(token []byte) (jwtClaims, error) {
	keys := m.Static
	if m.Source != nil {
		var err error
		if keys, err = m.Source.current(false); err != nil {
			return nil, errors.New("no key to check the token with")
		}
	}
	sum := sha256.Sum256(token)
	slot := &m.verified[binary.LittleEndian.Uint64(sum[:8])%uint64(len(m.verified))]
	if v := slot.Load(); v != nil && v.sum == sum && v.keys == &keys[0] {
		return v.claims, nil
	}
	claims, err := verifyJWT(token, m.Algorithms, keys)
	if errors.Is(err, errTokenKey) && m.Source != nil {
		if keys, err = m.Source.current(true); err == nil {
			claims, err = verifyJWT(token, m.Algorithms, keys)
		}
	}
	if err == nil {
		slot.Store(&jwtVerified{sum: sum, keys: &keys[0], claims: claims})
	}
	return claims, err
}

// refuse answers 401: without a token, the challenge alone; with a bad
// one, error="invalid_token" and why.
func (m *jwtMW) refuse(x *pipeline.Exchange, why string) {
	r := x.Resp
	r.SetStatusCode(401)
	challenge := m.challenge
	if why != "" {
		challenge = append(append([]byte(nil), challenge...), `, error="invalid_token", error_description="`+why+`"`...)
	}
	r.Header.SetBytesV("WWW-Authenticate", challenge)
	r.Header.SetContentType("text/plain; charset=utf-8")
	r.SetBodyRaw(bodyUnauthorized)
}
