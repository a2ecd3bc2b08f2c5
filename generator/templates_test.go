package generator

import (
	"bytes"
	"strings"
	"testing"

	"github.com/svcgen/svcgen/generator/merge"
	"github.com/svcgen/svcgen/templates"
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
// (formatGo): the fast render must equal the fully formatted one byte for byte.
func TestEmbeddedTemplatesRenderGofmtClean(t *testing.T) {
	t.Parallel()
	fast, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	formatted, err := LoadCatalog(templates.FS, nil) // unverified: every .go file through go/format
	if err != nil {
		t.Fatal(err)
	}
	specs := allSpecs(fast)
	if testing.Short() {
		specs = specs[:len(specs)/8]
	}
	for _, s := range specs {
		if err := s.Validate(fast); err != nil {
			continue // a combination the components' relations forbid
		}
		a, err := Render(s, fast)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		b, err := Render(s, formatted)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		for i := range a {
			if !bytes.Equal(a[i].Data, b[i].Data) {
				t.Errorf("%s is not gofmt-clean for %s; fix the template:\n%s",
					a[i].Path, s,
					merge.Unified(a[i].Path, a[i].Path, a[i].Data, b[i].Data))
			}
		}
	}
}
