package generator

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/module"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a", "orders-api", "svc2", "a-b-c", strings.Repeat("a", 63)} {
		if err := ValidateName(name); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{"", "Orders", "1svc", "-a", "a-", "a--b", "a_b", "a.b", "a/b", "..", "ü", strings.Repeat("a", 64)} {
		if err := ValidateName(name); err == nil {
			t.Errorf("ValidateName(%q) = nil, want an error", name)
		}
	}
}

func TestValidateModule(t *testing.T) {
	t.Parallel()
	for _, m := range []string{"orders-api", "github.com/acme/orders-api", "example.com/x/v2", "corp.internal/team/svc"} {
		if err := ValidateModule(m); err != nil {
			t.Errorf("ValidateModule(%q) = %v, want nil", m, err)
		}
	}
	for _, m := range []string{"", "/abs", "github.com/acme/x/v1", "a b", "github.com/../x", "github.com/acme/.x", "x//y", "-x"} {
		err := ValidateModule(m)
		if err == nil {
			t.Errorf("ValidateModule(%q) = nil, want an error", m)
			continue
		}
		if m != "" && !strings.Contains(err.Error(), m) {
			t.Errorf("ValidateModule(%q) error %q does not name the input", m, err)
		}
	}
}

func TestValidateNamesAllowedValues(t *testing.T) {
	t.Parallel()
	c := testCatalog(t)
	s := testSpec()
	s = s.With("framework", "fiber")
	s = s.With("cache", "memcached")
	err := s.Validate(c)
	if err == nil {
		t.Fatal("Validate accepted unknown values")
	}
	for _, want := range []string{`framework "fiber"`, "echo, gin", `cache "memcached"`, "redis, none"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestDefaultsAndMissing(t *testing.T) {
	t.Parallel()
	c := testCatalog(t)
	s := Spec{Name: "svc"}
	if got := len(s.Missing(c)); got != len(c.Groups()) {
		t.Fatalf("Missing() = %v, want every group", s.Missing(c))
	}
	s = s.WithDefaults(c)
	if s.Get("framework") != "gin" || s.Get("cache") != None || s.Module != "svc" {
		t.Fatalf("WithDefaults = %+v", s)
	}
	if m := s.Missing(c); len(m) != 0 {
		t.Fatalf("Missing() after defaults = %v", m)
	}
	if err := s.Validate(c); err != nil {
		t.Fatal(err)
	}
}

// FuzzValidateName checks that every accepted name is safe where it is used: as a path segment
// that stays inside the service, and as a Go identifier once dashes are dropped.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"orders-api", "a", "../x", "a/b", "A", "a-", "x\x00y", "ab--c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateName(name) != nil {
			return
		}
		p, err := outputPath("cmd/__name__/main.go.tmpl", name)
		if err != nil || p != "cmd/"+name+"/main.go" || !filepath.IsLocal(p) {
			t.Fatalf("accepted name %q maps to %q, %v", name, p, err)
		}
		if id := goIdent(name); id != strings.ReplaceAll(name, "-", "") {
			t.Fatalf("goIdent(%q) = %q", name, id)
		}
		if err := ValidateModule(name); err != nil {
			t.Fatalf("accepted name %q is not a valid default module: %v", name, err)
		}
	})
}

// FuzzValidateModule checks that every accepted module path is a valid import path.
func FuzzValidateModule(f *testing.F) {
	for _, s := range []string{"github.com/a/b", "orders-api", "a/../b", "x/v1", "gopkg.in/yaml.v3", "a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		if ValidateModule(path) != nil {
			return
		}
		if err := module.CheckImportPath(path); err != nil {
			t.Fatalf("accepted module %q is not an import path: %v", path, err)
		}
	})
}
