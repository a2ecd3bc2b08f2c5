package generator

import (
	"bytes"
	"crypto/sha256"
	"go/format"
	"strings"
	"testing"

	"github.com/svcgen/svcgen/generator/merge"
)

// allSpecs returns every combination of the catalog's choices, with names and modules of
// different lengths spread over them (gofmt's alignment depends on line lengths).
func allSpecs(c *Catalog) []Spec {
	names := []string{"a", "orders-api", "x" + strings.Repeat("-svc", 15) + "-63c"}
	specs := []Spec{{}}
	for _, g := range c.Groups() {
		var next []Spec
		for _, s := range specs {
			for _, v := range c.Choices(g.Name) {
				n := s
				n = n.With(g.Name, v)
				next = append(next, n)
			}
		}
		specs = next
	}
	for i := range specs {
		specs[i].Name = names[i%len(names)]
		specs[i].Module = []string{"example.com/" + specs[i].Name, specs[i].Name, "github.com/some-organisation/team/" + specs[i].Name + "/v2"}[i/len(names)%3]
	}
	return specs
}

// TestEmbeddedTemplatesRenderGofmtClean holds svcgen's own templates to gofmt-clean output in
// every stack combination, which is what lets render skip go/format's printer for them
// (formatGo): the fast render must equal the fully formatted one byte for byte. The formatted
// render is go/format over the same template output, so each distinct Go file the fast renders
// produce is formatted once (most files are identical across most combinations).
func TestEmbeddedTemplatesRenderGofmtClean(t *testing.T) {
	t.Parallel()
	fast, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	specs := allSpecs(fast)
	if testing.Short() {
		specs = specs[:len(specs)/8]
	}
	checked := map[[sha256.Size]byte]bool{}
	for _, s := range specs {
		if err := s.Validate(fast); err != nil {
			continue // a combination the components' relations forbid
		}
		files, err := Render(s, fast)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		for _, f := range files {
			sum := sha256.Sum256(f.Data)
			if !strings.HasSuffix(f.Path, ".go") || checked[sum] {
				continue
			}
			checked[sum] = true
			formatted, err := format.Source(f.Data)
			if err != nil {
				t.Fatalf("%s for %s: %v", f.Path, s, err)
			}
			if !bytes.Equal(f.Data, formatted) {
				t.Errorf("%s is not gofmt-clean for %s; fix the template:\n%s",
					f.Path, s, merge.Unified(f.Path, f.Path, f.Data, formatted))
			}
		}
	}
	t.Logf("%d combinations, %d distinct Go files formatted", len(specs), len(checked))
}
