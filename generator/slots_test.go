package generator

import (
	"strings"
	"testing"
	"testing/fstest"
)

// slotFS is testFS with two declared slots, a core main.go that renders them and fills from
// gin, echo and redis.
func slotFS() fstest.MapFS {
	fsys := testFS()
	fsys["core/component.yaml"] = &fstest.MapFile{Data: []byte("name: core\ndescription: always on\nslots:\n  - name: main.imports\n    description: imports\n  - name: main.wiring\n    description: wiring\n" + testGroups)}
	fsys["core/cmd/__name__/main.go.tmpl"] = &fstest.MapFile{Data: []byte(`package main

import (
{{ slot "main.imports" . }}
)

func main() {
{{- slot "main.wiring" . }}
{{- if slotted "main.wiring" }}
	println("wired")
{{- end }}
}
`)}
	fsys["gin/_slots.tmpl"] = &fstest.MapFile{Data: []byte(`{{ define "gin:main.imports" }}	"os"
{{ end }}
{{ define "gin:main.wiring" }}
	println({{ include "gin:_quote" .Name }}, os.Args){{ end }}
{{ define "gin:_quote" }}"{{ . }}"{{ end }}
`)}
	fsys["echo/_slots.tmpl"] = &fstest.MapFile{Data: []byte(`{{ define "echo:main.wiring" }}
	println("echo"){{ end }}`)}
	fsys["redis/_wiring.tmpl"] = &fstest.MapFile{Data: []byte(`{{ define "redis:main.imports" }}	"fmt"
{{ end }}{{ define "redis:main.wiring" }}
	fmt.Println("redis"){{ end }}`)}
	return fsys
}

func renderFS(t *testing.T, fsys fstest.MapFS, s Spec) (map[string]string, error) {
	t.Helper()
	c, err := LoadCatalog(fsys, nil)
	if err != nil {
		return nil, err
	}
	files, err := Render(s, c)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range files {
		out[f.Path] = string(f.Data)
	}
	return out, nil
}

func TestSlotsConcatenateFillsOfEnabledComponentsInSlotOrder(t *testing.T) {
	t.Parallel()
	got, err := renderFS(t, slotFS(), testSpec())
	if err != nil {
		t.Fatal(err)
	}
	// go/format sorts the imports and re-indents; gin (framework) fills before redis (cache)
	// in the group order, echo is not enabled, _quote is gin's own helper.
	want := `package main

import (
	"fmt"
	"os"
)

func main() {
	println("orders-api", os.Args)
	fmt.Println("redis")
	println("wired")
}
`
	if got["cmd/orders-api/main.go"] != want {
		t.Errorf("main.go =\n%s\nwant\n%s", got["cmd/orders-api/main.go"], want)
	}
	for p := range got {
		if strings.Contains(p, "_slots") || strings.Contains(p, "_wiring") {
			t.Errorf("partial rendered to a file: %s", p)
		}
	}
}

func TestSlotOrderFollowsOrderThenCoreThenGroupThenName(t *testing.T) {
	t.Parallel()
	fsys := slotFS()
	// order: -1 puts redis's fill before gin's although cache comes after framework.
	fsys["redis/component.yaml"] = &fstest.MapFile{Data: []byte("name: redis\ngroup: cache\norder: -1\nmodules: [github.com/redis/go-redis/v9]\n")}
	got, err := renderFS(t, fsys, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	main := got["cmd/orders-api/main.go"]
	if strings.Index(main, `fmt.Println("redis")`) > strings.Index(main, `println("orders-api"`) {
		t.Errorf("order: -1 did not put redis first:\n%s", main)
	}
}

func TestSlottedIsFalseWhenNoEnabledComponentFills(t *testing.T) {
	t.Parallel()
	fsys := slotFS()
	delete(fsys, "gin/_slots.tmpl")
	delete(fsys, "redis/_wiring.tmpl")
	fsys["echo/_slots.tmpl"] = &fstest.MapFile{Data: []byte(`{{ define "echo:main.imports" }}"os"{{ end }}{{ define "echo:main.wiring" }}println(os.Args){{ end }}`)}
	got, err := renderFS(t, fsys, testSpec()) // gin: echo's fills are not parsed at all
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got["cmd/orders-api/main.go"], "wired") || strings.Contains(got["cmd/orders-api/main.go"], "os.Args") {
		t.Errorf("a disabled component filled a slot:\n%s", got["cmd/orders-api/main.go"])
	}
}

func TestVerifiedTemplatesCallingSlotAreFormatted(t *testing.T) {
	t.Parallel()
	c, err := loadCatalog(slotFS(), nil, true) // as the embedded templates are loaded
	if err != nil {
		t.Fatal(err)
	}
	files, err := Render(testSpec(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Path == "cmd/orders-api/main.go" && !strings.Contains(string(f.Data), "import (\n\t\"fmt\"\n\t\"os\"\n)") {
			t.Errorf("main.go calls slot but was not formatted:\n%s", f.Data)
		}
	}
}

func TestProvidesAndCapabilityRequirements(t *testing.T) {
	t.Parallel()
	fsys := slotFS()
	fsys["redis/component.yaml"] = &fstest.MapFile{Data: []byte("name: redis\ngroup: cache\nprovides: [cache]\nmodules: [github.com/redis/go-redis/v9]\n")}
	fsys["echo/component.yaml"] = &fstest.MapFile{Data: []byte("name: echo\ngroup: framework\nrequires: [cache]\n")}
	fsys["core/caps.txt.tmpl"] = &fstest.MapFile{Data: []byte("cache={{ .Provides.cache }} framework={{ .Choice.framework }}\n")}
	got, err := renderFS(t, fsys, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	if got["caps.txt"] != "cache=true framework=gin\n" {
		t.Errorf("caps.txt = %q", got["caps.txt"])
	}
	s := testSpec()
	s = s.With("cache", None)
	if got, _ := renderFS(t, fsys, s); got["caps.txt"] != "cache=false framework=gin\n" {
		t.Errorf("without redis: caps.txt = %q", got["caps.txt"])
	}
	c, err := LoadCatalog(fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckRelations([]string{"core", "echo", "redis"}); err != nil {
		t.Errorf("echo requires the cache capability redis provides: %v", err)
	}
	if err := c.CheckRelations([]string{"core", "echo"}); err == nil || !strings.Contains(err.Error(), "component echo requires cache") {
		t.Errorf("echo without a cache: err = %v", err)
	}
}

func TestSlotErrorsNameTheFileAndTheSlot(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		path, body string
		want       []string
	}{
		{"another component's namespace", "redis/_slots.tmpl", `{{ define "gin:main.wiring" }}x{{ end }}`,
			[]string{"redis/_slots.tmpl", `"gin:main.wiring"`, "redis:<slot>"}},
		{"a name without namespace", "redis/_slots.tmpl", `{{ define "helper" }}x{{ end }}`,
			[]string{"redis/_slots.tmpl", `"helper"`}},
		{"filling an undeclared slot", "redis/_slots.tmpl", `{{ define "redis:main.wirign" }}x{{ end }}`,
			[]string{"redis/_slots.tmpl", `undeclared slot "main.wirign"`}},
		{"text outside define", "redis/_slots.tmpl", `oops{{ define "redis:main.wiring" }}x{{ end }}`,
			[]string{"redis/_slots.tmpl", "only {{ define }} blocks"}},
		{"defined twice", "redis/_more.tmpl", `{{ define "redis:main.wiring" }}x{{ end }}`,
			[]string{"redis/_more.tmpl", "redis/_wiring.tmpl", `"redis:main.wiring" is defined by`}},
		{"calling an undeclared slot, even in a branch not taken", "core/x.txt.tmpl", "a\n{{ if false }}{{ slot \"main.wirign\" . }}{{ end }}",
			[]string{"core/x.txt.tmpl", "x.txt.tmpl:2", `undeclared slot "main.wirign"`}},
		{"slotted on an undeclared slot", "core/x.txt.tmpl", `{{ if slotted "nope" }}x{{ end }}`,
			[]string{"core/x.txt.tmpl", `undeclared slot "nope"`}},
		{"a slot name computed at run time", "core/x.txt.tmpl", `{{ slot (print "no" "pe") . }}`,
			[]string{"core/x.txt.tmpl", `slot "nope" is not declared`}},
		{"a fill calling its own slot", "redis/_wiring.tmpl", `{{ define "redis:main.imports" }}{{ slot "main.imports" . }}{{ end }}`,
			[]string{"nested more than"}},
		{"include of a missing template", "core/x.txt.tmpl", `{{ include "core:_nope" . }}`,
			[]string{"core/x.txt.tmpl", `"core:_nope"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fsys := slotFS()
			fsys[tc.path] = &fstest.MapFile{Data: []byte(tc.body)}
			_, err := renderFS(t, fsys, testSpec())
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestSlotDeclarationErrors(t *testing.T) {
	t.Parallel()
	fsys := slotFS()
	fsys["redis/component.yaml"] = &fstest.MapFile{Data: []byte("name: redis\ngroup: cache\nslots:\n  - name: main.wiring\n")}
	if _, err := LoadCatalog(fsys, nil); err == nil || !strings.Contains(err.Error(), `slot "main.wiring" is declared by both core and redis`) {
		t.Errorf("duplicate declaration: err = %v", err)
	}
	fsys["redis/component.yaml"] = &fstest.MapFile{Data: []byte("name: redis\ngroup: cache\nslots:\n  - name: Main:Wiring\n")}
	if _, err := LoadCatalog(fsys, nil); err == nil || !strings.Contains(err.Error(), `slot name "Main:Wiring" is not valid`) {
		t.Errorf("bad name: err = %v", err)
	}
}

func TestEmbeddedCoreDeclaresTheContractSlots(t *testing.T) {
	t.Parallel()
	c, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	declared := c.declaredSlots()
	for _, s := range []string{"main.imports", "main.setup", "main.wiring", "config.fields", "config.load",
		"config.validate", "env.example", "compose.services", "ci.services",
		"k8s.env", "k8s.secrets", "readme.sections", "openapi.paths"} {
		if !declared[s] {
			t.Errorf("core does not declare slot %s", s)
		}
	}
}
