package config

import (
	"strings"
	"testing"
)

func TestPort(t *testing.T) {
	cases := []struct {
		env     string
		want    int
		wantErr bool
	}{
		{"", 8080, false},
		{"9090", 9090, false},
		{" 0 ", 0, false},
		{"eighty", 0, true},
		{"70000", 0, true},
		{"-1", 0, true},
	}
	for _, tc := range cases {
		got, err := Port(func(k string) string {
			if k == "PORT" {
				return tc.env
			}
			return "not read" // Port must read PORT only
		})
		if tc.wantErr {
			if err == nil || !strings.Contains(err.Error(), "PORT") {
				t.Errorf("Port(%q) = %d, %v; want an error naming PORT", tc.env, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Port(%q) = %d, %v; want %d", tc.env, got, err, tc.want)
		}
	}
}
