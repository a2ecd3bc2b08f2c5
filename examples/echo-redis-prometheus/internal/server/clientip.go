package server

import (
	"net/http"
	"net/netip"
	"strings"
)

// forwardedForKey is X-Forwarded-For in the canonical form http.Header stores.
var forwardedForKey = http.CanonicalHeaderKey("X-Forwarded-For")

// clientResolver finds the address a request comes from, for the rate limit and the
// access log. It is the only place that does: the routers' own client-IP helpers
// (Gin's ClientIP, Echo's RealIP) are never used, so their defaults cannot leak in.
//
// Any client can send X-Forwarded-For, so the header is read only when the TCP peer
// is one of the trusted proxies (TRUSTED_PROXIES), and then from the right: each
// proxy appends the address it got the request from, so the entries a trusted proxy
// vouches for are on the right, and whatever the client wrote itself is on the left.
// The client is the first entry, from the right, that is not a trusted proxy.
type clientResolver struct {
	trusted []netip.Prefix
}

// addr returns the client's address; the zero Addr when the peer's is unreadable.
func (c clientResolver) addr(r *http.Request) netip.Addr {
	peer := parseHop(r.RemoteAddr)
	if !c.isTrusted(peer) {
		return peer
	}
	client := peer // the nearest address known; a hop that does not parse ends the walk
	values := r.Header[forwardedForKey]
	for i := len(values) - 1; i >= 0; i-- { // several header lines are one list, in order
		list := values[i]
		for list != "" {
			hop := list
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				hop, list = list[j+1:], list[:j]
			} else {
				list = ""
			}
			a := parseHop(strings.TrimSpace(hop))
			if !a.IsValid() {
				// Garbage from the client, or from a proxy that is not what the
				// operator trusted: nothing to the left of it can be believed.
				return client
			}
			if !c.isTrusted(a) {
				return a
			}
			client = a
		}
	}
	return client // every hop is a trusted proxy: the request started at the farthest one
}

func (c clientResolver) isTrusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads an address as RemoteAddr and X-Forwarded-For carry it: with or
// without a port, IPv6 with or without brackets. IPv4-mapped IPv6 becomes IPv4 and
// a zone is dropped, so one client has one form. The zero Addr when it does not parse.
//
// The form with a port is tried first when the last character is a digit (a hop
// without a port that ends in one is IPv4, which ParseAddrPort refuses at once): it
// is every RemoteAddr's, and a failed parse allocates its error on every request.
func parseHop(s string) netip.Addr {
	if s != "" && s[len(s)-1] >= '0' && s[len(s)-1] <= '9' && strings.Contains(s, ":") {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr().Unmap().WithZone("")
		}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' { // "[2001:db8::1]" without a port
				return parseHop(s[1 : len(s)-1])
			}
			return netip.Addr{}
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone("")
}

// clientKey is the rate-limit bucket of a client address: IPv4 addresses each have
// their own, IPv6 ones share their /64. A single IPv6 host usually has a whole /64 to
// pick addresses from (SLAAC, privacy extensions), so keying by address would let it
// rotate into fresh buckets at will and flush everyone else's from the table.
func clientKey(a netip.Addr) netip.Addr {
	if a.Is6() {
		p, _ := a.Prefix(64) // cannot fail for an IPv6 address and 64 bits
		return p.Addr()
	}
	return a
}

// clientString is a for the access log; the zero Addr is logged as "".
func clientString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
