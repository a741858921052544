package middleware

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// PassTLSClientCert is Traefik's passTLSClientCert (traefik v3.7
// pkg/middlewares/passtlsclientcert): the client certificates of a
// mutual-TLS connection, passed to the server in
// X-Forwarded-Tls-Client-Cert (PEM bodies without their armour, joined by
// commas) and X-Forwarded-Tls-Client-Cert-Info (the selected fields,
// query-escaped), exactly in Traefik's format.
type PassTLSClientCert struct {
	PEM  bool
	Info *CertInfo // nil: no info header
}

// CertInfo selects the certificate fields passed.
type CertInfo struct {
	NotAfter, NotBefore, Sans, SerialNumber bool
	Subject, Issuer                         *DNInfo // nil: none
}

// DNInfo selects the parts of a distinguished name passed
// (OrganizationalUnit: the subject's only).
type DNInfo struct {
	Country, Province, Locality, Organization, OrganizationalUnit, CommonName, SerialNumber, DomainComponent bool
}

var (
	hdrClientCert     = []byte("X-Forwarded-Tls-Client-Cert")
	hdrClientCertInfo = []byte("X-Forwarded-Tls-Client-Cert-Info")
)

// Middleware builds it.
func (p PassTLSClientCert) Middleware() (pipeline.Middleware, error) {
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			if x.TLS != nil && len(x.TLS.State.PeerCertificates) > 0 {
				certs := x.TLS.State.PeerCertificates
				if p.PEM {
					pipeline.SetRequest(&x.Out.Header, hdrClientCert, []byte(certsPEM(certs)))
				}
				if p.Info != nil {
					pipeline.SetRequest(&x.Out.Header, hdrClientCertInfo, []byte(url.QueryEscape(p.Info.of(certs))))
				}
			}
			next.Serve(x)
		})
	}, nil
}

// certsPEM is each certificate's PEM without its BEGIN/END lines and
// newlines, joined by commas.
func certsPEM(certs []*x509.Certificate) string {
	parts := make([]string, len(certs))
	r := strings.NewReplacer("-----BEGIN CERTIFICATE-----", "", "-----END CERTIFICATE-----", "", "\n", "")
	for i, c := range certs {
		parts[i] = r.Replace(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
	}
	return strings.Join(parts, ",")
}

// of is the info header's value before escaping: per certificate,
// Subject="..";Issuer="..";SerialNumber="..";NB="..";NA="..";SAN="..",
// certificates joined by commas.
func (ci *CertInfo) of(certs []*x509.Certificate) string {
	out := make([]string, len(certs))
	for i, c := range certs {
		var values []string
		if s := dnInfo(ci.Subject, &c.Subject, true); s != "" {
			values = append(values, fmt.Sprintf(`Subject="%s"`, strings.TrimSuffix(s, ",")))
		}
		if s := dnInfo(ci.Issuer, &c.Issuer, false); s != "" {
			values = append(values, fmt.Sprintf(`Issuer="%s"`, strings.TrimSuffix(s, ",")))
		}
		if ci.SerialNumber && c.SerialNumber != nil {
			if sn := c.SerialNumber.String(); sn != "" {
				values = append(values, fmt.Sprintf(`SerialNumber="%s"`, strings.TrimSuffix(sn, ",")))
			}
		}
		if ci.NotBefore {
			values = append(values, fmt.Sprintf(`NB="%d"`, uint64(c.NotBefore.Unix())))
		}
		if ci.NotAfter {
			values = append(values, fmt.Sprintf(`NA="%d"`, uint64(c.NotAfter.Unix())))
		}
		if ci.Sans {
			if sans := certSANs(c); len(sans) > 0 {
				values = append(values, fmt.Sprintf(`SAN="%s"`, strings.Join(sans, ",")))
			}
		}
		out[i] = strings.Join(values, ";")
	}
	return strings.Join(out, ",")
}

// dnInfo writes the selected parts of a name as Traefik orders them: DC,
// C, ST, L, O, (OU for a subject), SN, CN, each followed by a comma.
func dnInfo(o *DNInfo, n *pkix.Name, subject bool) string {
	if o == nil {
		return ""
	}
	var b strings.Builder
	if o.DomainComponent {
		for _, a := range n.Names {
			if a.Type.String() == "0.9.2342.19200300.100.1.25" {
				fmt.Fprintf(&b, "DC=%s,", a.Value)
			}
		}
	}
	parts := func(on bool, vs []string, prefix string) {
		for _, v := range vs {
			if on && v != "" {
				b.WriteString(prefix + "=" + v + ",")
			}
		}
	}
	parts(o.Country, n.Country, "C")
	parts(o.Province, n.Province, "ST")
	parts(o.Locality, n.Locality, "L")
	parts(o.Organization, n.Organization, "O")
	parts(subject && o.OrganizationalUnit, n.OrganizationalUnit, "OU")
	parts(o.SerialNumber, []string{n.SerialNumber}, "SN")
	parts(o.CommonName, []string{n.CommonName}, "CN")
	return b.String()
}

func certSANs(c *x509.Certificate) []string {
	sans := append(append([]string(nil), c.DNSNames...), c.EmailAddresses...)
	for _, ip := range c.IPAddresses {
		sans = append(sans, ip.String())
	}
	for _, u := range c.URIs {
		sans = append(sans, u.String())
	}
	return sans
}
