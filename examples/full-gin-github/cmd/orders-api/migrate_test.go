package main

import (
	"strings"
	"testing"
)

func TestParseMigrate(t *testing.T) {
	for _, tc := range []struct {
		args  string
		sub   string
		steps int
	}{
		{"up", "up", 1},
		{"status", "status", 1},
		{"down", "down", 1},
		{"down 3", "down", 3},
	} {
		sub, steps, err := parseMigrate(strings.Fields(tc.args))
		if err != nil || sub != tc.sub || steps != tc.steps {
			t.Errorf("migrate %s = %q, %d, %v; want %q, %d", tc.args, sub, steps, err, tc.sub, tc.steps)
		}
	}
	for args, want := range map[string]string{
		"":         "migrate needs a subcommand: up, down or status",
		"sideways": `unknown migrate subcommand "sideways": use up, down or status`,
		"down 0":   "the number of steps must be a positive integer",
		"down two": "the number of steps must be a positive integer",
		"up 2":     "migrate up takes no arguments",
		"down 1 2": "migrate down takes at most one argument",
	} {
		_, _, err := parseMigrate(strings.Fields(args))
		if err == nil || !strings.Contains(err.Error(), want) || exitCode(err) != 2 {
			t.Errorf("migrate %s = %v (exit %d), want a usage error (exit 2) containing %q", args, err, exitCode(err), want)
		}
	}
}
