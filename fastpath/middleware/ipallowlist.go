package middleware

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"unsafe"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// IPAllowList is Traefik's ipAllowList (and its deprecated ipWhiteList):
// requests whose client IP, as the IP strategy finds it, is in none of
// SourceRange are answered RejectStatusCode (403) with its status text
// (traefik v3.7 pkg/middlewares/ipallowlist, pkg/ip).
type IPAllowList struct {
	SourceRange      []string
	Strategy         *IPStrategy // nil: the connection's address
	RejectStatusCode int
}

// IPStrategy says which address is the client's: the Depth-th from the
// end of X-Forwarded-For, else the last one not in ExcludedIPs, else the
// connection's; IPv6Subnet widens an IPv6 address to its subnet.
type IPStrategy struct {
	Depth       int
	ExcludedIPs []string
	IPv6Subnet  *int
}

// Middleware builds it; an empty or unparsable range, an unknown status
// and an IPv6 subnet outside 1-128 are errors, as in Traefik.
func (a IPAllowList) Middleware() (pipeline.Middleware, error) {
	if len(a.SourceRange) == 0 {
		return nil, errors.New("sourceRange is empty, IPAllowLister not created")
	}
	code := a.RejectStatusCode
	if code == 0 {
		code = http.StatusForbidden
	} else if http.StatusText(code) == "" {
		return nil, fmt.Errorf("invalid HTTP status code %d", code)
	}
	allowed, err := newIPChecker(a.SourceRange)
	if err != nil {
		return nil, fmt.Errorf("cannot parse CIDRs %s: %w", a.SourceRange, err)
	}
	get, err := a.Strategy.getter()
	if err != nil {
		return nil, err
	}
	body := []byte(http.StatusText(code))
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			if ip, ok := get(x); !ok || !allowed.contains(ip) {
				x.RespondStatusText(code, body)
				return
			}
			next.Serve(x)
		})
	}, nil
}

// ipChecker is Traefik's ip.Checker on netip: single addresses and
// networks. Go's net.IP compares an IPv4 address equal to its IPv4-mapped
// IPv6 form, and an IPv4 network holds both, while an IPv6 network never
// holds an IPv4 address: addresses are unmapped before matching.
type ipChecker struct{ prefixes []netip.Prefix }

func newIPChecker(ranges []string) (*ipChecker, error) {
	if len(ranges) == 0 {
		return nil, errors.New("no trusted IPs provided")
	}
	c := &ipChecker{}
	for _, r := range ranges {
		if ip := net.ParseIP(r); ip != nil {
			a, _ := netip.AddrFromSlice(ip)
			a = a.Unmap()
			c.prefixes = append(c.prefixes, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		_, n, err := net.ParseCIDR(r)
		if err != nil {
			return nil, fmt.Errorf("parsing CIDR trusted IPs %s: %w", r, err)
		}
		a, _ := netip.AddrFromSlice(n.IP) // 4 bytes for an IPv4 network, 16 for IPv6
		ones, _ := n.Mask.Size()
		c.prefixes = append(c.prefixes, netip.PrefixFrom(a, ones))
	}
	return c, nil
}

func (c *ipChecker) contains(a netip.Addr) bool {
	a = a.WithZone("").Unmap()
	for _, p := range c.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// containsText is Checker.Contains on an address as text; false for one
// that does not parse.
func (c *ipChecker) containsText(s []byte) bool {
	a, err := netip.ParseAddr(string(s))
	return err == nil && c.contains(a)
}

// getter returns the strategy's client IP finder: ok false when there is
// no address, or it does not parse (Traefik then rejects the request).
func (s *IPStrategy) getter() (func(x *pipeline.Exchange) (netip.Addr, bool), error) {
	if s == nil {
		return remoteIP(nil), nil
	}
	validSubnet := s.IPv6Subnet == nil || *s.IPv6Subnet > 0 && *s.IPv6Subnet <= 128
	if s.Depth > 0 {
		if !validSubnet {
			return nil, fmt.Errorf("invalid IPv6 subnet %d value, should be greater to 0 and lower or equal to 128", *s.IPv6Subnet)
		}
		depth, subnet := s.Depth, s.IPv6Subnet
		return func(x *pipeline.Exchange) (netip.Addr, bool) {
			xff := x.PriorForwardedFor()
			n := bytes.Count(xff, []byte(",")) + 1
			if n < depth {
				return netip.Addr{}, false
			}
			return authorizedAddr(withSubnet(nthField(xff, n-depth), subnet))
		}, nil
	}
	if len(s.ExcludedIPs) > 0 {
		excluded, err := newIPChecker(s.ExcludedIPs)
		if err != nil {
			return nil, err
		}
		return func(x *pipeline.Exchange) (netip.Addr, bool) {
			fields := x.PriorForwardedFor()
			for end := len(fields); end >= 0; {
				start := bytes.LastIndexByte(fields[:end], ',') + 1
				v := bytes.TrimSpace(fields[start:end])
				if len(v) > 0 && !excluded.containsText(v) {
					return authorizedAddr(v)
				}
				end = start - 1
			}
			return netip.Addr{}, false
		}, nil
	}
	if !validSubnet {
		return nil, fmt.Errorf("invalid IPv6 subnet %d value, should be greater to 0 and lower or equal to 128", *s.IPv6Subnet)
	}
	return remoteIP(s.IPv6Subnet), nil
}

// remoteIP is the connection's address, widened to an IPv6 subnet.
func remoteIP(subnet *int) func(x *pipeline.Exchange) (netip.Addr, bool) {
	return func(x *pipeline.Exchange) (netip.Addr, bool) {
		a := x.Req.ClientIP
		if subnet != nil && a.Is6() {
			if p, err := a.WithZone("").Prefix(*subnet); err == nil {
				a = p.Addr()
			}
		}
		return a, a.IsValid()
	}
}

// nthField is the i-th comma-separated field of s, spaces trimmed.
func nthField(s []byte, i int) []byte {
	for ; i > 0; i-- {
		s = s[bytes.IndexByte(s, ',')+1:]
	}
	if j := bytes.IndexByte(s, ','); j >= 0 {
		s = s[:j]
	}
	return bytes.TrimSpace(s)
}

// withSubnet is Traefik's getIPv6SubnetIP: an IPv6 address becomes its
// subnet's first address; anything else stays as it is.
func withSubnet(ip []byte, subnet *int) []byte {
	if subnet == nil {
		return ip
	}
	a, err := netip.ParseAddr(string(ip))
	if err != nil || !a.Is6() {
		return ip
	}
	p, err := a.Prefix(*subnet)
	if err != nil {
		return ip
	}
	return []byte(p.Addr().String())
}

// authorizedAddr is what Checker.IsAuthorized parses of an address: the
// host of host:port, else the whole.
func authorizedAddr(s []byte) (netip.Addr, bool) {
	// A bare address first, without copying it: SplitHostPort fails on
	// every string that parses as one (no colon, or an IPv6 address's
	// several), so the result is the same. The parsed Addr keeps nothing
	// of the string (a zone is copied).
	if len(s) > 0 {
		if a, err := netip.ParseAddr(unsafe.String(&s[0], len(s))); err == nil {
			return a, true
		}
	}
	host := string(s)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	return a, err == nil
}
