package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/svcgen/svcgen/generator"
)

// testTemplates holds, per test, the template loader useTemplates chose for the commands runCLI
// runs (IOStreams.Templates): keyed by the test, so tests running in parallel keep their own.
var testTemplates sync.Map // *testing.T → func(string) (*generator.Catalog, error)

// runCLI runs one svcgen command line without a terminal and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	if load, ok := testTemplates.Load(t); ok {
		streams.Templates = load.(func(string) (*generator.Catalog, error))
	}
	code = run(context.Background(), streams, args)
	return code, out.String(), errOut.String()
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("%s is not empty: %v", dir, entries)
	}
}

func TestNewWithoutTerminalNamesWhatIsMissing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "new", "-o", filepath.Join(dir, "svc"))
	if code == 0 {
		t.Fatal("exit 0 without answers and without a terminal")
	}
	for _, want := range []string{"NAME", "--framework", "--database", "--ci", "--yes"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not name %s", stderr, want)
		}
	}
	assertEmptyDir(t, dir)
}

func TestNewRejectsBadValuesWritingNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"new", "Bad_Name", "-y"}, []string{`"Bad_Name"`, "lowercase"}},
		{[]string{"new", "svc", "-y", "--framework", "fiber"}, []string{`framework "fiber"`, "chi, echo, gin, stdlib"}},
		{[]string{"new", "svc", "-y", "--ci", "jenkins"}, []string{`ci "jenkins"`, "none"}},
		{[]string{"new", "svc", "-y", "--module", "github.com/acme/x/v1"}, []string{"github.com/acme/x/v1"}},
		{[]string{"new", "-y"}, []string{"NAME is required"}},
		{[]string{"new", "svc", "-y", "--answers", "/nonexistent/answers.yaml"}, []string{"/nonexistent/answers.yaml"}},
	}
	for _, tc := range cases {
		dir := t.TempDir()
		args := append(tc.args, "-o", filepath.Join(dir, "out"), "--no-tidy")
		code, _, stderr := runCLI(t, args...)
		if code == 0 {
			t.Errorf("%v: exit 0", tc.args)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
		assertEmptyDir(t, dir)
	}
}

func TestNewRefusesNonEmptyTargetUnlessForced(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mine := filepath.Join(dir, "notes.txt")
	os.WriteFile(mine, []byte("keep me\n"), 0o644)
	code, _, stderr := runCLI(t, "new", "svc", "-y", "--no-tidy", "-o", dir)
	if code == 0 || !strings.Contains(stderr, "not empty") || !strings.Contains(stderr, "--force") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("files written into a non-empty target: %v", entries)
	}
	code, _, stderr = runCLI(t, "new", "svc", "-y", "--no-tidy", "--force", "-o", dir)
	if code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if data, _ := os.ReadFile(mine); string(data) != "keep me\n" {
		t.Error("--force removed or changed a file the service does not own")
	}
}

func TestNewDryRunPrintsThePlanAndWritesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "new", "orders-api", "-y", "--dry-run", "-o", filepath.Join(dir, "svc"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"create    cmd/orders-api/main.go (core)", "create    go.mod (core)", "dry run: nothing written"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	assertEmptyDir(t, dir)
}

func TestNewWritesAServiceWithItsManifest(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "svc")
	code, stdout, stderr := runCLI(t, "new", "orders-api", "--framework", "echo", "-y", "--no-tidy", "-o", dir, "--module", "example.com/orders")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "created orders-api") {
		t.Errorf("stdout: %s", stdout)
	}
	manifest, err := os.ReadFile(filepath.Join(dir, ".svcgen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"framework: echo", "module: example.com/orders", "component: echo", "sha256: "} {
		if !strings.Contains(string(manifest), want) {
			t.Errorf("manifest lacks %q", want)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, _ := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(stdout, "svcgen 0.") {
			t.Errorf("%v: exit %d, %q", args, code, stdout)
		}
	}
}

func regexpMatch(pattern, s string) bool {
	return regexp.MustCompile(pattern).MatchString(s)
}

func TestNewWithTemplateOverlay(t *testing.T) {
	t.Parallel()
	overlay := t.TempDir()
	os.MkdirAll(filepath.Join(overlay, "core"), 0o755)
	os.WriteFile(filepath.Join(overlay, "core", "NOTES.md.tmpl"), []byte("notes for {{ .Name }}\n"), 0o644)
	dir := filepath.Join(t.TempDir(), "svc")
	code, _, stderr := runCLI(t, "new", "orders-api", "-y", "--no-tidy", "--templates", overlay, "-o", dir)
	if code != 0 {
		t.Fatal(stderr)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "NOTES.md")); err != nil || string(data) != "notes for orders-api\n" {
		t.Fatalf("NOTES.md = %q, %v", data, err)
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, ".svcgen.yaml"))
	rel, _ := filepath.Rel(dir, overlay)
	if !strings.Contains(string(manifest), "templates: "+rel) {
		t.Errorf("overlay path not recorded in the manifest:\n%s", manifest)
	}

	// An overlay that reads the environment is refused, and nothing is written.
	os.WriteFile(filepath.Join(overlay, "core", "LEAK.md.tmpl"), []byte(`{{ env "HOME" }}`), 0o644)
	parent := t.TempDir()
	code, _, stderr = runCLI(t, "new", "orders-api", "-y", "--no-tidy", "--templates", overlay, "-o", filepath.Join(parent, "svc"))
	if code == 0 || !strings.Contains(stderr, `function "env" not defined`) || !strings.Contains(stderr, "core/LEAK.md.tmpl") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	assertEmptyDir(t, parent)
}

// TestNewKeepsTheServiceWhenTidyFails: with no way to download modules, tidy fails; the
// service is still written, go's error is shown with how to retry, and the exit is non-zero.
func TestNewKeepsTheServiceWhenTidyFails(t *testing.T) {
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOFLAGS", "-mod=mod")
	dir := filepath.Join(t.TempDir(), "svc")
	code, _, stderr := runCLI(t, "new", "svc", "-y", "-o", dir)
	if code == 0 {
		t.Fatal("exit 0 although go mod tidy cannot download anything")
	}
	for _, want := range []string{"go mod tidy failed", "cd " + dir + " && go mod tidy", "module lookup disabled"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".svcgen.yaml")); err != nil {
		t.Errorf("the rendered service was not kept: %v", err)
	}
}

// A script that names the service and every required choice, written before an optional
// group existed, keeps working without a terminal: the groups it leaves out are none.
func TestNewWithoutTerminalTakesNoneForOptionalGroups(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "svc")
	code, _, stderr := runCLI(t, "new", "svc", "--framework", "gin", "--database", "none", "--no-tidy", "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "not given, so none: ") || !strings.Contains(stderr, "--tracing") || strings.Contains(stderr, "--database") {
		t.Errorf("stderr %q does not name exactly the optional groups taken as none", stderr)
	}
	manifest, err := os.ReadFile(filepath.Join(dir, ".svcgen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(manifest), "tracing: none") || !strings.Contains(string(manifest), "cache: none") {
		t.Errorf("manifest does not record the optional groups as none:\n%s", manifest)
	}
}
