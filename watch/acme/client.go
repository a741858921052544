package acme

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	legoacme "github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/challenge/http01"
	"github.com/go-acme/lego/v5/challenge/tlsalpn01"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/registration"
)

// clientFor is the resolver's lego client, its account registered (and
// stored) on first use.
func (m *Manager) clientFor(ctx context.Context, r *resolver) (*lego.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		return r.client, nil
	}
	all, err := r.store.load()
	if err != nil {
		return nil, err
	}
	var acct *account
	if d := all[r.cfg.Name]; d != nil && d.Account != nil && d.Account.Email == r.cfg.Email && d.Account.GetPrivateKey() != nil {
		acct = d.Account
	} else if acct, err = newAccount(r.cfg.Email, m.newKey); err != nil {
		return nil, err
	}
	conf := lego.NewConfig(acct)
	conf.CADirURL = r.cfg.CAServer
	conf.UserAgent = "sluice"
	conf.Certificate.Timeout = r.cfg.CertificateTimeout
	if conf.HTTPClient, err = httpClient(r.cfg); err != nil {
		return nil, err
	}
	client, err := lego.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("ACME client for %s: %w", r.cfg.CAServer, err)
	}
	if err := m.setChallenges(client, r); err != nil {
		return nil, err
	}
	if acct.Registration == nil {
		reg, err := register(ctx, client, r.cfg)
		if err != nil {
			return nil, fmt.Errorf("registering the ACME account: %w", err)
		}
		acct.Registration = &resource{Body: reg.Account, URI: reg.Location}
		if err := r.store.update(r.cfg.Name, func(s *storedData) { s.Account = acct }); err != nil {
			return nil, err
		}
	}
	r.client = client
	return client, nil
}

// setChallenges gives the client every challenge the resolver names,
// as Traefik's getClient (lego then picks among them per authorization).
func (m *Manager) setChallenges(client *lego.Client, r *resolver) error {
	c := r.cfg
	if err := c.Check(); err != nil {
		return err
	}
	if c.DNS.Provider != "" {
		if err := setDNS01(client, c.DNS); err != nil {
			return err
		}
	}
	if c.HTTPEntryPoint != "" {
		if err := client.Challenge.SetHTTP01Provider(httpProvider{m, r}, http01.SetDelay(c.HTTPDelay)); err != nil {
			return err
		}
	}
	if c.TLSChallenge {
		if err := client.Challenge.SetTLSALPN01Provider(alpnProvider{m, r}, tlsalpn01.SetDelay(c.TLSDelay)); err != nil {
			return err
		}
	}
	return nil
}

// register creates the account, with External Account Binding when eab
// is given (ZeroSSL, Google, private CAs).
func register(ctx context.Context, client *lego.Client, c ResolverConfig) (*legoacme.ExtendedAccount, error) {
	if c.EABKid != "" {
		return client.Registration.RegisterWithExternalAccountBinding(ctx,
			registration.RegisterEABOptions{TermsOfServiceAgreed: true, Kid: c.EABKid, HmacEncoded: c.EABHMAC})
	}
	return client.Registration.Register(ctx, registration.RegisterOptions{TermsOfServiceAgreed: true})
}

// keyType is Traefik's GetKeyType: RSA4096 when empty or unknown.
func keyType(v string) certcrypto.KeyType {
	switch v {
	case "EC256":
		return certcrypto.EC256
	case "EC384":
		return certcrypto.EC384
	case "RSA2048":
		return certcrypto.RSA2048
	case "RSA8192":
		return certcrypto.RSA8192
	}
	return certcrypto.RSA4096
}

// httpClient talks to the CA: caCertificates (PEM files) as the roots,
// with the system's when caSystemCertPool, and caServerName as the name
// checked, as Traefik's createHTTPClient.
func httpClient(c ResolverConfig) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(c.CACertificates) > 0 || c.CAServerName != "" {
		pool := x509.NewCertPool()
		if c.CASystemCertPool {
			if sys, err := x509.SystemCertPool(); err == nil {
				pool = sys
			}
		}
		for _, f := range c.CACertificates {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("caCertificates: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("caCertificates: no certificate in %s", f)
			}
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, ServerName: c.CAServerName}
	}
	tr.ResponseHeaderTimeout = c.ClientResponseHeaderTimeout
	return &http.Client{Transport: tr, Timeout: c.ClientTimeout}, nil
}

// httpProvider answers HTTP-01 through the entry points (HTTP01), and
// shares the challenge with the other replicas (share).
type httpProvider struct {
	m *Manager
	r *resolver
}

func (p httpProvider) Present(_ context.Context, domain, token, keyAuth string) error {
	p.m.tokens.Store(challengeKeyHTTP(domain, token), keyAuth)
	return share(p.r, challengeKeyHTTP(domain, token), keyAuth)
}

func (p httpProvider) CleanUp(_ context.Context, domain, token, _ string) error {
	p.m.tokens.Delete(challengeKeyHTTP(domain, token))
	return share(p.r, challengeKeyHTTP(domain, token), "")
}

// alpnProvider answers TLS-ALPN-01 through the TLS front end (TLSALPN01).
type alpnProvider struct {
	m *Manager
	r *resolver
}

func (p alpnProvider) Present(_ context.Context, domain, _, keyAuth string) error {
	cert, err := tlsalpn01.ChallengeCert(domain, keyAuth)
	if err != nil {
		return err
	}
	p.m.alpn.Store(challengeKeyALPN(domain), cert)
	return share(p.r, challengeKeyALPN(domain), keyAuth)
}

func (p alpnProvider) CleanUp(_ context.Context, domain, _, _ string) error {
	p.m.alpn.Delete(challengeKeyALPN(domain))
	return share(p.r, challengeKeyALPN(domain), "")
}
