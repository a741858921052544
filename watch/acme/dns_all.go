//go:build alldns

package acme

import (
	"github.com/go-acme/lego/v5/challenge"
	"github.com/go-acme/lego/v5/providers/dns"
)

// Built with -tags alldns, every lego DNS provider Traefik offers is
// there (the binary grows by about 55 MB).
func init() {
	allDNSProviders = func(name string) (challenge.Provider, error) { return dns.NewDNSChallengeProviderByName(name) }
}
