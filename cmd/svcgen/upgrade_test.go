package main

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/svcgen/svcgen/internal/testtree"
)

// TestRegenAfterATemplateChangeSaysWhatChangedAndWhichBase: the templates change under an
// edited service (a newer svcgen); regen says how they changed, merges the edited file naming
// its base, says it kept the render in .svcgen/base, and --format json names the base too.
func TestRegenAfterATemplateChangeSaysWhatChangedAndWhichBase(t *testing.T) {
	t.Parallel()
	dir := newService(t)
	editFile(t, dir, mainGo, `return "helper"`, `return "our helper"`)

	newer := regenTemplates()
	main := string(newer["core/cmd/__name__/main.go.tmpl"].Data)
	newer["core/cmd/__name__/main.go.tmpl"] = &fstest.MapFile{Data: []byte(strings.Replace(main, `"starting {{ .Name }}"`, `"booting {{ .Name }}"`, 1))}
	newer["core/NOTICE"] = &fstest.MapFile{Data: []byte("new in this release\n")}
	useTemplates(t, newer)

	// No repository, no stored copy, and the re-render is not what was written: no exact base.
	code, stdout, stderr := runCLI(t, "regen", "--dry-run", "--format", "json", "-C", dir)
	if code != exitConflict {
		t.Fatalf("regen --dry-run --format json: exit %d: %s", code, stderr)
	}
	var plan planJSON
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	for _, c := range plan.Changes {
		if c.Path == mainGo && (c.Action != "conflict" || c.Base != "none") {
			t.Errorf("json change %+v, want a conflict with base none", c)
		}
	}

	code, stdout, stderr = runCLI(t, "regen", "-C", dir, "--no-tidy")
	if code != exitConflict {
		t.Fatalf("regen without any exact base: exit %d, want %d (a conflict, not a guess): %s\n%s", code, exitConflict, stderr, stdout)
	}
	testtree.Contains(t, "regen", stdout,
		"templates changed: svcgen ",
		"  new      NOTICE\n",
		"  changed  "+mainGo+"\n",
		"conflict  "+mainGo+" (core): edited, and neither the repository, nor a stored copy, nor today's templates have the bytes svcgen wrote",
		"kept svcgen's render of 1 edited file in .svcgen/base",
	)

	// Resolved by the owners (their edit on today's render); the next release merges from the
	// stored render.
	testtree.WriteFile(t, dir, mainGo, strings.Replace(testtree.ReadFile(t, dir, ".svcgen/base/"+mainGo), `return "helper"`, `return "our helper"`, 1))
	newest := maps.Clone(newer)
	newest["core/cmd/__name__/main.go.tmpl"] = &fstest.MapFile{Data: []byte(strings.Replace(string(newer["core/cmd/__name__/main.go.tmpl"].Data), `"serving"`, `"serving on"`, 1))}
	useTemplates(t, newest)
	code, stdout, stderr = runCLI(t, "regen", "-C", dir, "--no-tidy")
	if code != 0 {
		t.Fatalf("regen: exit %d: %s\n%s", code, stderr, stdout)
	}
	testtree.Contains(t, "regen", stdout, "merge     "+mainGo+" (core): your edits merged with svcgen's changes (base: stored copy)")
	testtree.Contains(t, mainGo, testtree.ReadFile(t, dir, mainGo), `"our helper"`, `"serving on"`, `"booting orders-api"`)
}
