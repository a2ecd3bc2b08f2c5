package config

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestLoadTrustedProxies(t *testing.T) {
	for raw, want := range map[string][]netip.Prefix{
		"":                       nil,
		",":                      nil, // only separators
		"127.0.0.1/32":           {netip.MustParsePrefix("127.0.0.1/32")},
		"10.1.2.3/8":             {netip.MustParsePrefix("10.0.0.0/8")}, // masked
		"::1":                    {netip.MustParsePrefix("::1/128")},
		"::ffff:10.0.0.0/104":    {netip.MustParsePrefix("10.0.0.0/8")}, // mapped: compared as IPv4
		"fd00::/8,172.16.0.0/12": {netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("172.16.0.0/12")},
	} {
		cfg, err := Load(env(map[string]string{"TRUSTED_PROXIES": raw}))
		if err != nil {
			t.Fatalf("TRUSTED_PROXIES=%q: %v", raw, err)
		}
		if !reflect.DeepEqual(cfg.TrustedProxies, want) {
			t.Errorf("TRUSTED_PROXIES=%q: got %v, want %v", raw, cfg.TrustedProxies, want)
		}
	}
}
