package upstream

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TransportConfig is a ServersTransport: how Sluice connects to servers.
// The zero value is the default transport.
type TransportConfig struct {
	Name               string // for keys and logs: namespace/name
	ServerName         string // TLS SNI and verification name; default the server host
	InsecureSkipVerify bool
	RootCAs            [][]byte // PEM bundles; none: the system pool
	Certificates       []tls.Certificate
	// PeerCertURI: the server's certificate must name this URI among its
	// SANs, its chain verified against RootCAs even with
	// InsecureSkipVerify (Traefik's peerCertURI).
	PeerCertURI string
	// TLS, when set, is the whole client TLS configuration, used as it is
	// (SPIFFE mTLS, UseSPIFFE); TLSName says what it is (keys, logs).
	TLS                   *tls.Config
	TLSName               string
	MaxIdleConnsPerHost   int
	DialTimeout           time.Duration
	ResponseHeaderTimeout time.Duration
	IdleConnTimeout       time.Duration
	DisableHTTP2          bool
}

// key distinguishes endpoints of one address under different transports.
func (c *TransportConfig) key() string {
	if c == nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%t|%d|%v|%v|%v|%t|%s|%s", c.Name, c.ServerName, c.InsecureSkipVerify, c.MaxIdleConnsPerHost,
		c.DialTimeout, c.ResponseHeaderTimeout, c.IdleConnTimeout, c.DisableHTTP2, c.PeerCertURI, c.TLSName)
	for _, ca := range c.RootCAs {
		h.Write(ca)
	}
	for _, cert := range c.Certificates {
		for _, der := range cert.Certificate {
			h.Write(der)
		}
	}
	return "#" + hex.EncodeToString(h.Sum(nil)[:8])
}

// tlsConfig builds the client TLS configuration for addr's host.
func (c *TransportConfig) tlsConfig(host string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if c == nil {
		return tc, nil
	}
	if c.TLS != nil {
		return c.TLS.Clone(), nil
	}
	if c.ServerName != "" {
		tc.ServerName = c.ServerName
	}
	tc.InsecureSkipVerify = c.InsecureSkipVerify
	tc.Certificates = c.Certificates
	if len(c.RootCAs) > 0 {
		pool := x509.NewCertPool()
		for _, pem := range c.RootCAs {
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("no certificate in a rootCAs bundle")
			}
		}
		tc.RootCAs = pool
	}
	if uri := c.PeerCertURI; uri != "" {
		roots := tc.RootCAs
		tc.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyPeerURI(uri, roots, raw)
		}
	}
	return tc, nil
}

// verifyPeerURI verifies a server's chain against roots (nil: the
// system's), without its host name, and that its certificate names uri
// (compared case-insensitively), as Traefik's peerCertURI check does.
func verifyPeerURI(uri string, roots *x509.CertPool, raw [][]byte) error {
	if len(raw) == 0 {
		return errors.New("peer certificate mismatch: no peer certificate presented")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, der := range raw {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("tls: failed to parse certificate from peer: %w", err)
		}
		certs[i] = cert
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return err
	}
	for _, u := range certs[0].URIs {
		if strings.EqualFold(u.String(), uri) {
			return nil
		}
	}
	return fmt.Errorf("peer certificate mismatch: no SAN URI in peer certificate matches %s", uri)
}

// SPIFFEConfig builds the client TLS configuration of SPIFFE mutual TLS
// that accepts the servers whose SPIFFE ID is one of ids, or, without
// ids, is in trustDomain, or, without either, any ID of the bundle.
type SPIFFEConfig func(ids []string, trustDomain string) (*tls.Config, error)

// UseSPIFFE gives c the SPIFFE mutual TLS a transport's spiffe {ids,
// trustDomain} asks for, as Traefik's transport manager does: SPIFFE
// needs build (nil: no Workload API configured) and excludes the other
// TLS fields. When it cannot be had, c's TLS fields are cleared and the
// error returned: Traefik then logs it and connects with the default TLS
// configuration, and so does Sluice.
func (c *TransportConfig) UseSPIFFE(build SPIFFEConfig, ids []string, trustDomain string) error {
	var err error
	switch {
	case build == nil:
		err = errors.New("SPIFFE is enabled for this transport, but not configured (--spiffe.workloadAPIAddr)")
	case c.InsecureSkipVerify || len(c.RootCAs) > 0 || c.ServerName != "" || len(c.Certificates) > 0 || c.PeerCertURI != "":
		err = errors.New("TLS and SPIFFE configuration cannot be defined at the same time")
	default:
		var cfg *tls.Config
		if cfg, err = build(ids, trustDomain); err == nil {
			c.TLS, c.TLSName = cfg, fmt.Sprintf("spiffe ids=%v trustDomain=%s", ids, trustDomain)
			return nil
		}
	}
	c.ServerName, c.InsecureSkipVerify, c.RootCAs, c.Certificates, c.PeerCertURI = "", false, nil, nil, ""
	c.TLS, c.TLSName = nil, ""
	return err
}

// Validate reports a configuration no connection could use (a CA bundle
// without certificates).
func (c *TransportConfig) Validate() error {
	_, err := c.tlsConfig("")
	return err
}

// maxIdle is the idle-connection cap for the HTTP/1.1 pool (0: the default).
func (c *TransportConfig) maxIdle() int {
	if c == nil {
		return 0
	}
	return c.MaxIdleConnsPerHost
}
