package generator

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newInto(t *testing.T, dir string, mutate func(*NewOptions)) (*NewResult, error) {
	t.Helper()
	opts := NewOptions{Spec: testSpec(), Dir: dir}
	if mutate != nil {
		mutate(&opts)
	}
	return New(context.Background(), testCatalog(t), opts)
}

// listTree returns every path under dir, relative and slash-separated.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func TestNewWritesFilesAndManifest(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "svc")
	res, err := newInto(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Count(Create) != len(res.Plan.Changes) {
		t.Errorf("plan for an absent dir should only create: %+v", res.Plan.Changes)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Answers.Equal(testSpec()) || m.Generator != Version || m.Format != ManifestFormat {
		t.Errorf("manifest header: %+v", m)
	}
	files := listTree(t, dir)
	if len(files) != len(m.Files)+1 {
		t.Fatalf("tree %v vs manifest %d files", files, len(m.Files))
	}
	for _, mf := range m.Files {
		data, err := os.ReadFile(filepath.Join(dir, mf.Path))
		if err != nil {
			t.Fatal(err)
		}
		if Hash(data) != mf.SHA256 {
			t.Errorf("%s: hash mismatch", mf.Path)
		}
	}
	if info, _ := os.Stat(filepath.Join(dir, "scripts/run.sh")); info.Mode().Perm() != 0o755 {
		t.Errorf("run.sh mode %v", info.Mode())
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o755 {
		t.Errorf("service dir mode %v", info.Mode())
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".svcgen-stage-*"))
	if len(leftovers) > 0 {
		t.Errorf("stage left behind: %v", leftovers)
	}
}

func TestNewRefusesNonEmptyTarget(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("theirs\n"), 0o644)
	_, err := newInto(t, dir, nil)
	if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("err = %v", err)
	}
	if got := listTree(t, dir); len(got) != 1 {
		t.Fatalf("something was written: %v", got)
	}
	res, err := newInto(t, dir, func(o *NewOptions) { o.Force = true })
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Plan.Changes {
		if c.Path == "README.md" && c.Action != Overwrite {
			t.Errorf("README.md action %s, want overwrite", c.Action)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(data) != "copied {{ as is }}\n" {
		t.Errorf("README.md = %q", data)
	}
}

func TestNewIntoEmptyExistingDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := newInto(t, dir, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadManifest(dir); err != nil {
		t.Fatal(err)
	}
}

func TestNewWritesNothingOnBadInputOrDryRunOrCancel(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "svc")
	if _, err := newInto(t, dir, func(o *NewOptions) { o.Spec = o.Spec.With("framework", "nope") }); err == nil {
		t.Fatal("invalid spec accepted")
	}
	res, err := newInto(t, dir, func(o *NewOptions) { o.DryRun = true })
	if err != nil || len(res.Plan.Changes) == 0 {
		t.Fatalf("dry run: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(ctx, testCatalog(t), NewOptions{Spec: testSpec(), Dir: dir}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: err = %v", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("something was written: %v", entries)
	}
}

func TestNewIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	for _, d := range []string{a, b} {
		if _, err := newInto(t, d, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range listTree(t, a) {
		x, _ := os.ReadFile(filepath.Join(a, p))
		y, err := os.ReadFile(filepath.Join(b, p))
		if err != nil || string(x) != string(y) {
			t.Errorf("%s differs", p)
		}
	}
}

func TestAnswersFileAndManifestAreInterchangeable(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "svc")
	if _, err := newInto(t, dir, nil); err != nil {
		t.Fatal(err)
	}
	s, err := ReadAnswersFor(filepath.Join(dir, ManifestName), testCatalog(t))
	if err != nil || !s.Equal(testSpec()) {
		t.Fatalf("manifest as answers: %+v, %v", s, err)
	}
	bad := filepath.Join(t.TempDir(), "a.yaml")
	os.WriteFile(bad, []byte("name: x\ndatabse: postgres\n"), 0o644)
	_, err = ReadAnswersFor(bad, testCatalog(t))
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "databse") || !strings.Contains(err.Error(), "database") {
		t.Fatalf("unknown key: err = %v", err)
	}
}
