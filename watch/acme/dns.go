package acme

import (
	"fmt"
	"slices"

	"github.com/go-acme/lego/v5/challenge"
	"github.com/go-acme/lego/v5/challenge/dns01"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/providers/dns/cloudflare"
	"github.com/go-acme/lego/v5/providers/dns/digitalocean"
	"github.com/go-acme/lego/v5/providers/dns/exec"
	"github.com/go-acme/lego/v5/providers/dns/httpreq"
	"github.com/go-acme/lego/v5/providers/dns/route53"
)

// dnsProviders are the lego DNS providers compiled into Sluice, each
// configured by its environment variables as in Traefik (EXEC_PATH,
// HTTPREQ_ENDPOINT, CF_DNS_API_TOKEN, AWS_*, DO_AUTH_TOKEN, ...). Traefik
// links all of lego's (about 200, with their cloud SDKs); Sluice keeps the
// binary small with the two generic ones (exec and httpreq reach any DNS
// API through a script or a web hook) and the three most used clouds;
// `go build -tags alldns` links all of lego's (dns_all.go).
var dnsProviders = map[string]func() (challenge.Provider, error){
	"exec":         func() (challenge.Provider, error) { return exec.NewDNSProvider() },
	"httpreq":      func() (challenge.Provider, error) { return httpreq.NewDNSProvider() },
	"cloudflare":   func() (challenge.Provider, error) { return cloudflare.NewDNSProvider() },
	"route53":      func() (challenge.Provider, error) { return route53.NewDNSProvider() },
	"digitalocean": func() (challenge.Provider, error) { return digitalocean.NewDNSProvider() },
}

// allDNSProviders, in a binary built with -tags alldns (dns_all.go), is
// every provider of lego by name, as Traefik's; nil otherwise.
var allDNSProviders func(name string) (challenge.Provider, error)

func knownDNSProvider(name string) bool { return dnsProviders[name] != nil || allDNSProviders != nil }

func dnsProviderNames() []string {
	var out []string
	for n := range dnsProviders {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// setDNS01 is Traefik's DNS-01 set-up: resolvers replace the recursive
// name servers lego checks the TXT record with (process-wide, as in
// Traefik), and the propagation options map to lego's.
func setDNS01(client *lego.Client, c DNSChallenge) error {
	if len(c.Resolvers) > 0 {
		dns01.SetDefaultClient(dns01.NewClient(&dns01.Options{RecursiveNameservers: c.Resolvers}))
	}
	var provider challenge.Provider
	var err error
	if f := dnsProviders[c.Provider]; f != nil {
		provider, err = f()
	} else {
		provider, err = allDNSProviders(c.Provider)
	}
	if err != nil {
		return fmt.Errorf("dnsChallenge.provider %s: %w", c.Provider, err)
	}
	return client.Challenge.SetDNS01Provider(provider,
		dns01.CondOptions(c.DisableANSChecks, dns01.DisableAuthoritativeNssPropagationRequirement()),
		dns01.CondOptions(!c.RequireAllRNS, dns01.DisableRecursiveNSsPropagationRequirement()),
		dns01.PropagationWait(c.DelayBeforeChecks, c.DisableChecks))
}
