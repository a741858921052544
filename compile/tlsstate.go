package compile

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/tlsconf"
)

// tlsOptions builds every TLSOption, keyed as Traefik keys them
// ("namespace-name@kubernetescrd", not normalized; a TLSOption named
// default replaces the default option, unless two namespaces define one:
// then both are dropped and Traefik's built-in default stays).
func (c *compiler) tlsOptions() map[string]*tlsconf.Option {
	opts := map[string]*tlsconf.Option{}
	var defaults []*model.TLSOption
	for _, o := range c.snap.TLSOptions {
		if o.Meta.Name == tlsconf.DefaultOption {
			defaults = append(defaults, o)
			continue
		}
		key := o.Meta.Namespace + "-" + o.Meta.Name + Provider
		opts[key] = c.tlsOption(o, key)
	}
	opts[tlsconf.DefaultOption] = tlsconf.BuildOption(tlsconf.DefaultOption, tlsconf.DefaultSpec())
	switch len(defaults) {
	case 0:
	case 1:
		opts[tlsconf.DefaultOption] = c.tlsOption(defaults[0], tlsconf.DefaultOption)
	default:
		var nss []string
		for _, o := range defaults {
			nss = append(nss, o.Meta.Namespace)
		}
		slices.Sort(nss)
		for _, o := range defaults {
			c.file = o.File
			c.errorf(objName("TLSOption", o.Meta.Namespace, o.Meta.Name), "metadata.name", "default TLS options defined in "+
				"multiple namespaces %v: both are ignored and Traefik's default TLS options apply", nss)
		}
	}
	c.file = ""
	return opts
}

// tlsOption builds one TLSOption as buildTLSOptions reads it: client CA
// Secrets (tls.ca or ca.crt) that are missing are skipped with a warning,
// one without a CA is skipped with an error; an option that cannot be
// built is reported and kept broken (its routers are disabled).
func (c *compiler) tlsOption(o *model.TLSOption, key string) *tlsconf.Option {
	obj := objName("TLSOption", o.Meta.Namespace, o.Meta.Name)
	c.file = o.File
	sp := &o.Spec
	spec := tlsconf.DefaultSpec()
	spec.MinVersion, spec.MaxVersion = sp.MinVersion, sp.MaxVersion
	if sp.CipherSuites != nil {
		spec.CipherSuites = sp.CipherSuites
	}
	spec.CurvePreferences = sp.CurvePreferences
	spec.ClientAuthType, spec.SNIStrict, spec.DisableSessionTickets = sp.ClientAuth.ClientAuthType, sp.SniStrict, sp.DisableSessionTickets
	if sp.ALPNProtocols != nil {
		spec.ALPNProtocols = sp.ALPNProtocols
	}
	for i, name := range sp.ClientAuth.SecretNames {
		f := fmt.Sprintf("spec.clientAuth.secretNames[%d]", i)
		s := c.secrets[o.Meta.Namespace+"/"+name]
		if s == nil {
			c.warn(obj, f, "secret %s/%s does not exist; skipped", o.Meta.Namespace, name)
			continue
		}
		ca, ok := s.Value("tls.ca")
		if !ok {
			ca, ok = s.Value("ca.crt")
		}
		if !ok || len(ca) == 0 {
			c.errorf(obj, f, "failed to extract CA from secret %s/%s: no tls.ca or ca.crt; skipped", o.Meta.Namespace, name)
			continue
		}
		spec.ClientCAs = append(spec.ClientCAs, ca)
	}
	if sp.PreferServerCipherSuites != nil {
		c.warn(obj, "spec.preferServerCipherSuites", "deprecated and ineffective (Traefik and Go ignore it); remove it")
	}
	opt := tlsconf.BuildOption(key, spec)
	if opt.Err != nil {
		c.errorf(obj, "spec", "%v; the routers using it are disabled and handshakes for their hosts are closed", opt.Err)
	}
	return opt
}

// certEntry is a Secret's certificate as parsed, or why it is not one.
type certEntry struct {
	cert *tlsconf.Cert
	err  string
}

// certificate parses the certificate of Secret ns/name, once per Secret
// object (the providers never mutate one), for the Compiler's next
// builds too.
func (c *compiler) certificate(ns, name string, cache map[*model.Secret]certEntry, used map[*model.Secret]bool) (*tlsconf.Cert, string) {
	s := c.secrets[ns+"/"+name]
	if s == nil {
		return nil, fmt.Sprintf("secret %s/%s does not exist", ns, name)
	}
	used[s] = true
	if e, ok := cache[s]; ok {
		return e.cert, e.err
	}
	crt, _ := s.Value("tls.crt")
	key, _ := s.Value("tls.key")
	var e certEntry
	switch {
	case len(crt) == 0:
		e.err = fmt.Sprintf("secret %s/%s has no tls.crt", ns, name)
	case len(key) == 0:
		e.err = fmt.Sprintf("secret %s/%s has no tls.key", ns, name)
	default:
		// The error names what is wrong (no PEM, a key that does not
		// match...), never the key itself.
		if pair, err := tls.X509KeyPair(crt, key); err != nil {
			e.err = fmt.Sprintf("secret %s/%s: %v", ns, name, err)
		} else {
			e.cert = tlsconf.NewCert(&pair, "Secret "+ns+"/"+name)
		}
	}
	cache[s] = e
	return e.cert, e.err
}

// store gathers the default store: the certificates of the IngressRoutes'
// tls.secretName and of TLSStore default, and its default certificate
// (else Traefik's generated one). A Secret that is missing or does not
// hold a certificate is reported, with the IngressRoute naming it; its
// hosts get another certificate, as in Traefik.
func (cc *Compiler) store(c *compiler) *tlsconf.Store {
	if cc.certs == nil {
		cc.certs = map[*model.Secret]certEntry{}
	}
	used := map[*model.Secret]bool{}
	var certs []*tlsconf.Cert
	seen := map[string]bool{}
	add := func(ns, name, obj, field string) *tlsconf.Cert {
		cert, err := c.certificate(ns, name, cc.certs, used)
		if err != "" {
			c.errorf(obj, field, "%s; its hosts are served another certificate (the default one if none matches)", err)
			return nil
		}
		if field != defaultCertField && !seen[ns+"/"+name] {
			seen[ns+"/"+name] = true
			certs = append(certs, cert)
		}
		return cert
	}
	irs := slices.Clone(c.snap.IngressRoutes)
	slices.SortFunc(irs, func(a, b *model.IngressRoute) int { return strings.Compare(irKey(a), irKey(b)) })
	for _, ir := range irs {
		t := ir.Spec.TLS
		if t == nil || t.SecretName == "" || len(ir.Spec.ParentRefs) > 0 || !c.classMatches(ir) {
			continue
		}
		c.file = ir.File
		obj := objName("IngressRoute", ir.Meta.Namespace, ir.Meta.Name)
		if cert := add(ir.Meta.Namespace, t.SecretName, obj, "spec.tls.secretName"); cert != nil {
			c.checkCertificate(obj, cert, ir)
		}
	}
	def := c.tlsStore(add)
	for s := range cc.certs {
		if !used[s] {
			delete(cc.certs, s)
		}
	}
	c.file = ""
	if c.opts.ACMECertificates != nil {
		// After the Secrets: a Secret naming the same hosts is kept. Copies,
		// as NewStore writes each certificate's rank.
		for _, a := range c.opts.ACMECertificates() {
			cp := *a
			certs = append(certs, &cp)
		}
	}
	if def == nil && c.generated != nil {
		def = c.acmeDefault(c.generated.Names)
	}
	st, dropped := tlsconf.NewStore(certs, def)
	st.ACME = c.opts.ACMEChallengeCert
	st.ACMEDefault = c.generated
	for _, d := range dropped {
		c.warn(d.Source, "", "names the same hosts (%s) as another certificate of the store; skipped, as Traefik does", strings.Join(d.Names, ", "))
	}
	return st
}

// defaultCertField is the field of TLSStore default's default
// certificate, which is the store's default and not one of its
// certificates.
const defaultCertField = "spec.defaultCertificate.secretName"

// tlsStore reads TLSStore default (only one named default is used; two,
// in two namespaces, are both ignored) and returns the default
// certificate, or nil for Traefik's generated one.
func (c *compiler) tlsStore(add func(ns, name, obj, field string) *tlsconf.Cert) *tlsconf.Cert {
	var defaults []*model.TLSStore
	for _, s := range c.snap.TLSStores {
		c.file = s.File
		if s.Meta.Name != "default" {
			c.warn(objName("TLSStore", s.Meta.Namespace, s.Meta.Name), "metadata.name", "only the TLSStore named default is used (Traefik's only usable store); ignored")
			continue
		}
		defaults = append(defaults, s)
	}
	if len(defaults) > 1 {
		for _, s := range defaults {
			c.file = s.File
			c.errorf(objName("TLSStore", s.Meta.Namespace, s.Meta.Name), "metadata.name", "default TLS store defined in multiple namespaces: both are ignored")
		}
		return nil
	}
	if len(defaults) == 0 {
		return nil
	}
	s := defaults[0]
	c.file = s.File
	obj := objName("TLSStore", s.Meta.Namespace, s.Meta.Name)
	for i, cert := range s.Spec.Certificates {
		add(s.Meta.Namespace, cert.SecretName, obj, fmt.Sprintf("spec.certificates[%d].secretName", i))
	}
	if d := s.Spec.DefaultCertificate; d != nil && s.Spec.DefaultGeneratedCert != nil {
		c.warn(obj, "spec.defaultGeneratedCert", "defaultCertificate and defaultGeneratedCert cannot be defined at the same time; defaultCertificate is used, as Traefik does")
	} else if g := s.Spec.DefaultGeneratedCert; g != nil {
		c.generated = c.generatedDefault(obj, g)
	}
	if d := s.Spec.DefaultCertificate; d != nil {
		if cert := add(s.Meta.Namespace, d.SecretName, obj, defaultCertField); cert != nil {
			return cert
		}
	}
	return nil
}

// generatedDefault reads defaultGeneratedCert as Traefik's TLS manager:
// a resolver and a domain (main, SANs), canonical (lower case, no
// trailing dot), or a warning and the generated default certificate.
func (c *compiler) generatedDefault(obj string, g *model.GeneratedCert) *tlsconf.ACMEDefault {
	if g.Domain == nil || g.Resolver == "" || g.Domain.Main == "" {
		c.warn(obj, "spec.defaultGeneratedCert", "default generated certificate domain or resolver is missing; the generated default certificate is served")
		return nil
	}
	out := &tlsconf.ACMEDefault{Resolver: g.Resolver}
	for _, n := range append([]string{g.Domain.Main}, g.Domain.SANs...) {
		if n = strings.TrimSuffix(strings.ToLower(n), "."); n != "" {
			out.Names = append(out.Names, n)
		}
	}
	return out
}

// acmeDefault is a copy of the ACME certificate for exactly names
// (Traefik's store.GetCertificate), or nil while there is none.
func (c *compiler) acmeDefault(names []string) *tlsconf.Cert {
	if c.opts.ACMECertificates == nil {
		return nil
	}
	want := slices.Sorted(slices.Values(names))
	for _, a := range c.opts.ACMECertificates() {
		if slices.Equal(a.Names, want) {
			cp := *a
			return &cp
		}
	}
	return nil
}

// checkCertificate reports what `sluice check` should: a certificate that
// has expired or is not yet valid, and one that covers none of the Host
// names of its IngressRoute's routers.
func (c *compiler) checkCertificate(obj string, cert *tlsconf.Cert, ir *model.IngressRoute) {
	now := time.Now()
	if l := cert.Leaf; l != nil && now.After(l.NotAfter) {
		c.warn(obj, "spec.tls.secretName", "the certificate of %s expired on %s; clients will refuse it", cert.Source, l.NotAfter.UTC().Format(time.DateOnly))
	} else if l != nil && now.Before(l.NotBefore) {
		c.warn(obj, "spec.tls.secretName", "the certificate of %s is not valid before %s", cert.Source, l.NotBefore.UTC().Format(time.RFC3339))
	}
	var hosts []string
	for i := range ir.Spec.Routes {
		rt := &ir.Spec.Routes[i]
		if tree, err := parseRule(rt.Match, c.syntaxOf(rt)); err == nil {
			hosts = append(hosts, hostNames(tree)...)
		}
	}
	if len(hosts) == 0 {
		return
	}
	st, _ := tlsconf.NewStore([]*tlsconf.Cert{cert}, nil)
	for _, h := range hosts {
		if st.Match(strings.TrimSuffix(h, ".")) != nil || strings.HasPrefix(h, "*") && st.Match("x"+strings.TrimPrefix(h, "*")) != nil {
			return
		}
	}
	c.warn(obj, "spec.tls.secretName", "the certificate of %s (%s) covers none of the routers' hosts (%s)", cert.Source,
		strings.Join(cert.Names, ", "), strings.Join(hosts, ", "))
}

// tlsSet builds the table's TLS state: the options, the store, and per
// entry point the mapping of its TLS routers' hosts to their options
// (hosts of routers whose option is broken close their handshakes).
func (c *compiler) tlsSet(t *route.Table, opts map[string]*tlsconf.Option, st *tlsconf.Store, closed map[string][]string) *tlsconf.Set {
	def := opts[tlsconf.DefaultOption]
	if def.Err != nil {
		def = nil
	}
	eps := make([]*tlsconf.EntryPoint, len(t.EntryPoints))
	for i, name := range t.EntryPoints {
		ep := tlsconf.NewEntryPoint(def)
		for _, h := range closed[name] {
			ep.Map(h, nil)
		}
		for _, r := range t.Routes {
			if r.TLS == nil || !slices.Contains(r.EntryPoints, name) {
				continue
			}
			for _, h := range r.TLS.Domains {
				ep.Map(h, opts[r.TLS.Option])
			}
		}
		eps[i] = ep
	}
	return tlsconf.NewSet(st, opts, eps, c.opts.TicketKeys)
}

// TicketKeysField is the data key of the session ticket keys Secret: one
// or more 32-byte keys back to back, the first sealing new tickets.
const TicketKeysField = "session-ticket-keys"

// ticketKeys reads the session ticket keys Secret, if one is named, into
// the shared keys; a Secret that is missing or malformed is reported and
// the keys in use stay.
func (c *compiler) ticketKeys() {
	name := c.opts.TicketSecret
	if name == "" || c.opts.TicketKeys == nil {
		return
	}
	obj := "Secret " + name
	s := c.secrets[name]
	if s == nil {
		c.errorf(obj, "", "the session ticket keys Secret does not exist; the keys in use stay")
		return
	}
	data, _ := s.Value(TicketKeysField)
	if len(data) == 0 || len(data)%32 != 0 {
		c.errorf(obj, "data."+TicketKeysField, "want one or more 32-byte keys (got %d bytes); the keys in use stay", len(data))
		return
	}
	keys := make([][32]byte, len(data)/32)
	for i := range keys {
		copy(keys[i][:], data[i*32:])
	}
	c.opts.TicketKeys.Set(keys)
}
