package acme

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"time"

	"github.com/go-acme/lego/v5/certificate"
)

// Start renews, until ctx ends, every resolver's certificates that
// expire within the renewal period: at once, then at each check
// interval, both by certificatesDuration as Traefik's
// getCertificateRenewDurations. A renewal that fails is logged and
// tried again at the next check; the old certificate keeps serving.
func (m *Manager) Start(ctx context.Context) {
	m.startShared(ctx)
	for _, r := range m.resolvers {
		period, interval := renewDurations(r.cfg.CertificatesDuration)
		m.log.Debug("ACME: renewal", "resolver", r.cfg.Name, "before", period, "checkEvery", interval)
		go func() {
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				m.renewDue(ctx, r, period)
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				case <-r.kick:
				}
			}
		}()
	}
}

// renewDue renews the certificates of r that do not parse or end within
// period (Traefik's renewCertificates), keeping the private key, and,
// beyond Traefik, those whose CA asks for it now through ACME Renewal
// Information (RFC 9773: how Let's Encrypt asks for early renewal before
// a mass revocation; a revoked certificate's window is now).
func (m *Manager) renewDue(ctx context.Context, r *resolver, period time.Duration) {
	if !m.mayOrder() {
		return
	}
	r.mu.Lock()
	var due, rest []*certAndStore
	for _, c := range r.certs {
		if end, ok := notAfter(c.Certificate); !ok || end.Before(time.Now().Add(period)) {
			due = append(due, c)
		} else {
			rest = append(rest, c)
		}
	}
	r.mu.Unlock()
	for _, c := range rest {
		if m.ariDue(ctx, r, c) {
			due = append(due, c)
		}
	}
	for _, c := range due {
		if err := m.renew(ctx, r, c); err != nil {
			m.log.Error("ACME: unable to renew a certificate; the current one keeps serving", "resolver", r.cfg.Name,
				"domains", c.Domain.names(), "error", err)
		}
	}
}

// ariDue: the CA's renewal window for c has begun. A CA without ARI, or
// one that cannot be reached, says nothing (the thresholds still apply).
func (m *Manager) ariDue(ctx context.Context, r *resolver, c *certAndStore) bool {
	b, _ := pem.Decode(c.Certificate)
	if b == nil {
		return false
	}
	crt, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return false
	}
	client, err := m.clientFor(ctx, r)
	if err != nil {
		return false
	}
	info, err := client.Certificate.GetRenewalInfo(ctx, crt)
	if err != nil {
		m.log.Debug("ACME: no renewal information", "resolver", r.cfg.Name, "domains", c.Domain.names(), "error", err)
		return false
	}
	if info.ShouldRenewAt(time.Now(), 0) == nil {
		return false
	}
	m.log.Info("ACME: the CA asks for an early renewal (ARI)", "resolver", r.cfg.Name, "domains", c.Domain.names(),
		"window", info.SuggestedWindow.Start.String()+" - "+info.SuggestedWindow.End.String())
	return true
}

func (m *Manager) renew(ctx context.Context, r *resolver, c *certAndStore) error {
	client, err := m.clientFor(ctx, r)
	if err != nil {
		return err
	}
	m.log.Info("ACME: renewing a certificate", "resolver", r.cfg.Name, "domains", c.Domain.names())
	res, err := client.Certificate.Renew(ctx,
		certificate.Resource{ID: c.Domain.Main, Domains: c.Domain.names(), PrivateKey: c.Key, Certificate: c.Certificate},
		&certificate.RenewOptions{Bundle: true, EmailAddresses: r.cfg.EmailAddresses, Profile: r.cfg.Profile, PreferredChain: r.cfg.PreferredChain})
	if err != nil {
		return err
	}
	if len(res.Certificate) == 0 || len(res.PrivateKey) == 0 {
		return errEmpty
	}
	return m.keep(r, c.Domain, res.Certificate, res.PrivateKey)
}

// notAfter is the expiry of the first certificate of a PEM chain.
func notAfter(chain []byte) (time.Time, bool) {
	b, _ := pem.Decode(chain)
	if b == nil {
		return time.Time{}, false
	}
	crt, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return time.Time{}, false
	}
	return crt.NotAfter, true
}
