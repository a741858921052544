package acme

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/lego"
	"k8s.io/client-go/rest"

	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/tlsconf"
)

var errEmpty = errors.New("the CA's answer has no certificate or no key")

// Manager runs the resolvers.
type Manager struct {
	log       *slog.Logger
	resolvers map[string]*resolver
	onChange  func()   // the certificates changed: build the table again
	tokens    sync.Map // "host token" -> key authorization (HTTP-01)
	alpn      sync.Map // server name -> *tls.Certificate (TLS-ALPN-01)
	certs     atomic.Pointer[[]*tlsconf.Cert]
	reported  sync.Map // errors already logged
	// mayOrder: this replica orders and renews (with Secret storage, the
	// holder of the Lease); else it only serves what is stored.
	mayOrder func() bool
	// Storages in Secrets, the Lease, whether this replica holds it, and
	// the challenges other replicas wrote.
	secrets []*secretStore
	lease   *leaseCfg
	elected chan struct{} // closed when the Lease is released
	leading atomic.Bool
	shared  atomic.Pointer[map[string]string]
	// newKey makes account keys (tests use a smaller one).
	newKey func() (*rsa.PrivateKey, error)
}

// resolver is one resolver's state.
type resolver struct {
	cfg       ResolverConfig
	store     storage
	mu        sync.Mutex
	client    *lego.Client
	certs     []*certAndStore
	resolving map[string]bool      // groups being ordered
	failures  map[string]*failures // groups whose order failed: when to try again
	kick      chan struct{}        // check renewals now (this replica became the orderer)
}

type failures struct {
	n    int
	next time.Time
}

// Options are what the Manager needs beyond the resolvers' options.
type Options struct {
	Log      *slog.Logger
	OnChange func() // certificates were added or renewed: build the table again
	// Kube reaches the API server for storages in Secrets (nil: none may
	// be used); Identity names this replica in their Lease.
	Kube     *rest.Config
	Identity string
}

// New loads each resolver's storage (its certificates are served at
// once) and returns the manager.
func New(cfgs []ResolverConfig, o Options) (*Manager, error) {
	m := &Manager{log: o.Log, resolvers: map[string]*resolver{}, onChange: o.OnChange, mayOrder: func() bool { return true },
		newKey: func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 4096) }}
	stores := map[string]storage{} // resolvers naming one storage share it (and its lock)
	for _, c := range cfgs {
		c.Defaults()
		if stores[c.Storage] == nil {
			st, err := m.newStorage(c.Storage, o)
			if err != nil {
				return nil, fmt.Errorf("certificatesResolvers.%s.acme.storage: %w", c.Name, err)
			}
			stores[c.Storage] = st
		}
		r := &resolver{cfg: c, store: stores[c.Storage], resolving: map[string]bool{}, failures: map[string]*failures{},
			kick: make(chan struct{}, 1)}
		all, err := r.store.load()
		if err == nil {
			err = r.store.check()
		}
		if err != nil {
			return nil, fmt.Errorf("certificatesResolvers.%s.acme.storage: %w", c.Name, err)
		}
		if d := all[c.Name]; d != nil {
			r.certs = d.Certificates
		}
		m.resolvers[c.Name] = r
		if err := c.Check(); err != nil { // as Traefik: the resolver is there, and fails to order
			o.Log.Error("ACME: certificate resolver cannot issue", "resolver", c.Name, "error", err)
		}
	}
	m.rebuild()
	return m, nil
}

// storage is where a resolver keeps its account and certificates: a
// file (Traefik's acme.json) or a Secret.
type storage interface {
	load() (map[string]*storedData, error)
	update(resolver string, f func(*storedData)) error
	check() error
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
	v, ok := m.tokens.Load(challengeKeyHTTP(host, token))
	if !ok {
		return m.sharedHTTP01(host, token)
	}
	return v.(string), true
}

// TLSALPN01 is the challenge certificate for a server name (TLS-ALPN-01).
func (m *Manager) TLSALPN01(name string) *tls.Certificate {
	if v, ok := m.alpn.Load(challengeKeyALPN(name)); ok {
		return v.(*tls.Certificate)
	}
	return m.sharedALPN(name)
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

// Observe orders, in the background, the certificates the routers of t
// ask of their resolvers, as Traefik's watchNewDomains: for each entry of
// tls.domains (duplicates once), else for the Host names of the rule, the
// names no certificate covers yet (the table's store, the resolver's own,
// or an order under way) become one order, the first name the main one.
func (m *Manager) Observe(ctx context.Context, t *route.Table) {
	if !m.mayOrder() {
		return
	}
	m.observeDefault(ctx, t)
	for _, rt := range t.Routes {
		if rt.TLS == nil || rt.TLS.CertResolver == "" {
			continue
		}
		r := m.resolvers[rt.TLS.CertResolver]
		if r == nil {
			m.once("unknown "+rt.TLS.CertResolver+" "+rt.Name, "ACME: router names an unknown certificate resolver",
				"router", rt.Name, "resolver", rt.TLS.CertResolver)
			continue
		}
		groups := rt.TLS.CertDomains
		if len(groups) == 0 && len(rt.TLS.Domains) > 0 {
			groups = [][]string{rt.TLS.Domains}
		}
		seen := map[string]bool{}
		for _, g := range groups {
			if k := strings.Join(g, ","); !seen[k] {
				seen[k] = true
				m.request(ctx, r, rt.Name, g, t)
			}
		}
	}
}

// observeDefault orders TLSStore default's defaultGeneratedCert unless its
// resolver holds a certificate for exactly its names (Traefik's
// certExists: other certificates do not count; this one becomes the
// default certificate).
func (m *Manager) observeDefault(ctx context.Context, t *route.Table) {
	if t.TLS == nil || t.TLS.Store == nil || t.TLS.Store.ACMEDefault == nil {
		return
	}
	g := t.TLS.Store.ACMEDefault
	r := m.resolvers[g.Resolver]
	if r == nil {
		m.once("unknown default "+g.Resolver, "ACME: TLSStore default's defaultGeneratedCert names an unknown certificate resolver", "resolver", g.Resolver)
		return
	}
	for _, n := range g.Names {
		if err := r.cfg.canIssue(n); err != nil {
			m.once("cannot default "+strings.Join(g.Names, ","), "ACME: unable to obtain the default certificate", "resolver", r.cfg.Name, "error", err)
			return
		}
	}
	want := slices.Sorted(slices.Values(g.Names))
	r.mu.Lock()
	held := slices.ContainsFunc(r.certs, func(c *certAndStore) bool { return slices.Equal(slices.Sorted(slices.Values(c.Domain.names())), want) })
	r.mu.Unlock()
	if !held {
		m.order(ctx, r, domain{Main: g.Names[0], SANs: slices.Compact(g.Names[1:])})
	}
}

// request orders the names of g not covered yet, unless one cannot be
// issued by r (a wildcard without DNS-01), which is logged once.
func (m *Manager) request(ctx context.Context, r *resolver, router string, g []string, t *route.Table) {
	for _, n := range g {
		if err := r.cfg.canIssue(n); err != nil {
			m.once("cannot "+r.cfg.Name+" "+strings.Join(g, ","), "ACME: unable to obtain a certificate",
				"router", router, "resolver", r.cfg.Name, "domains", g, "error", err)
			return
		}
	}
	var missing []string
	for _, n := range g {
		if !covered(t, n) && !m.holds(r, n) && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		m.order(ctx, r, domain{Main: missing[0], SANs: missing[1:]})
	}
}

// once logs an error the first time key is seen.
func (m *Manager) once(key, msg string, args ...any) {
	if _, seen := m.reported.LoadOrStore(key, true); !seen {
		m.log.Error(msg, args...)
	}
}

// covered: a certificate of the table's store (Secrets, earlier ACME
// ones) serves name, exactly or by wildcard.
func covered(t *route.Table, name string) bool {
	return t.TLS != nil && t.TLS.Store != nil && t.TLS.Store.Match(name) != nil
}

// holds: one of the resolver's certificates lists name (or its
// wildcard), as Traefik's searchUncheckedDomains checks.
func (m *Manager) holds(r *resolver, name string) bool {
	wild := ""
	if i := strings.IndexByte(name, '.'); i > 0 {
		wild = "*" + name[i:]
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.certs {
		if names := c.Domain.names(); slices.Contains(names, name) || wild != "" && slices.Contains(names, wild) {
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
	res, err := client.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: d.names(), Bundle: true,
		EmailAddresses: r.cfg.EmailAddresses, Profile: r.cfg.Profile, PreferredChain: r.cfg.PreferredChain,
		EnableCommonName: !r.cfg.DisableCommonName, KeyType: keyType(r.cfg.KeyType)})
	if err != nil {
		return err
	}
	if len(res.Certificate) == 0 || len(res.PrivateKey) == 0 {
		return errEmpty
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
