package compile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/middleware"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// jwtPlugin is the plugin name under which a Middleware asks for Sluice's
// JWT middleware (Traefik's open-source edition has none; a plugin entry
// keeps the object a valid traefik.io Middleware, which Traefik itself
// would refuse as an unknown plugin rather than serve without the check).
const jwtPlugin = "sluice-jwt"

// jwtConfig is the plugin's configuration.
type jwtConfig struct {
	JWKSURL         string            `json:"jwksURL"`
	JWKSSecret      string            `json:"jwksSecret"` // a Secret's jwks.json (or its only key)
	TLS             *model.ClientTLS  `json:"tls"`        // for jwksURL: caSecret, certSecret, insecureSkipVerify
	RefreshInterval string            `json:"refreshInterval"`
	Algorithms      []string          `json:"algorithms"`
	Issuer          string            `json:"issuer"`
	Audiences       []string          `json:"audiences"`
	RequiredClaims  []string          `json:"requiredClaims"`
	Leeway          string            `json:"leeway"`
	ForwardClaims   map[string]string `json:"forwardClaims"`
	HeaderName      string            `json:"headerName"`
	RemoveHeader    bool              `json:"removeHeader"`
	Realm           string            `json:"realm"`
}

// plugin builds the plugins Sluice has (sluice-jwt); any other is refused
// with the reason, the route not served without it.
func plugin(c *compiler, m *model.Middleware) (pipeline.Middleware, error) {
	raw, ok := m.Spec.Plugin[jwtPlugin]
	if !ok || len(m.Spec.Plugin) != 1 {
		return nil, errors.New("plugins (Yaegi or WASM) are not supported by Sluice (only its own " + jwtPlugin + "); the route is not served without it")
	}
	var cfg jwtConfig
	data, _ := json.Marshal(raw)
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", jwtPlugin, err)
	}
	j := middleware.JWT{Algorithms: cfg.Algorithms, Issuer: cfg.Issuer, Audiences: cfg.Audiences, Required: cfg.RequiredClaims,
		ForwardClaims: cfg.ForwardClaims, HeaderName: cfg.HeaderName, RemoveHeader: cfg.RemoveHeader, Realm: cfg.Realm}
	var err error
	if j.Leeway, err = parseDuration(cfg.Leeway, 0); err != nil {
		return nil, fmt.Errorf("%s: leeway: %w", jwtPlugin, err)
	}
	switch {
	case cfg.JWKSURL != "" && cfg.JWKSSecret != "":
		return nil, fmt.Errorf("%s: jwksURL and jwksSecret are mutually exclusive", jwtPlugin)
	case cfg.JWKSSecret != "":
		s, e := c.secret("", m.Meta.Namespace, cfg.JWKSSecret)
		if e != nil {
			return nil, fmt.Errorf("%s: secret '%s/%s' not found", jwtPlugin, m.Meta.Namespace, cfg.JWKSSecret)
		}
		set, ok := s.Value("jwks.json")
		if !ok && len(s.Data)+len(s.StringData) == 1 {
			for _, v := range s.Data {
				set, ok = v, true
			}
			for _, v := range s.StringData {
				set, ok = []byte(v), true
			}
		}
		if !ok {
			return nil, fmt.Errorf("%s: secret '%s/%s' has no jwks.json", jwtPlugin, m.Meta.Namespace, cfg.JWKSSecret)
		}
		if j.Static, err = middleware.ParseJWKS(set); err != nil {
			return nil, fmt.Errorf("%s: secret '%s/%s': %w", jwtPlugin, m.Meta.Namespace, cfg.JWKSSecret, err)
		}
	case cfg.JWKSURL != "":
		refresh, err := parseDuration(cfg.RefreshInterval, 10*time.Minute)
		if err != nil {
			return nil, fmt.Errorf("%s: refreshInterval: %w", jwtPlugin, err)
		}
		conf, identity, err := c.forwardAuthTLS(m, cfg.TLS)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", jwtPlugin, err)
		}
		c.inScope("jwks"+identity, func() {
			j.Source = c.state(m, func() any {
				client := authClient(conf)
				client.Timeout = 5 * time.Second
				return &middleware.JWKSource{URL: cfg.JWKSURL, Client: client, Refresh: refresh}
			}).(*middleware.JWKSource)
		})
	}
	return j.Middleware()
}

// parseDuration is a Go duration string, def when empty.
func parseDuration(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	return time.ParseDuration(s)
}
