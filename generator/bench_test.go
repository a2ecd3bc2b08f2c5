package generator

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
)

// benchSpec is the fullest stack the embedded templates offer: every group takes its first
// non-"none" choice, so the benchmark grows with the templates.
func benchSpec(b *testing.B, c *Catalog) Spec {
	b.Helper()
	s := Spec{Name: "bench-svc", Module: "example.com/bench-svc"}
	for _, g := range Groups {
		*s.Field(g.Name) = c.Choices(g.Name)[0]
	}
	if err := s.Validate(c); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkRender(b *testing.B) {
	c, err := LoadTemplates("")
	if err != nil {
		b.Fatal(err)
	}
	s := benchSpec(b, c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(s, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlanNew(b *testing.B) {
	c, _ := LoadTemplates("")
	files, err := Render(benchSpec(b, c), c)
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "absent")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PlanNew(dir, files, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderApply is `svcgen new --no-tidy` without the process start: catalog, render,
// plan, staged write, manifest and the final rename.
func BenchmarkRenderApply(b *testing.B) {
	c, _ := LoadTemplates("")
	s := benchSpec(b, c)
	root := b.TempDir()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		dir := filepath.Join(root, strconv.Itoa(i))
		if _, err := New(context.Background(), c, NewOptions{Spec: s, Dir: dir}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadTemplates(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadTemplates(""); err != nil {
			b.Fatal(err)
		}
	}
}
