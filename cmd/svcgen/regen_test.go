package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/internal/testtree"
)

// regenTemplates is a small template tree: a wiring main.go with a redis line between lines the
// owners may edit, a Makefile, two frameworks and redis.
func regenTemplates() fstest.MapFS {
	return fstest.MapFS{
		"core/component.yaml": {Data: []byte("name: core\n" + coreGroups)},
		"core/go.mod.tmpl":    {Data: []byte("module {{ .Module }}\n\ngo {{ .GoVersion }}\n")},
		"core/cmd/__name__/main.go.tmpl": {Data: []byte(`package main

import "fmt"

func main() {
	fmt.Println("starting {{ .Name }}")
{{- if .With.redis }}
	fmt.Println("cache redis")
{{- end }}
	fmt.Println("serving")
}

func helper() string {
	return "helper"
}
`)},
		"core/Makefile":                      {Data: []byte("build:\n\tgo build ./...\n")},
		"gin/component.yaml":                 {Data: []byte("name: gin\ngroup: framework\ndefault: true\n")},
		"gin/internal/server/server.txt":     {Data: []byte("gin\n")},
		"echo/component.yaml":                {Data: []byte("name: echo\ngroup: framework\n")},
		"echo/internal/server/server.txt":    {Data: []byte("echo\n")},
		"redis/component.yaml":               {Data: []byte("name: redis\ngroup: cache\n")},
		"redis/internal/cache/cache.go.tmpl": {Data: []byte("package cache\n")},
	}
}

// useTemplates makes the commands runCLI runs in this test load fsys (plus any overlay) instead
// of the embedded templates.
func useTemplates(t *testing.T, fsys fstest.MapFS) *generator.Catalog {
	t.Helper()
	load := func(overlay string) (*generator.Catalog, error) {
		if overlay != "" {
			return generator.LoadCatalog(fsys, os.DirFS(overlay))
		}
		return generator.LoadCatalog(fsys, nil)
	}
	testTemplates.Store(t, load)
	t.Cleanup(func() { testTemplates.Delete(t) })
	c, err := load("")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var past = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// newService generates orders-api (gin, no cache) with the test templates and backdates it.
func newService(t *testing.T) string {
	t.Helper()
	c := useTemplates(t, regenTemplates())
	dir := filepath.Join(t.TempDir(), "orders-api")
	spec := generator.Spec{Name: "orders-api", Module: "example.com/orders-api"}.WithDefaults(c)
	if _, err := generator.New(context.Background(), c, generator.NewOptions{Spec: spec, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	backdate(t, dir)
	return dir
}

func backdate(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.Chtimes(p, past, past)
		}
		if err != nil {
			t.Fatal(err)
		}
		return nil
	})
}

// touched lists the files of dir written since backdate.
func touched(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := d.Info(); !d.IsDir() && !info.ModTime().Equal(past) {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func editFile(t *testing.T, dir, rel, old, new string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	data, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(data), old) {
		t.Fatalf("%s: %v, or no %q in it", rel, err, old)
	}
	os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644)
	os.Chtimes(p, past, past)
}

const mainGo = "cmd/orders-api/main.go"

func TestAddRemoveSetKeepEditsAndReport(t *testing.T) {
	t.Parallel()
	dir := newService(t)
	editFile(t, dir, mainGo, `return "helper"`, `return "our helper"`)
	os.WriteFile(filepath.Join(dir, "NOTES.md"), []byte("ours\n"), 0o644)

	code, stdout, stderr := runCLI(t, "add", "redis", "-C", dir, "--no-tidy")
	if code != 0 {
		t.Fatalf("add redis: exit %d: %s", code, stderr)
	}
	testtree.Contains(t, "add redis", stdout, "create    internal/cache/cache.go (redis)", "merge     "+mainGo+" (core): your edits merged")
	testtree.Contains(t, mainGo, testtree.ReadFile(t, dir, mainGo), `"our helper"`, `"cache redis"`)
	testtree.Contains(t, "manifest", testtree.ReadFile(t, dir, ".svcgen.yaml"), "cache: redis")

	code, stdout, stderr = runCLI(t, "set", "framework", "echo", "-C", dir, "--no-tidy")
	if code != 0 {
		t.Fatalf("set framework echo: exit %d: %s", code, stderr)
	}
	testtree.Contains(t, "set framework echo", stdout, "update    internal/server/server.txt (echo)")
	if testtree.ReadFile(t, dir, "internal/server/server.txt") != "echo\n" {
		t.Error("framework not switched")
	}

	code, stdout, stderr = runCLI(t, "remove", "redis", "-C", dir, "--no-tidy")
	if code != 0 {
		t.Fatalf("remove redis: exit %d: %s", code, stderr)
	}
	testtree.Contains(t, "remove redis", stdout, "delete    internal/cache/cache.go (redis)")
	main := testtree.ReadFile(t, dir, mainGo)
	testtree.Contains(t, mainGo, main, `"our helper"`)
	if strings.Contains(main, "redis") || testtree.ReadFile(t, dir, "NOTES.md") != "ours\n" {
		t.Errorf("after remove redis:\n%s", main)
	}
}

func TestNoOpsAndBadRequestsWriteNothing(t *testing.T) {
	t.Parallel()
	dir := newService(t)
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr []string
	}{
		{[]string{"add", "gin"}, 0, "gin is already part of the service", nil},
		{[]string{"remove", "redis"}, 0, "redis is not part of the service", nil},
		{[]string{"set", "framework", "gin"}, 0, "framework is already gin", nil},
		{[]string{"add", "foo"}, 1, "", []string{`unknown component "foo"`, "echo, gin, redis"}},
		{[]string{"add", "echo"}, 1, "", []string{"svcgen set framework echo"}},
		{[]string{"add"}, 1, "", []string{"svcgen add redis"}},
		{[]string{"remove", "core"}, 1, "", []string{"cannot be added or removed"}},
		{[]string{"remove", "gin"}, 1, "", []string{"every service needs", "svcgen set framework echo"}},
		{[]string{"set", "framework", "fiber"}, 1, "", []string{`framework "fiber" is not valid`, "echo, gin"}},
		{[]string{"set", "cache"}, 1, "", []string{"set takes a group and a value"}},
		{[]string{"regen", "redis"}, 1, "", []string{`"redis" is not part of this service`}},
	} {
		code, stdout, stderr := runCLI(t, append(tc.args, "-C", dir, "--no-tidy")...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) {
			t.Errorf("%v: exit %d, stdout %q", tc.args, code, stdout)
		}
		for _, w := range tc.stderr {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
		if got := touched(t, dir); len(got) != 0 {
			t.Errorf("%v wrote %v", tc.args, got)
		}
	}
	empty := t.TempDir()
	code, _, stderr := runCLI(t, "regen", "-C", empty)
	if code != 1 || !strings.Contains(stderr, ".svcgen.yaml") || !strings.Contains(stderr, "-C DIR") {
		t.Errorf("regen outside a service: exit %d, %q", code, stderr)
	}
}

func TestCollidingEditIsMarkedNamedAndExitsNonZero(t *testing.T) {
	t.Parallel()
	dir := newService(t)
	editFile(t, dir, mainGo, `fmt.Println("serving")`, `fmt.Println("serving on :9090")`)

	code, stdout, stderr := runCLI(t, "add", "redis", "-C", dir, "--no-tidy")
	if code != exitConflict {
		t.Fatalf("exit %d, want %d: %s", code, exitConflict, stderr)
	}
	testtree.Contains(t, "stdout", stdout, "conflict  "+mainGo+" (core)", "create    internal/cache/cache.go (redis)")
	testtree.Contains(t, "stderr", stderr, "1 file has conflicts: "+mainGo)
	testtree.Contains(t, mainGo, testtree.ReadFile(t, dir, mainGo), "<<<<<<< yours\n", `"serving on :9090"`, "=======\n", `"cache redis"`, ">>>>>>> svcgen ")
	testtree.Contains(t, "manifest", testtree.ReadFile(t, dir, ".svcgen.yaml"), "cache: redis")

	code, stdout, _ = runCLI(t, "regen", "--check", "-C", dir)
	if code != exitDrift || !strings.Contains(stdout, mainGo+" (core): has unresolved conflict markers") {
		t.Errorf("--check after a conflict: exit %d\n%s", code, stdout)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	dir := newService(t)
	editFile(t, dir, mainGo, `fmt.Println("serving")`, `fmt.Println("serving on :9090")`)
	for _, args := range [][]string{{"add", "redis"}, {"set", "framework", "echo"}, {"set", "ci", "none"}, {"regen"}} {
		code, stdout, stderr := runCLI(t, append(args, "-C", dir, "--dry-run")...)
		if code != 0 && code != exitConflict {
			t.Errorf("%v --dry-run: exit %d: %s", args, code, stderr)
		}
		if !strings.Contains(stdout, "dry run: nothing written") && !strings.Contains(stdout, "nothing to change") {
			t.Errorf("%v --dry-run: %s", args, stdout)
		}
		if got := touched(t, dir); len(got) != 0 {
			t.Errorf("%v --dry-run wrote %v", args, got)
		}
	}
	code, stdout, _ := runCLI(t, "add", "redis", "-C", dir, "--dry-run")
	if code != exitConflict || !strings.Contains(stdout, "conflict  "+mainGo) || !strings.Contains(stdout, "create    internal/cache/cache.go") ||
		!strings.Contains(stdout, "--- /dev/null\n+++ b/internal/cache/cache.go\n") || !strings.Contains(stdout, "+<<<<<<< yours\n") {
		t.Errorf("add redis --dry-run: exit %d\n%s", code, stdout)
	}
}

func TestRegenCheckAndDiff(t *testing.T) {
	t.Parallel()
	dir := newService(t)
	os.WriteFile(filepath.Join(dir, "NOTES.md"), []byte("ours\n"), 0o644)
	backdate(t, dir)
	code, stdout, stderr := runCLI(t, "regen", "--check", "-C", dir)
	if code != 0 || !strings.Contains(stdout, "orders-api is in step") {
		t.Fatalf("--check on a fresh service: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "regen", "-C", dir)
	if code != 0 || !strings.Contains(stdout, "nothing written") || len(touched(t, dir)) != 0 {
		t.Errorf("unchanged regen: exit %d, touched %v\n%s", code, touched(t, dir), stdout)
	}

	// The owners' edit that regen keeps as it is is not drift.
	editFile(t, dir, "Makefile", "go build", "go build -v")
	code, stdout, stderr = runCLI(t, "regen", "--check", "-C", dir)
	if code != 0 || strings.Contains(stdout, "NOTES.md") {
		t.Errorf("--check after an edit: exit %d\n%s%s", code, stdout, stderr)
	}

	// New templates: diff shows what regen would do, writes nothing and exits 0.
	newer := regenTemplates()
	newer["core/Makefile"] = &fstest.MapFile{Data: []byte("build:\n\tgo build ./...\n\ntest:\n\tgo test ./...\n")}
	newer["gin/internal/server/server.txt"] = &fstest.MapFile{Data: []byte("gin v2\n")}
	useTemplates(t, newer)
	code, stdout, stderr = runCLI(t, "diff", "-C", dir)
	if code != 0 {
		t.Fatalf("diff: exit %d: %s", code, stderr)
	}
	testtree.Contains(t, "diff", stdout, "--- a/Makefile\n+++ b/Makefile\n", "+test:\n", "--- a/internal/server/server.txt\n", "-gin\n+gin v2\n")
	code, stdout, _ = runCLI(t, "diff", "gin", "-C", dir)
	if code != 0 || strings.Contains(stdout, "Makefile") || !strings.Contains(stdout, "server.txt") {
		t.Errorf("diff gin: exit %d\n%s", code, stdout)
	}
	if got := touched(t, dir); len(got) != 0 {
		t.Errorf("diff wrote %v", got)
	}
	code, stdout, stderr = runCLI(t, "regen", "--check", "-C", dir)
	if code != exitDrift || !strings.Contains(stdout, "internal/server/server.txt (gin): svcgen now generates it differently") {
		t.Errorf("--check with new templates: exit %d\n%s", code, stdout)
	}
	testtree.Contains(t, "stderr", stderr, "2 files differ")
}
