package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegenMovesAServiceOntoAnOverlay: `regen --templates DIR` renders with the overlay, records
// it, and later commands use the recorded overlay without being told.
func TestRegenMovesAServiceOntoAnOverlay(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "svc")
	if code, _, stderr := runCLI(t, "new", "svc", "-y", "--no-tidy", "-o", dir); code != 0 {
		t.Fatal(stderr)
	}
	overlay := t.TempDir()
	os.MkdirAll(filepath.Join(overlay, "core"), 0o755)
	os.WriteFile(filepath.Join(overlay, "core", "NOTES.md.tmpl"), []byte("notes for {{ .Name }}\n"), 0o644)

	code, stdout, stderr := runCLI(t, "regen", "--no-tidy", "--templates", overlay, "-C", dir)
	if code != 0 || !strings.Contains(stdout, "create    NOTES.md (core)") {
		t.Fatalf("regen --templates: exit %d\n%s%s", code, stdout, stderr)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "NOTES.md")); string(data) != "notes for svc\n" {
		t.Errorf("NOTES.md = %q", data)
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, ".svcgen.yaml"))
	rel, _ := filepath.Rel(dir, overlay)
	if !strings.Contains(string(manifest), "templates: "+rel) {
		t.Errorf("overlay not recorded:\n%s", manifest)
	}
	// Without the flag, the recorded overlay is used: nothing to do, and --check passes.
	for _, args := range [][]string{{"regen", "--no-tidy"}, {"regen", "--check"}} {
		if code, stdout, stderr := runCLI(t, append(args, "-C", dir)...); code != 0 || strings.Contains(stdout, "delete") {
			t.Errorf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
	}
	// --templates "" leaves the overlay: its unedited file goes.
	code, stdout, stderr = runCLI(t, "regen", "--no-tidy", "--templates", "", "-C", dir)
	if code != 0 || !strings.Contains(stdout, "delete    NOTES.md (core)") {
		t.Errorf("regen --templates '': exit %d\n%s%s", code, stdout, stderr)
	}
}
