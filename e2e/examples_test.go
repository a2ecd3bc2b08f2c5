package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/svcgen/svcgen/internal/testtree"
)

var update = flag.Bool("update", false, "regenerate examples/ from examples/*.yaml instead of comparing")

// TestExamples is the golden test: each examples/NAME.yaml answer file, replayed through the
// real binary (with go mod tidy), gives a tree byte-identical to examples/NAME — and so does the
// example's own .svcgen.yaml. `go test ./e2e -run TestExamples -update` (make examples)
// refreshes them; each example is then built, vetted and race-tested like any service.
func TestExamples(t *testing.T) {
	answers, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(answers) < 4 {
		t.Fatalf("want at least 4 example answer files in examples/, found %v (%v)", answers, err)
	}
	env := integrationEnv(t)
	for _, file := range answers {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			golden := filepath.Join("..", "examples", name)
			if *update {
				tmp := filepath.Join(t.TempDir(), name)
				svcgen(t, "new", "--answers", file, "-o", tmp)
				if err := os.RemoveAll(golden); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, golden); err != nil {
					t.Fatal(err)
				}
			}
			want := testtree.ReadAll(t, golden)
			for _, from := range []string{file, filepath.Join(golden, ".svcgen.yaml")} {
				got := filepath.Join(t.TempDir(), name)
				svcgen(t, "new", "--answers", from, "-o", got)
				compareTrees(t, want, testtree.ReadAll(t, got), from)
			}
			checkService(t, golden, env)
		})
	}
}

// compareTrees reports every path that is missing, extra or different.
func compareTrees(t *testing.T, want, got map[string]string, what string) {
	t.Helper()
	var paths []string
	for p := range want {
		paths = append(paths, p)
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		w, inWant := want[p]
		g, inGot := got[p]
		switch {
		case !inGot:
			t.Errorf("%s: %s is in the example but was not generated", what, p)
		case !inWant:
			t.Errorf("%s: %s was generated but is not in the example (run make examples)", what, p)
		case w != g:
			t.Errorf("%s: %s differs from the example (run make examples)", what, p)
		}
	}
}
