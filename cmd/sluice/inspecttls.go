package main

import (
	"net"
	"net/url"
	"strings"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/tlsconf"
)

// handshakeInfo is what `sluice route` says of a TLS request's
// handshake: the certificate and option it gets, or why it fails.
type handshakeInfo struct {
	ServerName  string `json:"serverName"`
	Option      string `json:"option,omitempty"`
	Certificate string `json:"certificate,omitempty"` // its source and names
	Result      string `json:"result"`
}

// handshake works out the handshake of a TLS request to target with
// server name sni on the first entry point of t, as a server would
// (tlsconf): nil, nil for a plain request (no --sni, not https); a nil
// connection when the handshake fails.
func handshake(t *route.Table, sni, target string) (*pipeline.ConnTLS, *handshakeInfo) {
	u, _ := url.Parse(target)
	if sni == "" && (u == nil || u.Scheme != "https") {
		return nil, nil
	}
	if sni == "" {
		sni = u.Hostname()
	}
	if net.ParseIP(sni) != nil {
		sni = "" // clients send no server name for an IP
	}
	info := &handshakeInfo{ServerName: sni}
	if t.TLS == nil || len(t.TLS.EntryPoints) == 0 {
		info.Result = "no TLS state"
		return nil, info
	}
	o := t.TLS.EntryPoints[0].For(strings.TrimSuffix(strings.ToLower(sni), "."))
	switch {
	case o == nil:
		info.Result = "closed: the TLS option of the routers serving this name is unknown or broken"
		return nil, info
	case o.Err != nil:
		info.Result = "closed: " + o.Err.Error()
		return nil, info
	}
	info.Option = o.Name
	c := t.TLS.Store.Match(strings.ToLower(sni))
	switch {
	case c == nil && o.SNIStrict:
		info.Result = "refused: no certificate for this name and the option is sniStrict"
		return nil, info
	case c == nil:
		c = t.TLS.Store.DefaultCert()
		info.Result = "succeeds, with the default certificate (none matches the name)"
	default:
		info.Result = "succeeds"
	}
	info.Certificate = c.Source + " (" + strings.Join(c.Names, ", ") + ")"
	if c == tlsconf.Generated() {
		info.Certificate = c.Source
	}
	return &pipeline.ConnTLS{Option: o.Name, ServerName: sni}, info
}
