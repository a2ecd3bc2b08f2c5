package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/svcgen/svcgen/generator"
	"gopkg.in/yaml.v3"
)

// stackFactors are the stack choices the matrix varies: 4×3×3×4×2×2×2×3 = 3456 combinations.
var stackFactors = []Factor{
	{"framework", []string{"gin", "echo", "stdlib", "chi"}},
	{"database", []string{"postgres", "mysql", "none"}},
	{"cache", []string{"redis", "memcached", "none"}},
	{"broker", []string{"kafka", "rabbitmq", "nats", "none"}},
	{"metrics", []string{"prometheus", "none"}},
	{"tracing", []string{"otel", "none"}},
	{"auth", []string{"jwt", "none"}},
	{"ci", []string{"github", "gitlab", "none"}},
}

// TestMatrix generates a pairwise-covering set of stack combinations and, in each, builds, vets
// and runs `go test -race` with the integration servers of its stack (integrationEnv).
// SVCGEN_MATRIX=all runs all combinations (scripts/matrix.sh does that); there a combination
// whose build inputs are byte for byte those of one already checked (they differ only in the CI
// files, say) passes by that check, since go build, vet and test would see the same tree.
func TestMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("matrix: skipped with -short")
	}
	factors := availableFactors(t, stackFactors)
	rows := Pairwise(factors)
	if os.Getenv("SVCGEN_MATRIX") == "all" {
		rows = All(factors)
		if want := len(All(stackFactors)); len(rows) != want {
			t.Fatalf("the templates offer %d of the %d combinations: a value of stackFactors has no component", len(rows), want)
		}
	}
	// Fails at once under CI=true without the servers (each row then takes its stack's).
	integrationEnv(t)
	checked := map[string]string{} // build-input digest → the row checked with it
	for _, row := range rows {
		t.Run(strings.Join(row, "-"), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "matrix-svc")
			args := []string{"new", "matrix-svc", "--module", "example.com/matrix-svc", "-o", dir, "-y"}
			for i, f := range factors {
				args = append(args, "--"+f.Group, row[i])
			}
			svcgen(t, args...)
			digest := buildInputs(t, dir)
			if same, ok := checked[digest]; ok {
				t.Logf("build inputs are those of %s, checked there", same)
				return
			}
			checkService(t, dir, integrationEnv(t, row...))
			checked[digest] = t.Name()
		})
	}
}

// buildInputs digests what go build, vet and test of a generated service can read: every file
// but the README, the manifest and the CI component's files (workflows, pipeline, dependency
// bot settings), which no generated code or test opens.
func buildInputs(t *testing.T, dir string) string {
	t.Helper()
	var manifest struct {
		Answers map[string]string
		Files   []struct{ Path, Component string }
	}
	if err := yaml.Unmarshal(readFile(t, dir, ".svcgen.yaml"), &manifest); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, f := range manifest.Files {
		if f.Path == "README.md" || f.Component == manifest.Answers["ci"] {
			continue
		}
		data := readFile(t, dir, f.Path)
		fmt.Fprintf(h, "%s\x00%d\x00", f.Path, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// integrationEnv passes the integration servers to generated tests of a stack: stack holds its
// choices (a matrix row; none: PostgreSQL's). Each variable the service reads is taken from the
// test's environment variable for the stack's server: a mysql stack gets DATABASE_URL=$MYSQL_URL.
// With CI=true they must be set: a CI run that silently skips the integration tests would prove
// nothing.
func integrationEnv(t *testing.T, stack ...string) []string {
	t.Helper()
	// [the service's variable, the test's variable naming the server]
	servers := [][2]string{{"DATABASE_URL", "DATABASE_URL"}, {"REDIS_URL", "REDIS_URL"}, {"AMQP_URL", "AMQP_URL"}, {"MEMCACHED_SERVERS", "MEMCACHED_SERVERS"}, {"NATS_URL", "NATS_URL"}}
	if slices.Contains(stack, "mysql") {
		servers[0][1] = "MYSQL_URL"
	}
	var env []string
	for _, s := range servers {
		v := os.Getenv(s[1])
		if v == "" && os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set: start the servers with scripts/services.sh", s[1])
		}
		if v != "" {
			env = append(env, s[0]+"="+v)
		}
	}
	return env
}

// availableFactors keeps the values the embedded templates offer and logs the others, so that a
// branch where a group's components are still being written runs the rest of the matrix; once
// they exist every value is used (and SVCGEN_MATRIX=all, as scripts/matrix.sh runs it, fails on any gap).
func availableFactors(t *testing.T, factors []Factor) []Factor {
	t.Helper()
	catalog, err := generator.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	var out []Factor
	for _, f := range factors {
		choices := catalog.Choices(f.Group)
		kept := Factor{Group: f.Group}
		for _, v := range f.Values {
			if slices.Contains(choices, v) {
				kept.Values = append(kept.Values, v)
			} else {
				t.Logf("matrix: %s %q is not in the templates; left out", f.Group, v)
			}
		}
		if len(kept.Values) == 0 {
			t.Fatalf("matrix: no value of %s is in the templates", f.Group)
		}
		out = append(out, kept)
	}
	return out
}
