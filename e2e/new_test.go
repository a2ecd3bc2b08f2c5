package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/svcgen/svcgen/internal/testtree"

	"gopkg.in/yaml.v3"
)

// coreFlags choose a service with no external dependency, so it runs anywhere.
var coreFlags = []string{"--database", "none", "--cache", "none", "--broker", "none", "--metrics", "none", "--ci", "none", "--deploy", "none"}

func TestCoreServiceBuildsTestsAndServes(t *testing.T) {
	for _, fw := range []string{"gin", "echo", "stdlib", "chi"} {
		t.Run(fw, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "orders-api")
			svcgen(t, append([]string{"new", "orders-api", "--module", "example.com/orders-api", "--framework", fw, "-o", dir}, coreFlags...)...)
			checkManifestHashes(t, dir)
			checkService(t, dir, nil)

			s := startService(t, dir, "orders-api", nil)
			if code, _, body := s.do(t, "GET", "/healthz", ""); code != 200 {
				t.Fatalf("/healthz = %d %s", code, body)
			}
			code, ctype, body := s.do(t, "GET", "/readyz", "")
			if code != 200 || !strings.HasPrefix(ctype, "application/health+json") || !strings.Contains(body, `"pass"`) {
				t.Fatalf("/readyz = %d %s %s", code, ctype, body)
			}
			code, _, body = s.do(t, "POST", "/v1/items", `{"name":"pen","price":150}`)
			if code != 201 {
				t.Fatalf("create = %d %s", code, body)
			}
			var item struct{ ID string }
			if err := json.Unmarshal([]byte(body), &item); err != nil || item.ID == "" {
				t.Fatalf("create body %s: %v", body, err)
			}
			if code, _, body := s.do(t, "GET", "/v1/items/"+item.ID, ""); code != 200 || !strings.Contains(body, `"pen"`) {
				t.Fatalf("get = %d %s", code, body)
			}
			if code, ctype, _ := s.do(t, "POST", "/v1/items", `{"name":"","price":-1}`); code != 400 || !strings.HasPrefix(ctype, "application/problem+json") {
				t.Fatalf("invalid create = %d %s", code, ctype)
			}
		})
	}
}

// checkManifestHashes asserts that the manifest lists exactly the files on disk with their hashes.
func checkManifestHashes(t *testing.T, dir string) {
	t.Helper()
	tree := testtree.ReadAll(t, dir)
	var m struct {
		Files []struct{ Path, Component, SHA256 string }
	}
	if err := yaml.Unmarshal([]byte(tree[".svcgen.yaml"]), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != len(tree)-1 {
		t.Errorf("manifest lists %d files, the tree has %d besides the manifest", len(m.Files), len(tree)-1)
	}
	for _, f := range m.Files {
		sum := sha256.Sum256([]byte(tree[f.Path]))
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("%s: manifest hash does not match the file", f.Path)
		}
	}
	if _, ok := tree["go.sum"]; !ok {
		t.Error("no go.sum after tidy")
	}
	// Rendered as "go 1.26"; tidy writes "go 1.26.0" when a dependency declares that patch level.
	if !regexp.MustCompile(`\ngo 1\.26(\.\d+)?\n`).MatchString(tree["go.mod"]) {
		t.Errorf("go.mod does not say go 1.26:\n%s", tree["go.mod"])
	}
}

func TestSameCommandTwiceGivesIdenticalTrees(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "svc"), filepath.Join(t.TempDir(), "svc")
	for _, dir := range []string{a, b} {
		svcgen(t, "new", "svc", "--framework", "echo", "-y", "-o", dir)
	}
	ta, tb := testtree.ReadAll(t, a), testtree.ReadAll(t, b)
	if len(ta) != len(tb) {
		t.Fatalf("%d files vs %d", len(ta), len(tb))
	}
	for p, data := range ta {
		if tb[p] != data {
			t.Errorf("%s differs between two identical runs", p)
		}
	}
}
