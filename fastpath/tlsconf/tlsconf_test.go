package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"maps"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// testCert makes a self-signed certificate with a common name and DNS
// names (and IPs for names that parse as one).
func testCert(t testing.TB, cn string, names ...string) *Cert {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(mrand.Int64()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return NewCert(&tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: leaf}, cn)
}

// traefikBest is Traefik's GetBestCertificate, written as Traefik writes
// it: the certificates' keys in reverse order, the first with a name equal
// to the server name or a wildcard covering its first label.
func traefikBest(certs []*Cert, serverName string) *Cert {
	byKey := map[string]*Cert{}
	for _, c := range certs {
		if _, ok := byKey[c.key]; !ok {
			byKey[c.key] = c
		}
	}
	keys := slices.Sorted(maps.Keys(byKey))
	slices.Reverse(keys)
	for _, k := range keys {
		for _, d := range strings.Split(k, ",") {
			if serverName == d {
				return byKey[k]
			}
			for len(d) > 0 && d[len(d)-1] == '.' {
				d = d[:len(d)-1]
			}
			labels := strings.Split(serverName, ".")
			labels[0] = "*"
			if d == strings.Join(labels, ".") {
				return byKey[k]
			}
		}
	}
	return nil
}

// TestStoreAgreesWithTraefik: on random sets of certificates with exact,
// wildcard, shared and IP names, Store picks what Traefik's search picks
// for every name tried.
func TestStoreAgreesWithTraefik(t *testing.T) {
	pool := []string{"a.example.com", "b.example.com", "*.example.com", "example.com", "x.a.example.com",
		"*.a.example.com", "other.net", "*.net", "localhost", "*", "10.0.0.1", "zz.example.com", "*.example.com."}
	names := []string{"a.example.com", "b.example.com", "c.example.com", "example.com", "x.a.example.com",
		"y.a.example.com", "other.net", "z.net", "localhost", "10.0.0.1", "zz.example.com", "nothing.org", "com"}
	r := mrand.New(mrand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var certs []*Cert
		for i := 0; i < 1+r.IntN(5); i++ {
			var ns []string
			for j := 0; j < 1+r.IntN(3); j++ {
				ns = append(ns, pool[r.IntN(len(pool))])
			}
			certs = append(certs, testCert(t, ns[0], ns[1:]...))
		}
		s, _ := NewStore(certs, nil)
		for _, n := range names {
			want, got := traefikBest(certs, n), s.Match(n)
			if want == nil && got == nil {
				continue
			}
			if want == nil || got == nil || want.key != got.key {
				t.Fatalf("round %d, %q: Store %v, Traefik %v (certs %v)", round, n, keyOf(got), keyOf(want), keysOf(certs))
			}
		}
	}
}

func keyOf(c *Cert) string {
	if c == nil {
		return "<none>"
	}
	return c.key
}

func keysOf(cs []*Cert) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.key)
	}
	return out
}

// TestMatchAllocatesNothing: choosing a certificate and an option for a
// server name allocates nothing.
func TestMatchAllocatesNothing(t *testing.T) {
	s, _ := NewStore([]*Cert{testCert(t, "a.example.com"), testCert(t, "*.example.com")}, nil)
	ep := NewEntryPoint(BuildOption("default", DefaultSpec()))
	ep.Map("a.example.com", BuildOption("x", DefaultSpec()))
	hello := &tls.ClientHelloInfo{ServerName: "b.example.com"}
	if n := testing.AllocsPerRun(100, func() {
		_ = s.ForHello(hello)
		_ = ep.For("a.example.com")
	}); n != 0 {
		t.Fatalf("%v allocations per choice", n)
	}
}

func TestEntryPointFor(t *testing.T) {
	def, a, w := BuildOption("default", DefaultSpec()), BuildOption("a", DefaultSpec()), BuildOption("w", DefaultSpec())
	ep := NewEntryPoint(def)
	ep.Map("A.Example.com.", a)
	ep.Map("*.example.com", w)
	for name, want := range map[string]*Option{"a.example.com": a, "b.example.com": w, "x.b.example.com": def,
		"example.com": def, "": def, "other": def} {
		if got := ep.For(name); got != want {
			t.Errorf("%q: option %s, want %s", name, got.Name, want.Name)
		}
	}
}

func TestBuildOption(t *testing.T) {
	for name, spec := range map[string]OptionSpec{
		"unknown suite":         {CipherSuites: []string{"TLS_NOPE"}},
		"unknown curve":         {CurvePreferences: []string{"P-999"}},
		"unknown auth type":     {ClientAuthType: "Sometimes"},
		"verify without CAs":    {ClientAuthType: "RequireAndVerifyClientCert"},
		"verify if given no CA": {ClientAuthType: "VerifyClientCertIfGiven"},
		"CA without cert":       {ClientCAs: [][]byte{[]byte("not PEM")}},
	} {
		if o := BuildOption("o", spec); o.Err == nil {
			t.Errorf("%s: built", name)
		}
	}
	o := BuildOption("o", OptionSpec{MinVersion: "VersionTLS13", CurvePreferences: []string{"X25519MLKEM768", "secp256r1"},
		CipherSuites: []string{"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"}, ClientAuthType: "RequestClientCert"})
	if o.Err != nil {
		t.Fatal(o.Err)
	}
	c := o.Config()
	if c.MinVersion != tls.VersionTLS13 || len(c.CurvePreferences) != 2 || c.ClientAuth != tls.RequestClientCert ||
		!slices.Equal(c.NextProtos, []string{"h2", "http/1.1", "acme-tls/1"}) {
		t.Fatalf("config %+v", c)
	}
	if d := BuildOption("default", DefaultSpec()).Config(); d.MinVersion != tls.VersionTLS12 || len(d.CipherSuites) != len(tls.CipherSuites()) {
		t.Fatalf("default: min %x, %d suites", d.MinVersion, len(d.CipherSuites))
	}
}

// handshake runs a TLS handshake over a pipe with the server's
// configuration chosen by set for entry point 0, and returns the served
// certificate's common name, the option and the client's state.
func handshake(t *testing.T, set *Set, sni string, cfg *tls.Config) (string, string, error) {
	t.Helper()
	cc, sc := net.Pipe()
	defer cc.Close()
	defer sc.Close()
	var opt *Option
	srv := tls.Server(sc, &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		c, o := set.ConfigFor(0, h)
		opt = o
		return c, nil
	}})
	go func() { _ = srv.Handshake() }()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg.ServerName, cfg.InsecureSkipVerify = sni, true
	cli := tls.Client(cc, cfg)
	_ = cli.SetDeadline(time.Now().Add(5 * time.Second))
	if err := cli.Handshake(); err != nil {
		return "", "", err
	}
	name := ""
	if opt != nil {
		name = opt.Name
	}
	return cli.ConnectionState().PeerCertificates[0].Subject.CommonName, name, nil
}

// TestHandshakes: through crypto/tls, the certificate and option chosen
// by name, the default certificate, sniStrict refusing, an ACME hello
// refused, and a session resumed across two sets sharing ticket keys.
func TestHandshakes(t *testing.T) {
	a, w := testCert(t, "a.example.com"), testCert(t, "*.example.com")
	def := testCert(t, "default")
	store, _ := NewStore([]*Cert{a, w}, def)
	opts := map[string]*Option{"default": BuildOption("default", DefaultSpec()),
		"strict": BuildOption("strict", OptionSpec{SNIStrict: true})}
	ep := NewEntryPoint(opts["default"])
	ep.Map("strict.org", opts["strict"])
	keys := NewTicketKeys()
	set := NewSet(store, opts, []*EntryPoint{ep}, keys)
	for sni, want := range map[string]string{"a.example.com": "a.example.com default", "b.example.com": "*.example.com default",
		"": "default default", "other.org": "default default"} {
		cn, opt, err := handshake(t, set, sni, nil)
		if err != nil || cn+" "+opt != want {
			t.Errorf("SNI %q: %s %s %v, want %s", sni, cn, opt, err, want)
		}
	}
	if _, _, err := handshake(t, set, "strict.org", nil); err == nil {
		t.Error("sniStrict, no certificate for the name: the handshake succeeded")
	}
	if _, _, err := handshake(t, set, "a.example.com", &tls.Config{NextProtos: []string{"acme-tls/1"}}); err == nil {
		t.Error("an acme-tls/1 hello without an ACME certificate: the handshake succeeded")
	}
	// Resumption across tables: a ticket from set is accepted by set2.
	set2 := NewSet(store, opts, []*EntryPoint{ep}, keys)
	cache := tls.NewLRUClientSessionCache(4)
	cfg := &tls.Config{ClientSessionCache: cache, MaxVersion: tls.VersionTLS12}
	if _, _, err := handshake(t, set, "a.example.com", cfg); err != nil {
		t.Fatal(err)
	}
	cc, sc := net.Pipe()
	defer cc.Close()
	go func() {
		_ = tls.Server(sc, &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			c, _ := set2.ConfigFor(0, h)
			return c, nil
		}}).Handshake()
	}()
	cli := tls.Client(cc, &tls.Config{ServerName: "a.example.com", InsecureSkipVerify: true, ClientSessionCache: cache, MaxVersion: tls.VersionTLS12})
	if err := cli.Handshake(); err != nil || !cli.ConnectionState().DidResume {
		t.Fatalf("the next table's configuration did not resume the session: %v", err)
	}
}
