package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestComponentsListsGroupsAndMarksAService(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "components", "-C", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"HTTP framework (--framework, default gin)", "echo", "Echo v5", "no CI system"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "*") {
		t.Errorf("outside a service nothing should be marked:\n%s", out)
	}

	dir := filepath.Join(t.TempDir(), "svc")
	if code, _, stderr := runCLI(t, "new", "svc", "-y", "--framework", "echo", "--no-tidy", "-o", dir); code != 0 {
		t.Fatal(stderr)
	}
	_, out, _ = runCLI(t, "components", "-C", dir)
	if !regexpMatch(`\*\s+echo`, out) || regexpMatch(`\*\s+gin`, out) || !strings.Contains(out, "enabled in svc") {
		t.Errorf("echo not marked (or gin marked) inside the service:\n%s", out)
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "__complete", "new", "--framework", "")
	if code != 0 || !strings.Contains(out, "echo\ngin\n") {
		t.Errorf("flag value completion: exit %d\n%s", code, out)
	}
	// Component names: add offers those of every group, remove, regen and diff outside a
	// service too (inside one, its own: TestOverlayAddsAGroup).
	for _, cmd := range []string{"add", "remove", "regen", "diff"} {
		code, out, _ := runCLI(t, "__complete", cmd, "-C", t.TempDir(), "")
		if code != 0 || !strings.Contains(out, "redis\n") || strings.Contains(out, "core\n") {
			t.Errorf("%s: component completion: exit %d\n%s", cmd, code, out)
		}
	}
	if _, out, _ := runCLI(t, "__complete", "set", ""); !strings.Contains(out, "framework\ndatabase\n") {
		t.Errorf("set: group completion:\n%s", out)
	}
	if _, out, _ := runCLI(t, "__complete", "set", "cache", ""); !strings.Contains(out, "redis\nnone\n") {
		t.Errorf("set cache: value completion:\n%s", out)
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, _ := runCLI(t, "completion", shell)
		if code != 0 || !strings.Contains(out, "svcgen") {
			t.Errorf("completion %s: exit %d", shell, code)
		}
	}
}

func TestComponentsListsSlots(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "components", "--slots")
	if code != 0 || !regexpMatch(`(?m)^main\.imports\s+import lines`, out) || !strings.Contains(out, "main.wiring") {
		t.Errorf("components --slots: exit %d\n%s", code, out)
	}
}
