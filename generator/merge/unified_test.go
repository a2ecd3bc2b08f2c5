package merge

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnified(t *testing.T) {
	for _, c := range []struct {
		name             string
		oldName, newName string
		old, new         string
		want             string
	}{
		{
			name: "equal", oldName: "f", newName: "f", old: "a\n", new: "a\n",
			want: "",
		},
		{
			name: "one line changed", oldName: "f.go", newName: "f.go",
			old: "a\nb\nc\n", new: "a\nB\nc\n",
			want: "--- a/f.go\n+++ b/f.go\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n",
		},
		{
			name: "three lines of context, separate hunks", oldName: "f", newName: "f",
			old:  "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
			new:  "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\n",
			want: "--- a/f\n+++ b/f\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+twelve\n",
		},
		{
			name: "missing final newline added", oldName: "f", newName: "f",
			old:  "a\nb",
			new:  "a\nb\n",
			want: "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
		},
		{
			name: "created", oldName: "", newName: "cmd/main.go",
			old: "", new: "package main\n",
			want: "--- /dev/null\n+++ b/cmd/main.go\n@@ -0,0 +1 @@\n+package main\n",
		},
		{
			name: "deleted", oldName: "x.txt", newName: "",
			old: "a\nb\n", new: "",
			want: "--- a/x.txt\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Unified(c.oldName, c.newName, []byte(c.old), []byte(c.new))
			if got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// TestUnifiedApplies round-trips random edits through `git apply`, an
// independent reader of unified diffs.
func TestUnifiedApplies(t *testing.T) {
	if !gitAvailable() {
		t.Skip("git not found")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	dir := t.TempDir()
	for range 40 {
		var old []byte
		for range 3 {
			old = append(old, randomText(rng)...)
		}
		if len(old) == 0 || old[len(old)-1] != '\n' {
			old = append(old, '\n') // randomText may end without one mid-file
		}
		old = []byte(strings.ReplaceAll(string(old), "c", "c\n")) // "c" only at the end
		new := mutate(rng, mutate(rng, old))
		if rng.IntN(4) == 0 {
			new = append(new, "tail"...) // no final newline
		}
		d := Unified("f", "f", old, new)
		if err := os.WriteFile(filepath.Join(dir, "f"), old, 0o644); err != nil {
			t.Fatal(err)
		}
		if d == "" {
			if string(old) != string(new) {
				t.Fatalf("empty diff for different texts %q %q", old, new)
			}
			continue
		}
		cmd := exec.Command("git", "apply", "--unsafe-paths", "-")
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(d)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git apply: %v\n%s\ndiff:\n%s", err, out, d)
		}
		got, err := os.ReadFile(filepath.Join(dir, "f"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(new) {
			t.Fatalf("applying\n%s\nto %q gave %q, want %q", d, old, got, new)
		}
	}
}
