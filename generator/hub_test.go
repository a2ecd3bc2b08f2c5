package generator

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/svcgen/svcgen/templates"
)

// maxHubActions is the measure of issue K: how many template actions name a component outside
// that component's folder. Core should not name components (slots and capabilities replace
// that); the number only goes down. Lower it when a change lowers the count.
const maxHubActions = 0

var templateAction = regexp.MustCompile(`(?s)\{\{.*?\}\}`)

// hubActions lists every template action ({{ ... }}) of the embedded templates that names a
// component — as .With.<name>, a quoted "<name>", a variable $<name> or any other whole word —
// in a file outside templates/<name>/, once per component it names, as "path: action (name)".
// (This is issue K's count: 246 before the slots. Counting every word, not only .With and
// quotes, keeps a variable that aliases .With.redis from hiding it.)
func hubActions(t *testing.T) []string {
	t.Helper()
	c, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range c.Names() {
		if n != CoreComponent {
			names = append(names, n)
		}
	}
	var out []string
	err = fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".tmpl") {
			return err
		}
		raw, err := fs.ReadFile(templates.FS, p)
		if err != nil {
			return err
		}
		owner, _, _ := strings.Cut(p, "/")
		for _, action := range templateAction.FindAllString(string(raw), -1) {
			for _, n := range names {
				if n == owner {
					continue
				}
				if regexp.MustCompile(`\b` + regexp.QuoteMeta(n) + `\b`).MatchString(action) {
					out = append(out, fmt.Sprintf("%s: %s (%s)", p, action, n))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestComponentsOwnTheirWiring holds the count of template actions that name a component outside
// its own folder at or below maxHubActions. Run with -v to see the list.
func TestComponentsOwnTheirWiring(t *testing.T) {
	t.Parallel()
	actions := hubActions(t)
	for _, a := range actions {
		t.Log(a)
	}
	t.Logf("%d template actions name a component outside its folder (at most %d allowed)", len(actions), maxHubActions)
	if len(actions) > maxHubActions {
		t.Errorf("%d template actions name a component outside its folder, more than %d: fill a slot from the component's own folder, or test a capability (.Provides)", len(actions), maxHubActions)
	}
}
