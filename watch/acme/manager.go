package acme

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/tlsalpn01"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/registration"

	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/tlsconf"
)

// ResolverConfig is one --certificatesResolvers.<name>.acme.* group, with
// Traefik's defaults filled in by Defaults.
type ResolverConfig struct {
	Name, Email, CAServer, Storage, KeyType string
	CertificatesDuration                    int // hours
	CACertificates                          []string
	CASystemCertPool                        bool
	CAServerName                            string
	HTTPEntryPoint                          string // httpChallenge.entryPoint ("": no HTTP-01)
	TLSChallenge                            bool
}

// Defaults fills in Traefik's defaults: Let's Encrypt's production CA,
// acme.json, RSA4096, 90 days.
func (r *ResolverConfig) Defaults() {
	if r.CAServer == "" {
		r.CAServer = lego.DirectoryURLLetsEncrypt
	}
	if r.Storage == "" {
		r.Storage = "acme.json"
	}
	if r.CertificatesDuration == 0 {
		r.CertificatesDuration = 3 * 30 * 24
	}
}

// Manager runs the resolvers.
type Manager struct {
	log       *slog.Logger
	resolvers map[string]*resolver
	onChange  func() // the certificates changed: build the table again
	tokens    sync.Map // "host token" -> key authorization (HTTP-01)
	alpn      sync.Map // server name -> *tls.Certificate (TLS-ALPN-01)
	certs     atomic.Pointer[[]*tlsconf.Cert]
	// newKey makes account keys (tests use a smaller one).
	newKey func() (*rsa.PrivateKey, error)
}

// resolver is one resolver's state.
type resolver struct {
	cfg       ResolverConfig
	store     *fileStore
	mu        sync.Mutex
	client    *lego.Client
	certs     []*certAndStore
	resolving map[string]bool      // groups being ordered
	failures  map[string]*failures // groups whose order failed: when to try again
}

type failures struct {
	n    int
	next time.Time
}

// New loads each resolver's storage file (its certificates are served at
// once) and returns the manager; onChange is called when certificates
// are added or renewed.
func New(cfgs []ResolverConfig, log *slog.Logger, onChange func()) (*Manager, error) {
	m := &Manager{log: log, resolvers: map[string]*resolver{}, onChange: onChange,
		newKey: func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 4096) }}
	stores := map[string]*fileStore{} // resolvers naming one file share it (and its lock)
	for _, c := range cfgs {
		c.Defaults()
		if stores[c.Storage] == nil {
			stores[c.Storage] = &fileStore{path: c.Storage}
		}
		r := &resolver{cfg: c, store: stores[c.Storage], resolving: map[string]bool{}, failures: map[string]*failures{}}
		all, err := r.store.load()
		if err != nil {
			return nil, fmt.Errorf("certificatesResolvers.%s.acme.storage: %w", c.Name, err)
		}
		if d := all[c.Name]; d != nil {
			r.certs = d.Certificates
		}
		m.resolvers[c.Name] = r
	}
	m.rebuild()
	return m, nil
}

// SetAccountKey replaces how account keys are made (tests).
func (m *Manager) SetAccountKey(f func() (*rsa.PrivateKey, error)) { m.newKey = f }

// Certificates are the certificates the resolvers hold, for the TLS store.
func (m *Manager) Certificates() []*tlsconf.Cert {
	if p := m.certs.Load(); p != nil {
		return *p
	}
	return nil
}

// HTTP01 is the key authorization for token on host (HTTP-01).
func (m *Manager) HTTP01(host, token string) (string, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	v, ok := m.tokens.Load(strings.ToLower(host) + " " + token)
	if !ok {
		return "", false
	}
	return v.(string), true
}

// TLSALPN01 is the challenge certificate for a server name (TLS-ALPN-01).
func (m *Manager) TLSALPN01(name string) *tls.Certificate {
	if v, ok := m.alpn.Load(strings.ToLower(name)); ok {
		return v.(*tls.Certificate)
	}
	return nil
}

// HTTPEntryPoints are the entry points answering HTTP-01 challenges.
func (m *Manager) HTTPEntryPoints() []string {
	var out []string
	for _, r := range m.resolvers {
		if r.cfg.HTTPEntryPoint != "" && !slices.Contains(out, r.cfg.HTTPEntryPoint) {
			out = append(out, r.cfg.HTTPEntryPoint)
		}
	}
	return out
}

// rebuild makes the store's certificates from every resolver's.
func (m *Manager) rebuild() {
	var out []*tlsconf.Cert
	for name, r := range m.resolvers {
		r.mu.Lock()
		for _, c := range r.certs {
			pair, err := tls.X509KeyPair(c.Certificate, c.Key)
			if err != nil {
				m.log.Error("ACME: a stored certificate does not load", "resolver", name, "domain", c.Domain.Main, "error", err)
				continue
			}
			out = append(out, tlsconf.NewCert(&pair, "ACME resolver "+name))
		}
		r.mu.Unlock()
	}
	m.certs.Store(&out)
}

// Observe orders, in the background, a certificate for each router of t
// whose TLS block names a resolver and whose Host names no certificate of
// the table's store covers yet.
func (m *Manager) Observe(ctx context.Context, t *route.Table) {
	for _, rt := range t.Routes {
		if rt.TLS == nil || rt.TLS.CertResolver == "" || len(rt.TLS.Domains) == 0 {
			continue
		}
		r := m.resolvers[rt.TLS.CertResolver]
		if r == nil {
			m.log.Error("ACME: router names an unknown certificate resolver", "router", rt.Name, "resolver", rt.TLS.CertResolver)
			continue
		}
		d := domain{Main: rt.TLS.Domains[0], SANs: rt.TLS.Domains[1:]}
		if covered(t, d) || m.heldBy(r, d) {
			continue
		}
		m.order(ctx, r, d)
	}
}

// covered: every name of d has a certificate in the table's store.
func covered(t *route.Table, d domain) bool {
	if t.TLS == nil || t.TLS.Store == nil {
		return false
	}
	for _, n := range d.names() {
		if t.TLS.Store.Match(n) == nil {
			return false
		}
	}
	return true
}

// heldBy: the resolver holds a certificate for exactly d's names.
func (m *Manager) heldBy(r *resolver, d domain) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.certs {
		if c.Domain.Main == d.Main && slices.Equal(c.Domain.SANs, d.SANs) {
			return true
		}
	}
	return false
}

// order obtains a certificate for d unless one is being ordered or the
// last failure's backoff has not passed.
func (m *Manager) order(ctx context.Context, r *resolver, d domain) {
	key := strings.Join(d.names(), ",")
	r.mu.Lock()
	if r.resolving[key] || r.failures[key] != nil && time.Now().Before(r.failures[key].next) {
		r.mu.Unlock()
		return
	}
	r.resolving[key] = true
	r.mu.Unlock()
	go func() {
		err := m.obtain(ctx, r, d)
		r.mu.Lock()
		delete(r.resolving, key)
		if err != nil {
			f := r.failures[key]
			if f == nil {
				f = &failures{}
				r.failures[key] = f
			}
			f.n++
			f.next = time.Now().Add(backoff(f.n))
		} else {
			delete(r.failures, key)
		}
		r.mu.Unlock()
		if err != nil {
			m.log.Error("ACME: unable to obtain a certificate", "resolver", r.cfg.Name, "domains", d.names(), "error", err)
		}
	}()
}

// backoff is the wait after n failed orders: a minute doubling to a day,
// well within Let's Encrypt's failed-validation limit (5 per hour per
// name).
func backoff(n int) time.Duration {
	d := time.Minute << min(n-1, 10)
	return min(d, 24*time.Hour)
}

// obtain orders a certificate for d and keeps it.
func (m *Manager) obtain(ctx context.Context, r *resolver, d domain) error {
	client, err := m.clientFor(ctx, r)
	if err != nil {
		return err
	}
	m.log.Info("ACME: ordering a certificate", "resolver", r.cfg.Name, "domains", d.names())
	res, err := client.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: d.names(), Bundle: true, KeyType: keyType(r.cfg.KeyType)})
	if err != nil {
		return err
	}
	return m.keep(r, d, res.Certificate, res.PrivateKey)
}

// keep stores a new certificate for d (replacing one for the same
// domains) in memory and in the storage file, and asks for a new table.
func (m *Manager) keep(r *resolver, d domain, cert, key []byte) error {
	c := &certAndStore{Domain: d, Certificate: cert, Key: key, Store: "default"}
	r.mu.Lock()
	r.certs = slices.DeleteFunc(r.certs, func(o *certAndStore) bool { return o.Domain.Main == d.Main && slices.Equal(o.Domain.SANs, d.SANs) })
	r.certs = append(r.certs, c)
	certs := slices.Clone(r.certs)
	r.mu.Unlock()
	if err := r.store.update(r.cfg.Name, func(s *storedData) { s.Certificates = certs }); err != nil {
		m.log.Error("ACME: cannot write the storage file; the certificate is served until restart", "file", r.cfg.Storage, "error", err)
	}
	m.log.Info("ACME: certificate obtained", "resolver", r.cfg.Name, "domains", d.names())
	m.rebuild()
	if m.onChange != nil {
		m.onChange()
	}
	return nil
}

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
	if conf.HTTPClient, err = httpClient(r.cfg); err != nil {
		return nil, err
	}
	client, err := lego.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("ACME client for %s: %w", r.cfg.CAServer, err)
	}
	if r.cfg.HTTPEntryPoint != "" {
		if err := client.Challenge.SetHTTP01Provider(httpProvider{m}); err != nil {
			return nil, err
		}
	}
	if r.cfg.TLSChallenge {
		if err := client.Challenge.SetTLSALPN01Provider(alpnProvider{m}); err != nil {
			return nil, err
		}
	}
	if r.cfg.HTTPEntryPoint == "" && !r.cfg.TLSChallenge {
		return nil, errors.New("the resolver has no challenge Sluice serves (httpChallenge or tlsChallenge)")
	}
	if acct.Registration == nil {
		reg, err := client.Registration.Register(ctx, registration.RegisterOptions{TermsOfServiceAgreed: true})
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
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}, nil
}

// httpProvider answers HTTP-01 through the entry points (HTTP01).
type httpProvider struct{ m *Manager }

func (p httpProvider) Present(_ context.Context, domain, token, keyAuth string) error {
	p.m.tokens.Store(strings.ToLower(domain)+" "+token, keyAuth)
	return nil
}

func (p httpProvider) CleanUp(_ context.Context, domain, token, _ string) error {
	p.m.tokens.Delete(strings.ToLower(domain) + " " + token)
	return nil
}

// alpnProvider answers TLS-ALPN-01 through the TLS front end (TLSALPN01).
type alpnProvider struct{ m *Manager }

func (p alpnProvider) Present(_ context.Context, domain, _, keyAuth string) error {
	cert, err := tlsalpn01.ChallengeCert(domain, keyAuth)
	if err != nil {
		return err
	}
	p.m.alpn.Store(strings.ToLower(domain), cert)
	return nil
}

func (p alpnProvider) CleanUp(_ context.Context, domain, _, _ string) error {
	p.m.alpn.Delete(strings.ToLower(domain))
	return nil
}
