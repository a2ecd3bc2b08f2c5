package generator

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
)

// benchSpec is the fullest stack the embedded templates offer (every group takes its first
// choice, so the benchmark grows with the templates) or, with core, the core service alone: a
// framework and nothing else.
func benchSpec(b *testing.B, c *Catalog, core bool) Spec {
	b.Helper()
	s := Spec{Name: "bench-svc", Module: "example.com/bench-svc"}
	for _, g := range c.Groups() {
		s = s.With(g.Name, c.Choices(g.Name)[0])
		if core && g.Optional {
			s = s.With(g.Name, None)
		}
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
	for _, stack := range []string{"core", "full"} {
		s := benchSpec(b, c, stack == "core")
		b.Run(stack, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render(s, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlanNew is new's plan (render included): a regeneration against an empty manifest
// with nothing on disk.
func BenchmarkPlanNew(b *testing.B) {
	c, _ := LoadTemplates("")
	s := benchSpec(b, c, false)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := planRegen(c, &Manifest{}, s, "", PlanOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderApply is `svcgen new --no-tidy` without the process start: catalog, render,
// plan, staged write, manifest and the final rename.
func BenchmarkRenderApply(b *testing.B) {
	c, _ := LoadTemplates("")
	for _, stack := range []string{"core", "full"} {
		s := benchSpec(b, c, stack == "core")
		root := b.TempDir()
		i := 0 // outlives reruns of the sub-benchmark (-count), so every run gets a new dir
		b.Run(stack, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				i++
				dir := filepath.Join(root, strconv.Itoa(i))
				if _, err := New(context.Background(), c, NewOptions{Spec: s, Dir: dir}); err != nil {
					b.Fatal(err)
				}
			}
		})
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
