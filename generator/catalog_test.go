package generator

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestCatalogChoicesAndDefaults(t *testing.T) {
	t.Parallel()
	c := testCatalog(t)
	if got := strings.Join(c.Choices("framework"), ","); got != "echo,gin" {
		t.Errorf("framework choices = %s", got)
	}
	if got := strings.Join(c.Choices("cache"), ","); got != "redis,none" {
		t.Errorf("cache choices = %s", got)
	}
	if c.Default("framework") != "gin" || c.Default("cache") != None || c.Default("database") != None {
		t.Errorf("defaults: %s %s %s", c.Default("framework"), c.Default("cache"), c.Default("database"))
	}
}

func TestCatalogRejectsBadMetadata(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"name: other\n":                "must equal the folder name",
		"name: x\ngroup: nosuch\n":     "unknown group",
		"name: x\nrequires: [ghost]\n": "unknown component",
		"name: x\nunknownkey: 1\n":     "unknownkey",
	}
	for meta, want := range cases {
		fsys := testFS()
		fsys["x/component.yaml"] = &fstest.MapFile{Data: []byte(meta)}
		if _, err := LoadCatalog(fsys, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", meta, err, want)
		}
	}
}

func TestCatalogRelations(t *testing.T) {
	t.Parallel()
	fsys := testFS()
	fsys["redis/component.yaml"] = &fstest.MapFile{Data: []byte("name: redis\ngroup: cache\nrequires: [echo]\nconflicts: [gin]\n")}
	c, err := LoadCatalog(fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = testSpec().Validate(c)
	if err == nil || !strings.Contains(err.Error(), "redis requires echo") || !strings.Contains(err.Error(), "redis conflicts with gin") {
		t.Fatalf("err = %v", err)
	}
}

func TestOverlayOverridesAndAdds(t *testing.T) {
	t.Parallel()
	overlay := fstest.MapFS{
		"core/README.md":           {Data: []byte("mine\n")},
		"core/NOTES.md.tmpl":       {Data: []byte("notes for {{ .Name }}\n")},
		"audit/component.yaml":     {Data: []byte("name: audit\ngroup: metrics\ndescription: audit log\n")},
		"audit/internal/audit.txt": {Data: []byte("audit\n")},
	}
	c, err := LoadCatalog(testFS(), overlay)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Choices("metrics"), ","); got != "audit,none" {
		t.Errorf("overlay component not listed: %s", got)
	}
	s := testSpec()
	s = s.With("metrics", "audit")
	files, err := Render(s, c)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]string{}
	for _, f := range files {
		byPath[f.Path] = string(f.Data)
	}
	if byPath["README.md"] != "mine\n" || byPath["NOTES.md"] != "notes for orders-api\n" || byPath["internal/audit.txt"] != "audit\n" {
		t.Fatalf("overlay not applied: %v", byPath)
	}
	if _, err := LoadCatalog(testFS(), fstest.MapFS{"stray/x.txt": {Data: []byte("x")}}); err == nil {
		t.Error("overlay folder without metadata for an unknown component was accepted")
	}
}
