package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluiceproxy/sluice/watch/acme"
)

// applyResolver reads one --certificatesResolvers.<name>.acme.* key.
// The challenges Sluice has (httpChallenge, tlsChallenge) and the account
// and CA options are read; the others (dnsChallenge, eab, preferredChain,
// ...) are warned about and ignored, and a resolver left without a
// challenge Sluice serves is an error when it is used.
func (c *config) applyResolver(k, v string) error {
	rest := strings.TrimPrefix(k, "certificatesresolvers.")
	name, field, _ := strings.Cut(rest, ".")
	if c.Resolvers == nil {
		c.Resolvers = map[string]*acme.ResolverConfig{}
	}
	r := c.Resolvers[name]
	if r == nil {
		r = &acme.ResolverConfig{Name: name}
		c.Resolvers[name] = r
	}
	b := func() (bool, error) {
		x, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("--%s: %q is not a boolean", k, v)
		}
		return x, nil
	}
	var err error
	switch field {
	case "acme":
	case "acme.email":
		r.Email = v
	case "acme.caserver":
		r.CAServer = v
	case "acme.storage":
		r.Storage = v
	case "acme.keytype":
		r.KeyType = v
	case "acme.certificatesduration":
		if r.CertificatesDuration, err = strconv.Atoi(v); err != nil || r.CertificatesDuration <= 0 {
			return fmt.Errorf("--%s: %q is not a number of hours", k, v)
		}
	case "acme.cacertificates":
		r.CACertificates = strings.Split(v, ",")
	case "acme.casystemcertpool":
		r.CASystemCertPool, err = b()
	case "acme.caservername":
		r.CAServerName = v
	case "acme.httpchallenge":
	case "acme.httpchallenge.entrypoint":
		r.HTTPEntryPoint = strings.ToLower(v)
	case "acme.tlschallenge":
		r.TLSChallenge, err = b()
	default:
		c.Warnings = append(c.Warnings, fmt.Sprintf("Traefik option --%s is not supported by Sluice yet; ignored", k))
	}
	return err
}
