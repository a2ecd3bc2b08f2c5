package generator

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/svcgen/svcgen/internal/testtree"
)

// TestRegenTidyKeepsOwnersModulesAndDropsARemovedComponents runs the real `go mod tidy`,
// offline, on modules svcgen itself depends on (so they are in the module cache): a component
// requiring golang.org/x/mod is added and removed again while the owners' own file imports
// github.com/google/uuid, a requirement they added. After the removal tidy drops x/mod and
// keeps uuid. Both modules are ones whose whole module graph a build of svcgen downloads (uuid
// has no requirements; yaml.v3, say, would need gopkg.in/check.v1's go.mod, which an empty
// module cache does not get from building svcgen), so the test passes offline on a fresh machine.
func TestRegenTidyKeepsOwnersModulesAndDropsARemovedComponents(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	// Offline: the modules are in the cache because svcgen is built from them. GOPROXY=off
	// does not keep the go command from the checksum database, which it asks for every module
	// the service's go.sum lacks (on a machine whose sumdb cache is cold, that is a network
	// call); the cache already verified these modules against svcgen's own go.sum.
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOSUMDB", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	Versions["golang.org/x/mod"] = "v0.43.0"
	t.Cleanup(func() { delete(Versions, "golang.org/x/mod") })

	fsys := fstest.MapFS{
		"core/component.yaml":                     {Data: []byte("name: core\n" + testGroups)},
		"core/go.mod.tmpl":                        {Data: []byte(goModTmpl)},
		"core/cmd/__name__/main.go.tmpl":          {Data: []byte("package main\n\nfunc main() {}\n")},
		"gin/component.yaml":                      {Data: []byte("name: gin\ngroup: framework\n")},
		"semver/component.yaml":                   {Data: []byte("name: semver\ngroup: metrics\nmodules: [golang.org/x/mod]\n")},
		"semver/internal/version/version.go.tmpl": {Data: []byte("package version\n\nimport \"golang.org/x/mod/semver\"\n\nfunc Valid(v string) bool { return semver.IsValid(v) }\n")},
	}
	c := regenCatalog(t, fsys)
	spec := NewSpec("svc", "example.com/svc", map[string]string{"framework": "gin", "database": None, "cache": None, "broker": None, "metrics": None, "ci": None, "deploy": None})
	dir := generated(t, c, spec)
	write(t, dir, "internal/mine/mine.go", "package mine\n\nimport \"github.com/google/uuid\"\n\nvar _ = uuid.NewString\n")
	write(t, dir, "go.mod", read(t, dir, "go.mod")+"\nrequire github.com/google/uuid v1.6.0\n")

	tidyRegen := func(s Spec) {
		t.Helper()
		old, err := ReadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Regen(context.Background(), c, old, RegenOptions{Dir: dir, Spec: s, Tidy: true})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Tidied || res.TidyErr != nil {
			t.Fatalf("tidied %v: %v", res.Tidied, res.TidyErr)
		}
	}
	withSemver := spec
	withSemver = withSemver.With("metrics", "semver")
	tidyRegen(withSemver)
	testtree.Contains(t, "go.mod after add", read(t, dir, "go.mod"), "golang.org/x/mod v0.43.0", "github.com/google/uuid v1.6.0")

	tidyRegen(spec)
	gomod := read(t, dir, "go.mod")
	testtree.Contains(t, "go.mod after remove", gomod, "github.com/google/uuid v1.6.0")
	if strings.Contains(gomod, "golang.org/x/mod") {
		t.Errorf("the removed component's module survived tidy:\n%s", gomod)
	}
	// The manifest records go.mod and go.sum as tidy left them.
	m, _ := ReadManifest(dir)
	for _, name := range tidiedFiles {
		if e, ok := m.Lookup(name); !ok || e.SHA256 != Hash([]byte(read(t, dir, name))) {
			t.Errorf("%s: manifest entry %+v does not match the disk", name, e)
		}
	}
}
