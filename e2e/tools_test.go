package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"github.com/svcgen/svcgen/generator"
)

// inCI reports whether the tests run in CI, where a test that cannot run is a failure.
func inCI() bool { return os.Getenv("CI") == "true" }

// skipOrFail skips the test with the reason, or fails it in CI, where nothing may be skipped.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if inCI() {
		t.Fatalf("CI=true: "+format, args...)
	}
	t.Skipf(format, args...)
}

// requireTool returns the path of an external tool a test runs. When it is missing the test
// is skipped, naming the tool and how to install it; in CI (.ci/run installs every one) it fails.
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(t, "%s is not installed (%s)", name, install)
	}
	return path
}

const (
	installActionlint    = "go install github.com/rhysd/actionlint/cmd/actionlint@" + actionlintVersion
	installDockerCompose = "apt-get install -y docker-compose"
	installKustomize     = "go install sigs.k8s.io/kustomize/kustomize/v5@" + kustomizeVersion

	// actionlintVersion is the actionlint that .ci/run installs.
	actionlintVersion = "v1.7.12"
	// kustomizeVersion is the kustomize that .ci/run installs (the newest that builds with Go 1.26).
	kustomizeVersion = "v5.8.2"
)

// installGolangciLint installs the golangci-lint that generated CI runs.
var installGolangciLint = "go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@" + generator.Tools.GolangciLint

// TestCIRunPinsTheTools keeps .ci/run installing the linters these tests expect: the
// actionlint, kustomize and promtool above and the golangci-lint that generated CI configurations pin.
func TestCIRunPinsTheTools(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(repoRoot(t), ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ACTIONLINT_VERSION=" + actionlintVersion + "\n", "GOLANGCI_LINT_VERSION=" + generator.Tools.GolangciLint + "\n", "KUSTOMIZE_VERSION=" + kustomizeVersion + "\n", "PROMTOOL_VERSION=" + promtoolVersion + "\n", "REDOCLY_VERSION=" + redoclyVersion + "\n", "docker-compose", "shellcheck"} {
		if !strings.Contains(string(script), want) {
			t.Errorf(".ci/run does not contain %q", want)
		}
	}
}

// repoRoot is the root of svcgen's repository: the directory above the e2e package whose
// go.mod declares svcgen's module.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modfile.ModulePath(data) == "github.com/svcgen/svcgen" {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("cannot find svcgen's repository root (a go.mod of module github.com/svcgen/svcgen) above the working directory")
		}
		dir = parent
	}
}

// sharedFile finds a file of the project's shared/ folder, which sits beside the repository
// (../shared/REL from the repository root). SVCGEN_SHARED overrides the folder. A missing
// file skips the test with the reason, or fails it in CI.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	dir := os.Getenv("SVCGEN_SHARED")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "..", "shared")
	}
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			skipOrFail(t, "%s not found: the shared/ folder beside the repository holds it (or set SVCGEN_SHARED)", path)
		}
		t.Fatal(err)
	}
	return path
}

// run runs a tool and returns its combined output.
func run(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
