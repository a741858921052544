package acme

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-acme/lego/v5/lego"
)

// ResolverConfig is one --certificatesResolvers.<name>.acme.* group, with
// Traefik's defaults filled in by Defaults.
type ResolverConfig struct {
	Name, Email, CAServer, Storage, KeyType string
	PreferredChain, Profile                 string
	EmailAddresses                          []string
	DisableCommonName                       bool
	CertificatesDuration                    int // hours
	EABKid, EABHMAC                         string
	ClientTimeout                           time.Duration
	ClientResponseHeaderTimeout             time.Duration
	CertificateTimeout                      time.Duration
	CACertificates                          []string
	CASystemCertPool                        bool
	CAServerName                            string

	HTTPEntryPoint string // httpChallenge.entryPoint ("": no HTTP-01)
	HTTPDelay      time.Duration
	TLSChallenge   bool
	TLSDelay       time.Duration
	DNS            DNSChallenge
}

// DNSChallenge is dnsChallenge.*: a lego provider by name (configured, as
// in Traefik, by the provider's environment variables), the resolvers
// that check the TXT record, and the propagation options.
type DNSChallenge struct {
	Provider          string
	Resolvers         []string
	DisableChecks     bool
	DisableANSChecks  bool
	RequireAllRNS     bool
	DelayBeforeChecks time.Duration
}

// Defaults fills in Traefik's defaults (Configuration.SetDefaults):
// Let's Encrypt's production CA, acme.json, RSA4096, 90 days, and the
// client's timeouts.
func (r *ResolverConfig) Defaults() {
	if r.CAServer == "" {
		r.CAServer = lego.DirectoryURLLetsEncrypt
	}
	if r.Storage == "" {
		r.Storage = "acme.json"
	}
	if r.KeyType == "" {
		r.KeyType = "RSA4096"
	}
	if r.CertificatesDuration == 0 {
		r.CertificatesDuration = 3 * 30 * 24
	}
	if r.ClientTimeout == 0 {
		r.ClientTimeout = 2 * time.Minute
	}
	if r.ClientResponseHeaderTimeout == 0 {
		r.ClientResponseHeaderTimeout = 30 * time.Second
	}
	if r.CertificateTimeout == 0 {
		r.CertificateTimeout = 30 * time.Second
	}
}

// Check is what Traefik refuses when it builds the resolver's client: no
// challenge, an unknown DNS provider, an EAB half given.
func (r *ResolverConfig) Check() error {
	if r.HTTPEntryPoint == "" && !r.TLSChallenge && r.DNS.Provider == "" {
		return errors.New("ACME challenge not specified, please select TLS or HTTP or DNS Challenge")
	}
	if r.DNS.Provider != "" && !knownDNSProvider(r.DNS.Provider) {
		return fmt.Errorf("dnsChallenge.provider %q is not one Sluice has (it has %s; a binary built with -tags alldns has all of lego's)",
			r.DNS.Provider, strings.Join(dnsProviderNames(), ", "))
	}
	if (r.EABKid == "") != (r.EABHMAC == "") {
		return errors.New("eab needs both kid and hmacEncoded")
	}
	return nil
}

// Wildcards: a name starting "*." can only be validated by DNS-01.
func (r *ResolverConfig) canIssue(name string) error {
	if strings.HasPrefix(name, "*.") && r.DNS.Provider == "" {
		return fmt.Errorf("%s is a wildcard: only dnsChallenge can validate it, and resolver %s has none", name, r.Name)
	}
	return nil
}

// renewDurations is Traefik's getCertificateRenewDurations: how long
// before expiry a certificate is renewed, and how often that is checked,
// by the certificates' duration (hours).
func renewDurations(hours int) (period, interval time.Duration) {
	const day = 24 * time.Hour
	switch {
	case hours >= 365*24:
		return 4 * 30 * day, 7 * day
	case hours >= 3*30*24:
		return 30 * day, day
	case hours >= 30*24:
		return 10 * day, 12 * time.Hour
	case hours >= 6*24:
		return 2 * day, 2 * time.Hour
	case hours >= 24:
		return 6 * time.Hour, 10 * time.Minute
	}
	return 20 * time.Minute, time.Minute
}
