package tlsconf

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"sync"
	"time"
)

// GeneratedName is the common name of the certificate served when no
// other applies, as Traefik's ("TRAEFIK DEFAULT CERT").
const GeneratedName = "TRAEFIK DEFAULT CERT"

var (
	generatedOnce sync.Once
	generated     *Cert
)

// Generated is the self-signed certificate Traefik generates for its
// default store when no default certificate is configured: RSA 2048,
// CN "TRAEFIK DEFAULT CERT", one random DNS name under traefik.default,
// valid a year. It is made once per process (a key takes a while).
func Generated() *Cert {
	generatedOnce.Do(func() {
		c, err := generate(time.Now())
		if err != nil {
			panic("tlsconf: generating the default certificate: " + err.Error())
		}
		generated = NewCert(c, "generated (Traefik's default certificate)")
	})
	return generated
}

func generate(now time.Time) (*tls.Certificate, error) {
	var random [100]byte
	if _, err := rand.Read(random[:]); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(random[:])
	z := hex.EncodeToString(sum[:])
	domain := z[:32] + "." + z[32:] + ".traefik.default"
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: GeneratedName},
		NotBefore: now, NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement |
			x509.KeyUsageDataEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, DNSNames: []string{domain},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
