package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type planOut struct {
	Service string
	Dir     string
	DryRun  bool `json:"dry_run"`
	Changes []struct{ Path, Component, Action, Reason, Diff string }
}

func decodePlan(t *testing.T, stdout string) planOut {
	t.Helper()
	var p planOut
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatalf("stdout is not the JSON plan: %v\n%s", err, stdout)
	}
	return p
}

func TestJSONPlans(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "svc")
	code, stdout, stderr := runCLI(t, "new", "svc", "-y", "--dry-run", "--format", "json", "-o", dir)
	if code != 0 {
		t.Fatal(stderr)
	}
	p := decodePlan(t, stdout)
	if p.Service != "svc" || !p.DryRun || len(p.Changes) == 0 || p.Changes[0].Action != "create" {
		t.Fatalf("new --dry-run plan: %+v", p)
	}
	assertEmptyDir(t, parent)

	if code, _, stderr := runCLI(t, "new", "svc", "-y", "--no-tidy", "-o", dir); code != 0 {
		t.Fatal(stderr)
	}
	os.Remove(filepath.Join(dir, "README.md"))
	// diff --output json (the alias) and regen --dry-run --format json show the change and its diff.
	for _, args := range [][]string{{"diff", "--output", "json"}, {"regen", "--dry-run", "--format", "json", "--no-tidy"}} {
		code, stdout, stderr := runCLI(t, append(args, "-C", dir)...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, stderr)
		}
		p := decodePlan(t, stdout)
		found := false
		for _, c := range p.Changes {
			if c.Path == "README.md" && c.Action == "create" {
				found = strings.Contains(c.Diff, "+++ b/README.md\n")
			}
		}
		if !found {
			t.Errorf("%v: README.md creation with its diff missing: %s", args, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err == nil {
		t.Error("a dry run wrote")
	}
	if code, _, stderr := runCLI(t, "diff", "--format", "yaml", "-C", dir); code == 0 || !strings.Contains(stderr, "text, json") {
		t.Errorf("bad --format: exit %d %s", code, stderr)
	}
}
