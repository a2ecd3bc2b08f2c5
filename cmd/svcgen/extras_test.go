package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOverlayAddsAGroup: an overlay whose component declares a new group (extras) is a flag of
// new, a prompt-free default (none), a manifest key after svcgen's own groups, a group of
// components, and add/remove/completion work on it like on any other.
func TestOverlayAddsAGroup(t *testing.T) {
	t.Parallel()
	overlay, err := filepath.Abs(filepath.Join("testdata", "extras"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "components", "--templates", overlay)
	if code != 0 || !strings.Contains(out, "Extras (--extras, default none)") || !regexpMatch(`hello\s+Says hello`, out) {
		t.Fatalf("components --templates: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCLI(t, "new", "--help", "--templates", overlay)
	if code != 0 || !strings.Contains(out, "--extras string") || !strings.Contains(out, "extras: hello|none (default none)") {
		t.Errorf("new --help --templates lacks --extras:\n%s", out)
	}
	if _, out, _ := runCLI(t, "__complete", "new", "--templates", overlay, "--extras", ""); !strings.Contains(out, "hello\nnone\n") {
		t.Errorf("completion of --extras:\n%s", out)
	}

	dir := filepath.Join(t.TempDir(), "svc")
	if code, _, stderr := runCLI(t, "new", "svc", "-y", "--no-tidy", "--templates", overlay, "--extras", "hello", "-o", dir); code != 0 {
		t.Fatal(stderr)
	}
	if got := readFile(t, dir, "hello.txt"); got != "hello from svc (hello)\n" {
		t.Errorf("hello.txt = %q", got)
	}
	if got := readFile(t, dir, "EXTRAS.md"); got != "## Hello\n\nsvc says hello.\n" {
		t.Errorf("EXTRAS.md (a slot filled by hello) = %q", got)
	}
	if m := readFile(t, dir, ".svcgen.yaml"); !strings.Contains(m, "  deploy: kubernetes\n  extras: hello\n") {
		t.Errorf("manifest does not record extras after svcgen's groups:\n%s", m)
	}
	if _, out, _ := runCLI(t, "__complete", "remove", "-C", dir, ""); !strings.Contains(out, "hello\n") || strings.Contains(out, "redis") {
		t.Errorf("completion of remove: want the service's components, hello among them:\n%s", out)
	}

	if code, out, stderr := runCLI(t, "remove", "hello", "--no-tidy", "-C", dir); code != 0 || !strings.Contains(out, "delete    hello.txt (hello)") {
		t.Fatalf("remove hello: exit %d\n%s%s", code, out, stderr)
	}
	for _, gone := range []string{"hello.txt", "EXTRAS.md"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s left after remove hello", gone)
		}
	}
	if m := readFile(t, dir, ".svcgen.yaml"); !strings.Contains(m, "  extras: none\n") {
		t.Errorf("manifest after remove:\n%s", m)
	}
	if _, out, _ := runCLI(t, "__complete", "add", "-C", dir, ""); !strings.Contains(out, "hello\n") || strings.Contains(out, "gin\n") {
		t.Errorf("completion of add: want components not in the service, hello among them:\n%s", out)
	}
	if code, out, stderr := runCLI(t, "add", "hello", "--no-tidy", "-C", dir); code != 0 || !strings.Contains(out, "create    hello.txt (hello)") {
		t.Fatalf("add hello: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCLI(t, "components", "-C", dir)
	if code != 0 || !regexpMatch(`\*\s+hello`, out) {
		t.Errorf("components in the service (its recorded overlay) does not mark hello:\n%s", out)
	}
	if code, out, stderr := runCLI(t, "regen", "--check", "-C", dir); code != 0 {
		t.Errorf("regen --check after add: exit %d\n%s%s", code, out, stderr)
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Error(err)
	}
	return string(data)
}
