package config

import (
	"net/netip"
	"strings"
)

// maxRateLimitClients bounds RATE_LIMIT_CLIENTS: about 100 bytes each, 10 million
// clients are a gigabyte.
const maxRateLimitClients = 10_000_000

// prefixes reads a comma-separated list of CIDRs, such as TRUSTED_PROXIES
// ("10.0.0.0/8, 192.168.1.10/32"); a bare address stands for itself alone. Unset
// or empty is none. IPv4-mapped IPv6 prefixes are read as the IPv4 ones they map,
// since the server compares addresses in that form.
func (l *loader) prefixes(name string) []netip.Prefix {
	raw, ok := l.lookup(name)
	if !ok {
		return nil
	}
	var out []netip.Prefix
	for item := range strings.SplitSeq(raw, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil || a.Zone() != "" {
				l.fail(name, "must be a comma-separated list of CIDRs (e.g. 10.0.0.0/8,192.168.1.10/32), got %q in it", item)
				return nil
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out
}
