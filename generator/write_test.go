package generator

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func openRoot(t *testing.T, dir string) *os.Root {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

func TestApplyInPlaceWritesDeletesAndCleansUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "internal/cache"), 0o755)
	os.WriteFile(filepath.Join(dir, "internal/cache/cache.go"), []byte("package cache\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("old\n"), 0o644)
	changes := []Change{
		{Path: "internal/cache/cache.go", Action: Delete},
		{Path: "main.go", Action: Update, New: []byte("new\n"), Mode: 0o644},
		{Path: "scripts/run.sh", Action: Create, New: []byte("#!/bin/sh\n"), Mode: 0o755},
		{Path: "mine.txt", Action: Keep},
	}
	if err := applyInPlace(context.Background(), openRoot(t, dir), changes, nil); err != nil {
		t.Fatal(err)
	}
	if got := listTree(t, dir); !slices.Equal(got, []string{"main.go", "scripts/run.sh"}) {
		t.Errorf("tree %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "internal")); !os.IsNotExist(err) {
		t.Errorf("empty directories left after the delete: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "main.go")); string(data) != "new\n" {
		t.Errorf("main.go = %q", data)
	}
	if info, _ := os.Stat(filepath.Join(dir, "scripts/run.sh")); info.Mode().Perm() != 0o755 {
		t.Errorf("run.sh mode %v", info.Mode())
	}
}

func TestApplyInPlaceNeverLeavesTheServiceDirectory(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "svc")
	outside := filepath.Join(parent, "outside")
	os.MkdirAll(dir, 0o755)
	os.MkdirAll(outside, 0o755)
	os.Symlink(outside, filepath.Join(dir, "link")) // a symlink in the service pointing out of it
	for _, p := range []string{"../escape.txt", "link/escape.txt", "/etc/escape.txt"} {
		err := applyInPlace(context.Background(), openRoot(t, dir), []Change{{Path: p, Action: Create, New: []byte("x\n")}}, nil)
		if err == nil {
			t.Errorf("%s: written", p)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("wrote outside the service: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(parent, "escape.txt")); err == nil {
		t.Error("wrote ../escape.txt")
	}
}

func TestApplyInPlaceFailingWriteChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "blocker"), []byte("a file where a directory must go\n"), 0o644)
	changes := []Change{
		{Path: "a.txt", Action: Update, New: []byte("A\n")},
		{Path: "blocker/b.txt", Action: Create, New: []byte("b\n")},
	}
	if err := applyInPlace(context.Background(), openRoot(t, dir), changes, nil); err == nil {
		t.Fatal("no error")
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(data) != "a\n" {
		t.Errorf("a.txt changed to %q although the plan failed", data)
	}
	if got := listTree(t, dir); !slices.Equal(got, []string{"a.txt", "blocker"}) {
		t.Errorf("temporaries left behind: %v", got)
	}
}
