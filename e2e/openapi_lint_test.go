package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// redoclyVersion is the Redocly CLI (npm @redocly/cli) that .ci/run installs.
const redoclyVersion = "2.77.0"

// installRedocly says how to get it.
const installRedocly = "npm install --prefix DIR @redocly/cli@" + redoclyVersion + ", then put DIR/node_modules/.bin on PATH or set SVCGEN_REDOCLY to its redocly"

// redocly returns the Redocly CLI to lint with: SVCGEN_REDOCLY, or redocly on PATH.
// Missing, the test is skipped, or fails in CI.
func redocly(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SVCGEN_REDOCLY"); bin != "" {
		return bin
	}
	return requireTool(t, "redocly", installRedocly)
}

// lintOpenAPI lints a generated service's api/openapi.yaml with Redocly's recommended
// ruleset, an implementation independent of the kin-openapi the generated tests use, and
// fails on any error (warnings are logged).
func lintOpenAPI(t *testing.T, bin, dir string) {
	t.Helper()
	cmd := exec.Command(bin, "lint", "--extends=recommended", "--format=stylish", filepath.Join("api", "openapi.yaml"))
	cmd.Dir = dir
	// No usage telemetry and no update check: the tests talk to nothing but loopback.
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	raw, err := cmd.CombinedOutput()
	out := string(raw)
	if err != nil {
		t.Errorf("redocly lint of %s/api/openapi.yaml: %v\n%s", dir, err, out)
		return
	}
	for line := range strings.Lines(out) {
		if strings.Contains(line, "  warning  ") {
			t.Logf("redocly: %s", strings.TrimSpace(line))
		}
	}
}

// TestOpenAPILint: the OpenAPI document passes Redocly's recommended rules with 0 errors,
// with and without auth (security defined on every operation, the probes explicitly open),
// with and without the event and metrics components. The document does not depend on the
// framework.
func TestOpenAPILint(t *testing.T) {
	bin := redocly(t)
	if out, err := run(".", bin, "--version"); err != nil || !strings.Contains(out, redoclyVersion) {
		t.Logf("redocly --version = %q (%v); .ci/run installs %s", out, err, redoclyVersion)
	}
	for _, stack := range [][]string{
		{"--framework", "gin", "--database", "postgres", "--cache", "none", "--broker", "none", "--metrics", "prometheus", "--auth", "jwt"},
		{"--framework", "echo", "--database", "none", "--cache", "none", "--broker", "kafka", "--metrics", "prometheus"},
		{"--framework", "chi", "--database", "postgres", "--cache", "redis", "--broker", "kafka", "--metrics", "none", "--auth", "jwt"},
		{"--framework", "stdlib", "--database", "none", "--cache", "redis", "--broker", "none", "--metrics", "none", "--tracing", "otel"},
	} {
		var name []string
		for i := 1; i < len(stack); i += 2 {
			name = append(name, stack[i])
		}
		t.Run(strings.Join(name, "-"), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "lint-svc")
			svcgen(t, append([]string{"new", "lint-svc", "--module", "example.com/lint-svc", "-o", dir, "-y", "--no-tidy"}, stack...)...)
			lintOpenAPI(t, bin, dir)
		})
	}
}
