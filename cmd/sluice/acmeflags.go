package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluiceproxy/sluice/watch/acme"
)

// applyResolver reads one --certificatesResolvers.<name>.acme.* key, as
// Traefik's ACME Configuration (durations as seconds or Go durations).
func (c *config) applyResolver(k, v string) error {
	rest := strings.TrimPrefix(k, "certificatesresolvers.")
	name, field, _ := strings.Cut(rest, ".")
	if field != "acme" && !strings.HasPrefix(field, "acme.") {
		c.Warnings = append(c.Warnings, fmt.Sprintf("Traefik option --%s is not supported by Sluice (ACME resolvers only); ignored", k))
		return nil
	}
	if c.Resolvers == nil {
		c.Resolvers = map[string]*acme.ResolverConfig{}
	}
	r := c.Resolvers[name]
	if r == nil {
		r = &acme.ResolverConfig{Name: name}
		c.Resolvers[name] = r
	}
	field = strings.TrimPrefix(field, "acme.")
	if strings.HasPrefix(field, "dnschallenge") {
		return applyDNSChallenge(&r.DNS, k, field, v)
	}
	switch field {
	case "acme", "httpchallenge", "eab":
	case "email":
		r.Email = v
	case "caserver":
		r.CAServer = v
	case "storage":
		r.Storage = v
	case "keytype":
		r.KeyType = v
	case "preferredchain":
		r.PreferredChain = v
	case "profile":
		r.Profile = v
	case "emailaddresses":
		r.EmailAddresses = splitList(v)
	case "disablecommonname":
		return parseBool(k, v, &r.DisableCommonName)
	case "certificatesduration":
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("--%s: %q is not a number of hours", k, v)
		}
		r.CertificatesDuration = n
	case "eab.kid":
		r.EABKid = v
	case "eab.hmacencoded":
		r.EABHMAC = v
	case "clienttimeout":
		return parseDuration(k, v, &r.ClientTimeout)
	case "clientresponseheadertimeout":
		return parseDuration(k, v, &r.ClientResponseHeaderTimeout)
	case "certificatetimeout":
		return parseDuration(k, v, &r.CertificateTimeout)
	case "cacertificates":
		r.CACertificates = splitList(v)
	case "casystemcertpool":
		return parseBool(k, v, &r.CASystemCertPool)
	case "caservername":
		r.CAServerName = v
	case "httpchallenge.entrypoint":
		r.HTTPEntryPoint = strings.ToLower(v)
	case "httpchallenge.delay":
		return parseDuration(k, v, &r.HTTPDelay)
	case "tlschallenge":
		return parseBool(k, v, &r.TLSChallenge)
	case "tlschallenge.delay":
		r.TLSChallenge = true
		return parseDuration(k, v, &r.TLSDelay)
	default:
		return fmt.Errorf("unknown option --%s", k)
	}
	return nil
}

// applyDNSChallenge reads dnsChallenge.* (the deprecated
// delayBeforeCheck and disablePropagationCheck map to the propagation
// options, as Traefik maps them).
func applyDNSChallenge(d *acme.DNSChallenge, k, field, v string) error {
	switch strings.TrimPrefix(field, "dnschallenge") {
	case "", ".propagation":
	case ".provider":
		d.Provider = v
	case ".resolvers":
		d.Resolvers = splitList(v)
	case ".propagation.disablechecks", ".disablepropagationcheck":
		return parseBool(k, v, &d.DisableChecks)
	case ".propagation.disableanschecks":
		return parseBool(k, v, &d.DisableANSChecks)
	case ".propagation.requireallrns":
		return parseBool(k, v, &d.RequireAllRNS)
	case ".propagation.delaybeforechecks", ".delaybeforecheck":
		return parseDuration(k, v, &d.DelayBeforeChecks)
	default:
		return fmt.Errorf("unknown option --%s", k)
	}
	return nil
}
