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
	PeerCertURI           string
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
	fmt.Fprintf(h, "%s|%s|%t|%d|%v|%v|%v|%t|%s", c.Name, c.ServerName, c.InsecureSkipVerify, c.MaxIdleConnsPerHost,
		c.DialTimeout, c.ResponseHeaderTimeout, c.IdleConnTimeout, c.DisableHTTP2, c.PeerCertURI)
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
