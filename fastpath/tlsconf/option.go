package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// DefaultOption is the name of Traefik's default TLS option.
const DefaultOption = "default"

// ACMEProtocol is the ALPN protocol of ACME's TLS-ALPN-01 challenge.
const ACMEProtocol = "acme-tls/1"

// OptionSpec is a TLSOption as Traefik reads it (pkg/tls Options).
type OptionSpec struct {
	MinVersion, MaxVersion string
	// CipherSuites: nil is Traefik's default, every suite Go calls secure.
	CipherSuites     []string
	CurvePreferences []string
	ClientCAs        [][]byte // PEM bundles (the clientAuth Secrets)
	ClientAuthType   string
	SNIStrict        bool
	// ALPNProtocols: nil is Traefik's default: h2, http/1.1, acme-tls/1.
	ALPNProtocols         []string
	DisableSessionTickets bool
}

// Option is a built TLS option. Immutable.
type Option struct {
	Name      string
	SNIStrict bool
	// Err makes the option unusable, as Traefik's TLS manager fails to
	// build it: routers using it are disabled and handshakes it would
	// serve are closed.
	Err    error
	config *tls.Config // without certificates
}

// Config is the option's configuration without certificates (nil when
// Err is set); Set binds it to a store.
func (o *Option) Config() *tls.Config { return o.config }

var (
	versions = map[string]uint16{
		"VersionTLS10": tls.VersionTLS10, "VersionTLS11": tls.VersionTLS11,
		"VersionTLS12": tls.VersionTLS12, "VersionTLS13": tls.VersionTLS13,
	}
	// curves are Traefik's names (Go's and RFC 8446's), the
	// post-quantum hybrids Go offers included.
	curves = map[string]tls.CurveID{
		"secp256r1": tls.CurveP256, "CurveP256": tls.CurveP256,
		"secp384r1": tls.CurveP384, "CurveP384": tls.CurveP384,
		"secp521r1": tls.CurveP521, "CurveP521": tls.CurveP521,
		"x25519": tls.X25519, "X25519": tls.X25519,
		"x25519mlkem768": tls.X25519MLKEM768, "X25519MLKEM768": tls.X25519MLKEM768,
		"secp256r1mlkem768": tls.SecP256r1MLKEM768, "SecP256r1MLKEM768": tls.SecP256r1MLKEM768,
		"secp384r1mlkem1024": tls.SecP384r1MLKEM1024, "SecP384r1MLKEM1024": tls.SecP384r1MLKEM1024,
	}
	clientAuthTypes = map[string]tls.ClientAuthType{
		"NoClientCert": tls.NoClientCert, "RequestClientCert": tls.RequestClientCert,
		"RequireAnyClientCert": tls.RequireAnyClientCert, "VerifyClientCertIfGiven": tls.VerifyClientCertIfGiven,
		"RequireAndVerifyClientCert": tls.RequireAndVerifyClientCert,
	}
	suites = func() map[string]uint16 {
		m := map[string]uint16{"TLS_FALLBACK_SCSV": tls.TLS_FALLBACK_SCSV}
		for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
			m[s.Name] = s.ID
		}
		// Go's older names, which Traefik accepts too.
		m["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"] = tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305
		m["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"] = tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305
		return m
	}()
	defaultALPN = []string{"h2", "http/1.1", ACMEProtocol}
)

// DefaultSpec is Traefik's default option: TLS 1.2 at least, Go's secure
// suites, h2, http/1.1 and acme-tls/1.
func DefaultSpec() OptionSpec { return OptionSpec{MinVersion: "VersionTLS12"} }

// BuildOption builds an option as Traefik's TLS manager does
// (buildTLSConfig): an unknown suite, curve or client auth type, a CA
// bundle without a certificate, or a verifying client auth type without
// CAs make it unusable (Err).
func BuildOption(name string, spec OptionSpec) *Option {
	o := &Option{Name: name, SNIStrict: spec.SNIStrict}
	cfg, err := buildConfig(spec)
	if err != nil {
		o.Err = fmt.Errorf("TLS option %s: %w", name, err)
		return o
	}
	o.config = cfg
	return o
}

func buildConfig(spec OptionSpec) (*tls.Config, error) {
	cfg := &tls.Config{NextProtos: spec.ALPNProtocols, SessionTicketsDisabled: spec.DisableSessionTickets}
	if cfg.NextProtos == nil {
		cfg.NextProtos = defaultALPN
	}
	if len(spec.ClientCAs) > 0 {
		pool := x509.NewCertPool()
		for _, pem := range spec.ClientCAs {
			if !pool.AppendCertsFromPEM(pem) {
				return nil, errors.New("invalid certificate(s) content in a clientAuth CA")
			}
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	if t := spec.ClientAuthType; t != "" {
		if cfg.ClientCAs == nil && (t == "VerifyClientCertIfGiven" || t == "RequireAndVerifyClientCert") {
			return nil, fmt.Errorf("invalid clientAuthType: %s, CAFiles is required", t)
		}
		at, ok := clientAuthTypes[t]
		if !ok {
			return nil, fmt.Errorf("unknown client auth type %q", t)
		}
		cfg.ClientAuth = at
	}
	cfg.MinVersion = versions[spec.MinVersion] // unknown: Go's default, as Traefik
	cfg.MaxVersion = versions[spec.MaxVersion]
	cfg.CipherSuites = []uint16{}
	if spec.CipherSuites == nil {
		for _, s := range tls.CipherSuites() {
			cfg.CipherSuites = append(cfg.CipherSuites, s.ID)
		}
	}
	for _, name := range spec.CipherSuites {
		id, ok := suites[name]
		if !ok {
			return nil, fmt.Errorf("invalid CipherSuite: %s", name)
		}
		cfg.CipherSuites = append(cfg.CipherSuites, id)
	}
	if spec.CurvePreferences != nil {
		cfg.CurvePreferences = []tls.CurveID{}
		for _, name := range spec.CurvePreferences {
			id, ok := curves[name]
			if !ok {
				return nil, fmt.Errorf("invalid CurveID in curvePreferences: %s", name)
			}
			cfg.CurvePreferences = append(cfg.CurvePreferences, id)
		}
	}
	return cfg, nil
}
