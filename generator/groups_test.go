package generator

import (
	"strings"
	"testing"
	"testing/fstest"

	"gopkg.in/yaml.v3"
)

// groupFS is testFS with an overlay-style component declaring a many group of its own.
func groupFS() fstest.MapFS {
	fsys := testFS()
	fsys["hello/component.yaml"] = &fstest.MapFile{Data: []byte("name: hello\ngroup:\n  name: extras\n  title: Extras\n  help: small things\n  optional: true\n  many: true\n")}
	fsys["world/component.yaml"] = &fstest.MapFile{Data: []byte("name: world\ngroup: extras\ndefault: true\n")}
	fsys["hello/hello.txt.tmpl"] = &fstest.MapFile{Data: []byte("{{ .Choice.extras }}\n")}
	return fsys
}

func TestGroupsComeFromTheCatalog(t *testing.T) {
	t.Parallel()
	c, err := LoadCatalog(groupFS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.GroupNames(), " "); got != "framework database cache broker metrics ci deploy extras" {
		t.Errorf("group order = %s: core's list, then others by name", got)
	}
	g, ok := c.Group("extras")
	if !ok || g.Title != "Extras" || g.Help != "small things" || !g.Many || !g.Optional {
		t.Errorf("extras = %+v", g)
	}
	if got := c.Default("extras"); got != "world" {
		t.Errorf("default of extras = %q", got)
	}
	for v, ok := range map[string]bool{"hello": true, "hello,world": true, "none": true, "hello,hello": false, "hello,none": false, "mars": false} {
		if err := validateChoice(c, "extras", v); (err == nil) != ok {
			t.Errorf("validateChoice(extras, %q) = %v", v, err)
		}
	}
	s := testSpec().With("extras", "world,hello")
	if got := strings.Join(c.Enabled(s), " "); got != "core gin redis world hello" {
		t.Errorf("Enabled = %s", got)
	}
	s, _, err = AddComponents(c, testSpec().With("extras", "world"), []string{"hello"})
	if err != nil || s.Get("extras") != "world,hello" {
		t.Errorf("add to a many group: %s, %v", s, err)
	}
	s, _, err = RemoveComponents(c, s, []string{"world", "hello"})
	if err != nil || s.Get("extras") != None {
		t.Errorf("remove from a many group: %s, %v", s, err)
	}
}

func TestGroupDeclarationErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ meta, want string }{
		{"name: x\ngroup: nosuch\n", `x/component.yaml: unknown group "nosuch"`},
		{"name: x\ngroup:\n  name: cache\n  title: Another cache\n  optional: true\n  together: true\n", "group cache is declared differently by core/component.yaml"},
		{"name: x\ngroup:\n  name: extras\n  colour: blue\n", "field colour not found"},
		{"name: x\ngroup:\n  title: no name\n", "a group block needs a name"},
		{"name: x\ngroup:\n  name: module\n", `group name "module" is not valid`},
		{"name: x\ngroup:\n  name: extras\n  default: mars\n", `extras "mars" is not valid`},
	} {
		fsys := testFS()
		fsys["x/component.yaml"] = &fstest.MapFile{Data: []byte(tc.meta)}
		if _, err := LoadCatalog(fsys, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.meta, err, tc.want)
		}
	}
}

func TestSpecYAMLIsFlatAndKeepsTheGroupOrder(t *testing.T) {
	t.Parallel()
	c, err := LoadCatalog(groupFS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSpec("svc", "", map[string]string{"extras": "hello", "cache": "redis"}).WithDefaults(c)
	raw, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := "name: svc\nmodule: svc\nframework: gin\ndatabase: none\ncache: redis\nbroker: none\nmetrics: none\nci: none\ndeploy: none\nextras: hello\n"
	if string(raw) != want {
		t.Errorf("yaml =\n%s\nwant\n%s", raw, want)
	}
	var back Spec
	if err := yaml.Unmarshal(raw, &back); err != nil || !back.Equal(s) {
		t.Errorf("round trip: %s, %v", back, err)
	}
	// A many group may be a sequence; a group the file leaves out is unset, and none once
	// recorded.
	if err := yaml.Unmarshal([]byte("name: svc\nextras: [hello, world]\n"), &back); err != nil || back.Get("extras") != "hello,world" || back.Has("cache") {
		t.Errorf("sequence: %s, %v", back, err)
	}
	if r := back.recorded(c); r.Get("cache") != None || r.Get("framework") != "" {
		t.Errorf("recorded: %s (optional groups none, a required one left for Validate)", r)
	}
	for _, bad := range []string{"name: [a]\n", "- a\n", "cache: redis\ncache: none\n", "cache: {a: b}\n"} {
		if err := yaml.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
