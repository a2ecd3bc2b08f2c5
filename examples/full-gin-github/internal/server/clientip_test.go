package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientResolver(t *testing.T) {
	trusted := clientResolver{trusted: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8"),
	}}
	tests := []struct {
		name     string
		resolver clientResolver
		peer     string
		xff      []string // one entry per header line
		want     string
	}{
		{"no proxies trusted: the header is ignored", clientResolver{}, "10.0.0.1:5000", []string{"203.0.113.7"}, "10.0.0.1"},
		{"untrusted peer: the header is ignored", trusted, "198.51.100.9:5000", []string{"203.0.113.7"}, "198.51.100.9"},
		{"trusted peer, one hop", trusted, "10.0.0.1:5000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"trusted peer, no header: the proxy itself", trusted, "10.0.0.1:5000", nil, "10.0.0.1"},
		{"spoofed leftmost entries are skipped", trusted, "10.0.0.1:5000", []string{"1.2.3.4, 5.6.7.8, 203.0.113.7"}, "203.0.113.7"},
		{"trusted hops are walked past, right to left", trusted, "10.0.0.1:5000", []string{"1.2.3.4, 203.0.113.7, 10.9.9.9, 10.0.0.2"}, "203.0.113.7"},
		{"several header lines are one list in order", trusted, "10.0.0.1:5000", []string{"1.2.3.4, 203.0.113.7", "10.0.0.3"}, "203.0.113.7"},
		{"the last line's untrusted entry wins", trusted, "10.0.0.1:5000", []string{"203.0.113.7", "198.51.100.1"}, "198.51.100.1"},
		{"every hop trusted: the farthest one", trusted, "10.0.0.1:5000", []string{"10.0.0.9, 10.0.0.8"}, "10.0.0.9"},
		{"IPv6 client", trusted, "10.0.0.1:5000", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv6 client with brackets and port", trusted, "10.0.0.1:5000", []string{"[2001:db8::7]:4711"}, "2001:db8::7"},
		{"IPv6 client in brackets", trusted, "10.0.0.1:5000", []string{"[2001:db8::7]"}, "2001:db8::7"},
		{"IPv4 client with a port", trusted, "10.0.0.1:5000", []string{"203.0.113.7:4711"}, "203.0.113.7"},
		{"IPv6 trusted peer", trusted, "[fd00::1]:5000", []string{"203.0.113.7, fd12::2"}, "203.0.113.7"},
		{"IPv4-mapped entry is IPv4", trusted, "10.0.0.1:5000", []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{"IPv4-mapped trusted peer", trusted, "[::ffff:10.0.0.1]:5000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"zone dropped", trusted, "10.0.0.1:5000", []string{"fe80::1%eth0"}, "fe80::1"},
		{"garbage right of the client: the hop that sent it", trusted, "10.0.0.1:5000", []string{"203.0.113.7, unknown"}, "10.0.0.1"},
		{"garbage past a trusted hop: that hop", trusted, "10.0.0.1:5000", []string{"evil, 10.0.0.5"}, "10.0.0.5"},
		{"garbage left of the client is never read", trusted, "10.0.0.1:5000", []string{"<script>, 203.0.113.7"}, "203.0.113.7"},
		{"an empty entry ends the walk like garbage", trusted, "10.0.0.1:5000", []string{"203.0.113.7 ,"}, "10.0.0.1"},
		{"an address out of range is garbage", trusted, "10.0.0.1:5000", []string{"999.1.1.1"}, "10.0.0.1"},
		{"unreadable peer", trusted, "pipe", []string{"203.0.113.7"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/v1/items", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientString(tt.resolver.addr(r)); got != tt.want {
				t.Errorf("peer %s, X-Forwarded-For %q: client %q, want %q", tt.peer, tt.xff, got, tt.want)
			}
		})
	}
}

// FuzzClientResolver holds the resolver to its promises on any header: an untrusted
// peer is the client whatever it sends; behind a trusted one the client is the peer or
// an entry of the header, and every entry right of it is a trusted proxy.
func FuzzClientResolver(f *testing.F) {
	for _, seed := range []string{"203.0.113.7", "1.2.3.4, 203.0.113.7, 10.0.0.2", "[2001:db8::7]:80", "evil, 10.0.0.5", ",,", "::ffff:10.0.0.1", ""} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	resolver := clientResolver{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	f.Fuzz(func(t *testing.T, xff string, trustedPeer bool) {
		peer := netip.MustParseAddr("198.51.100.1")
		if trustedPeer {
			peer = netip.MustParseAddr("10.0.0.1")
		}
		r := httptest.NewRequest(http.MethodGet, "/v1/items", nil)
		r.RemoteAddr = netip.AddrPortFrom(peer, 5000).String()
		r.Header.Set("X-Forwarded-For", xff)
		got := resolver.addr(r)
		if !trustedPeer {
			if got != peer {
				t.Fatalf("untrusted peer %s sending %q: client %s, want the peer", peer, xff, got)
			}
			return
		}
		if got == peer {
			return
		}
		hops := strings.Split(xff, ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a := parseHop(strings.TrimSpace(hops[i]))
			if a == got {
				return
			}
			if !resolver.isTrusted(a) {
				t.Fatalf("X-Forwarded-For %q: client %s, but %q right of it is not a trusted proxy", xff, got, hops[i])
			}
		}
		t.Fatalf("X-Forwarded-For %q: client %s is neither the peer nor an entry", xff, got)
	})
}
