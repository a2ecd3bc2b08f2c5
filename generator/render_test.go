package generator

import (
	"bytes"
	"strings"
	"testing"
	"testing/fstest"
)

func TestRenderCoreAndChosenComponents(t *testing.T) {
	t.Parallel()
	files, err := Render(testSpec(), testCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]File{}
	var paths []string
	for _, f := range files {
		got[f.Path] = f
		paths = append(paths, f.Path)
	}
	want := []string{"README.md", "cmd/orders-api/main.go", "go.mod", "internal/cache/cache.go", "internal/server/gin.txt", "scripts/run.sh"}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Fatalf("paths = %v, want %v (sorted, echo excluded)", paths, want)
	}
	main := string(got["cmd/orders-api/main.go"].Data)
	if !strings.Contains(main, "// orders-api on gin") || !strings.Contains(main, `println("redis")`) {
		t.Errorf("main.go not rendered with data:\n%s", main)
	}
	if !strings.Contains(main, "func main() { println(\"redis\") }") {
		t.Errorf("main.go not gofmt-formatted:\n%s", main)
	}
	if string(got["README.md"].Data) != "copied {{ as is }}\n" {
		t.Errorf("non-.tmpl file was rendered: %q", got["README.md"].Data)
	}
	if got["scripts/run.sh"].Mode != 0o755 || got["README.md"].Mode != 0o644 {
		t.Errorf("modes: run.sh %v README %v", got["scripts/run.sh"].Mode, got["README.md"].Mode)
	}
	if got["internal/cache/cache.go"].Component != "redis" || got["go.mod"].Component != CoreComponent {
		t.Errorf("owners wrong: %+v", got)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	t.Parallel()
	c := testCatalog(t)
	a, _ := Render(testSpec(), c)
	for range 5 {
		b, err := Render(testSpec(), c)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatal("different file counts")
		}
		for i := range a {
			if a[i].Path != b[i].Path || !bytes.Equal(a[i].Data, b[i].Data) {
				t.Fatalf("render differs at %s", a[i].Path)
			}
		}
	}
}

// renderWith renders the test spec with one extra core template.
func renderWith(t *testing.T, path, body string) error {
	t.Helper()
	fsys := testFS()
	fsys["core/"+path] = &fstest.MapFile{Data: []byte(body)}
	c, err := LoadCatalog(fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Render(testSpec(), c)
	return err
}

func TestRenderErrorsNameTheTemplate(t *testing.T) {
	t.Parallel()
	cases := []struct{ path, body, want string }{
		{"x.txt.tmpl", "{{ env \"HOME\" }}", `function "env" not defined`},
		{"x.txt.tmpl", "{{ expandenv \"$HOME\" }}", `function "expandenv" not defined`},
		{"x.txt.tmpl", "line1\n{{ .NoSuchField }}", "core/x.txt.tmpl:2"},
		{"x.txt.tmpl", "{{ .With.nosuchcomponent }}", "core/x.txt.tmpl:1"},
		{"bad.go.tmpl", "package x\nfunc {", "template core/bad.go.tmpl renders invalid Go"},
	}
	for _, tc := range cases {
		err := renderWith(t, tc.path, tc.body)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: err = %v, want it to contain %q", tc.path, tc.body, err, tc.want)
		}
	}
}

func TestRenderKeepsSprigButNotEnv(t *testing.T) {
	t.Parallel()
	if err := renderWith(t, "x.txt.tmpl", `{{ "a-b" | upper }} {{ goident .Name }} {{ list 1 2 | len }}`); err != nil {
		t.Fatal(err)
	}
	fm := funcMap()
	for _, banned := range []string{"env", "expandenv"} {
		if _, ok := fm[banned]; ok {
			t.Errorf("funcMap has %s", banned)
		}
	}
}

func TestOutputPathStaysInside(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"../x", "/etc/passwd", "a/../../x", "..", ".", "__name__/../../x", `a\..\..\x`} {
		if got, err := outputPath(p, "svc"); err == nil {
			t.Errorf("outputPath(%q) = %q, want an error", p, got)
		}
	}
	if got, err := outputPath("a/./b/../c.go.tmpl", "svc"); err != nil || got != "a/c.go" {
		t.Errorf("outputPath cleaned = %q, %v", got, err)
	}
}

func TestRenderRejectsDuplicatePaths(t *testing.T) {
	t.Parallel()
	fsys := testFS()
	fsys["gin/README.md"] = &fstest.MapFile{Data: []byte("dup")}
	c, _ := LoadCatalog(fsys, nil)
	if _, err := Render(testSpec(), c); err == nil || !strings.Contains(err.Error(), "both components core and gin") {
		t.Fatalf("err = %v", err)
	}
}

func TestRequirementsComeFromThePinnedTable(t *testing.T) {
	t.Parallel()
	data, _, err := newData(testSpec(), testCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(data.Requires) != 1 || data.Requires[0].Path != "github.com/redis/go-redis/v9" || data.Requires[0].Version != Versions["github.com/redis/go-redis/v9"] {
		t.Fatalf("Requires = %+v", data.Requires)
	}
	fsys := testFS()
	fsys["redis/component.yaml"] = &fstest.MapFile{Data: []byte("name: redis\ngroup: cache\nmodules: [example.com/unpinned]\n")}
	c, _ := LoadCatalog(fsys, nil)
	if _, err := Render(testSpec(), c); err == nil || !strings.Contains(err.Error(), "example.com/unpinned") {
		t.Fatalf("unpinned module: err = %v", err)
	}
}

func TestTemplateRenderingToNothingProducesNoFile(t *testing.T) {
	t.Parallel()
	fsys := testFS()
	fsys["core/only-with-echo.txt.tmpl"] = &fstest.MapFile{Data: []byte("{{ if .With.echo }}echo{{ end }}\n")}
	c, _ := LoadCatalog(fsys, nil)
	files, err := Render(testSpec(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Path == "only-with-echo.txt" {
			t.Fatal("empty render produced a file")
		}
	}
	s := testSpec()
	s = s.With("framework", "echo")
	files, _ = Render(s, c)
	found := false
	for _, f := range files {
		found = found || f.Path == "only-with-echo.txt" && string(f.Data) == "echo\n"
	}
	if !found {
		t.Fatal("non-empty render produced no file")
	}
}
