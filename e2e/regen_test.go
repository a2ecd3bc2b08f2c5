package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/internal/testtree"
)

// Scenarios of regeneration on real generated services: the owners edit wiring files and the
// Makefile and add files of their own, then the service is changed with add/remove/set/regen.
// Every edit must survive, the change must be wired in, and the service must build and pass its
// tests. Each scenario builds and race-tests services, so there are few of them.

const svcName = "orders-api"

// newRegenService generates orders-api with the core stack and the given framework.
func newRegenService(t *testing.T, framework string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), svcName)
	svcgen(t, append([]string{"new", svcName, "--module", "example.com/" + svcName, "--framework", framework, "-o", dir}, coreFlags...)...)
	return dir
}

// ownersEdits are the owners' changes to a generated service: a line in the wiring of
// cmd/NAME/main.go plus a function at its end, a Makefile target, files of their own (one of
// them a test of the edited main package), and a module of their own in go.mod.
func ownersEdits(t *testing.T, dir string) {
	t.Helper()
	mainGo := filepath.Join("cmd", svcName, "main.go")
	replaceIn(t, dir, mainGo, `logger.Info("stopped")`, `logger.Info("stopped", "team", ownerTeam())`)
	appendTo(t, dir, mainGo, "\n// ownerTeam names the team on call for the service.\nfunc ownerTeam() string { return \"payments\" }\n")
	appendTo(t, dir, "Makefile", "\nsmoke: ## Our smoke test\n\tgo test -run Owner ./cmd/...\n")
	testtree.WriteFile(t, dir, filepath.Join("cmd", svcName, "owner_test.go"), "package main\n\nimport \"testing\"\n\nfunc TestOwnerTeam(t *testing.T) {\n\tif ownerTeam() != \"payments\" {\n\t\tt.Fatal(ownerTeam())\n\t}\n}\n")
	// A package of their own with a dependency of their own (already in the module cache:
	// svcgen's own build needs it), required the way owners do it: go get / go mod tidy.
	testtree.WriteFile(t, dir, "internal/audit/audit.go", "// Package audit is the owners' own.\npackage audit\n\nimport \"github.com/google/uuid\"\n\n// NewID returns an audit record ID.\nfunc NewID() string { return uuid.NewString() }\n")
	testtree.WriteFile(t, dir, "internal/audit/audit_test.go", "package audit\n\nimport \"testing\"\n\nfunc TestNewID(t *testing.T) {\n\tif len(NewID()) != 36 {\n\t\tt.Fatal(NewID())\n\t}\n}\n")
	inService(t, dir, nil, "go", "mod", "tidy")
}

// checkOwnersEdits asserts that every owners' edit is still there.
func checkOwnersEdits(t *testing.T, dir string) {
	t.Helper()
	tree := testtree.ReadAll(t, dir)
	mainGo := "cmd/" + svcName + "/main.go"
	for path, wants := range map[string][]string{
		mainGo:                              {`logger.Info("stopped", "team", ownerTeam())`, `func ownerTeam() string { return "payments" }`},
		"Makefile":                          {"smoke: ## Our smoke test"},
		"cmd/" + svcName + "/owner_test.go": {"func TestOwnerTeam"},
		"internal/audit/audit.go":           {"uuid.NewString()"},
		"internal/audit/audit_test.go":      {"func TestNewID"},
		"go.mod":                            {"github.com/google/uuid"},
	} {
		for _, w := range wants {
			if !strings.Contains(tree[path], w) {
				t.Errorf("%s lost the owners' %q", path, w)
			}
		}
	}
	for path, data := range tree {
		if generator.HasConflictMarkers([]byte(data)) {
			t.Errorf("%s has conflict markers", path)
		}
	}
}

// TestRegenSwitchFrameworkKeepsEdits: an unchanged regen touches nothing and --check passes;
// after the owners' edits, `set framework echo` switches the server to Echo with every edit
// kept, and the service builds and passes its tests; regen afterwards touches nothing, and
// --check passes: edits that regeneration keeps as they are are not drift.
func TestRegenSwitchFrameworkKeepsEdits(t *testing.T) {
	dir := newRegenService(t, "gin")

	backdate(t, dir)
	out := svcgen(t, "regen", "-C", dir)
	if !strings.Contains(out, "nothing written") {
		t.Errorf("regen of a fresh service:\n%s", out)
	}
	if got := touched(t, dir); len(got) != 0 {
		t.Errorf("an unchanged regen touched %v", got)
	}
	svcgen(t, "regen", "--check", "-C", dir)

	ownersEdits(t, dir)
	out = svcgen(t, "set", "framework", "echo", "-C", dir)
	for _, want := range []string{"update    internal/server/router.go (echo)", "merge     go.mod (core)"} {
		if !strings.Contains(out, want) {
			t.Errorf("set framework echo output lacks %q:\n%s", want, out)
		}
	}
	checkOwnersEdits(t, dir)
	tree := testtree.ReadAll(t, dir)
	if !strings.Contains(tree["internal/server/router.go"], "labstack/echo/v5") || !strings.Contains(tree[".svcgen.yaml"], "framework: echo") {
		t.Error("the server was not switched to Echo")
	}
	if strings.Contains(tree["go.mod"], "gin-gonic/gin") || !strings.Contains(tree["go.mod"], "labstack/echo/v5") {
		t.Errorf("go.mod after the switch:\n%s", tree["go.mod"])
	}
	checkService(t, dir, nil)

	backdate(t, dir)
	svcgen(t, "regen", "-C", dir)
	if got := touched(t, dir); len(got) != 0 {
		t.Errorf("regen after the switch touched %v", got)
	}
	// The owners' edits are merged in and regen would change nothing: the service is in step.
	if out, code := svcgenExit(t, "regen", "--check", "-C", dir); code != 0 {
		t.Fatalf("--check on an edited service in step: exit %d\n%s", code, out)
	}
}

// TestRegenAddRemoveRedisKeepsEdits is the acceptance scenario: on a service whose
// owners edited cmd/NAME/main.go and the Makefile and added their own files, `add redis`,
// `regen` and `remove redis` keep every edit, wire redis in and out, and leave a service that
// builds and passes its tests. It needs the redis component; it is skipped while the catalog
// has none, and never with CI=true.
func TestRegenAddRemoveRedisKeepsEdits(t *testing.T) {
	c, err := generator.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Component("redis"); !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true and the templates have no redis component")
		}
		t.Skip("the templates have no redis component yet")
	}
	env := integrationEnv(t)
	dir := newRegenService(t, "gin")
	ownersEdits(t, dir)

	out := svcgen(t, "add", "redis", "-C", dir)
	if !strings.Contains(out, "(redis)") {
		t.Errorf("add redis created no redis file:\n%s", out)
	}
	checkOwnersEdits(t, dir)
	tree := testtree.ReadAll(t, dir)
	if !strings.Contains(tree["go.mod"], "github.com/redis/go-redis/v9") || !strings.Contains(tree[".svcgen.yaml"], "cache: redis") {
		t.Errorf("redis not added:\n%s", tree["go.mod"])
	}
	if !strings.Contains(tree["cmd/"+svcName+"/main.go"], "redis") {
		t.Error("redis is not wired into main.go")
	}
	checkService(t, dir, env)

	backdate(t, dir)
	svcgen(t, "regen", "-C", dir)
	if got := touched(t, dir); len(got) != 0 {
		t.Errorf("regen after add redis touched %v", got)
	}

	out = svcgen(t, "remove", "redis", "-C", dir)
	if !strings.Contains(out, "delete") {
		t.Errorf("remove redis deleted nothing:\n%s", out)
	}
	checkOwnersEdits(t, dir)
	tree = testtree.ReadAll(t, dir)
	if strings.Contains(tree["go.mod"], "go-redis") || strings.Contains(tree["cmd/"+svcName+"/main.go"], "redis") {
		t.Errorf("redis left behind:\n%s", tree["go.mod"])
	}
	checkService(t, dir, env)
}

// TestRegenCollidingEditIsMarked: an owners' edit to a line the generator changes is kept
// between conflict markers, named in the output, the rest of the change is applied and the
// command exits non-zero; the dry run before it changes nothing.
func TestRegenCollidingEditIsMarked(t *testing.T) {
	dir := newRegenService(t, "gin")
	const server = "internal/server/router.go"
	replaceIn(t, dir, server, "r.RedirectTrailingSlash = false", "r.RedirectTrailingSlash = true")
	backdate(t, dir)
	before := testtree.ReadAll(t, dir)

	out, code := svcgenExit(t, "set", "framework", "echo", "--dry-run", "-C", dir)
	if code != 3 || !strings.Contains(out, "conflict  "+server) || !strings.Contains(out, "dry run: nothing written") {
		t.Errorf("dry run: exit %d\n%s", code, out)
	}
	if got := touched(t, dir); len(got) != 0 || !equalTrees(before, testtree.ReadAll(t, dir)) {
		t.Errorf("the dry run changed the service: touched %v", got)
	}

	out, code = svcgenExit(t, "set", "framework", "echo", "-C", dir)
	if code != 3 {
		t.Fatalf("set framework echo with a colliding edit: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "conflict  "+server) || !strings.Contains(out, "has conflicts: "+server) {
		t.Errorf("the conflict is not named:\n%s", out)
	}
	tree := testtree.ReadAll(t, dir)
	for _, want := range []string{"<<<<<<< yours\n", "r.RedirectTrailingSlash = true", "=======\n", ">>>>>>> svcgen "} {
		if !strings.Contains(tree[server], want) {
			t.Errorf("%s lacks %q:\n%s", server, want, tree[server])
		}
	}
	if !strings.Contains(tree["go.mod"], "labstack/echo/v5") || !strings.Contains(tree[".svcgen.yaml"], "framework: echo") {
		t.Error("the rest of the change was not applied")
	}
	out, code = svcgenExit(t, "regen", "--check", "-C", dir)
	if code != 1 || !strings.Contains(out, server+" (echo): has unresolved conflict markers") {
		t.Errorf("--check after the conflict: exit %d\n%s", code, out)
	}
}

// TestRegenFindsTheRecordedTemplatesOverlay: `new --templates DIR` with a relative DIR records
// it in the manifest relative to the service, so regen, run from anywhere with -C, renders with
// the same overlay: nothing changes and --check passes. (Without the overlay, its file would be
// "no longer generated".)
func TestRegenFindsTheRecordedTemplatesOverlay(t *testing.T) {
	work := t.TempDir()
	testtree.WriteFile(t, work, "tpl/core/docs/RUNBOOK.md.tmpl", "# {{ .Name }} runbook\n")
	out, err := svcgenIn(work, append([]string{"new", svcName, "--framework", "gin", "--templates", "tpl", "-o", "services/" + svcName, "--no-tidy"}, coreFlags...)...)
	if err != nil {
		t.Fatalf("new: %v\n%s", err, out)
	}
	dir := filepath.Join(work, "services", svcName)
	tree := testtree.ReadAll(t, dir)
	if tree["docs/RUNBOOK.md"] != "# orders-api runbook\n" || !strings.Contains(tree[".svcgen.yaml"], "templates: ../../tpl") {
		t.Fatalf("overlay not used or not recorded relative to the service:\n%s", tree[".svcgen.yaml"])
	}
	backdate(t, dir)
	for _, args := range [][]string{{"regen", "--no-tidy", "-C", dir}, {"regen", "--check", "-C", dir}} {
		if out, err := svcgenIn(t.TempDir(), args...); err != nil {
			t.Errorf("svcgen %v: %v\n%s", args, err, out)
		}
	}
	if got := touched(t, dir); len(got) != 0 {
		t.Errorf("regen with the overlay touched %v", got)
	}
}

// svcgenIn runs the binary in the working directory wd.
func svcgenIn(wd string, args ...string) (string, error) {
	cmd := exec.Command(svcgenBin, args...)
	cmd.Dir = wd
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// svcgenExit runs the binary and returns its combined output and exit code.
func svcgenExit(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := svcgenResult(args...)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out, 0
	case errors.As(err, &ee):
		return out, ee.ExitCode()
	}
	t.Fatalf("svcgen %s: %v", strings.Join(args, " "), err)
	return "", 0
}

var past = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// backdate sets every file's modification time to past, so touched can tell what was written.
func backdate(t *testing.T, dir string) {
	t.Helper()
	for p := range testtree.ReadAll(t, dir) {
		if err := os.Chtimes(filepath.Join(dir, p), past, past); err != nil {
			t.Fatal(err)
		}
	}
}

// touched lists the files written since backdate, and the files created since.
func touched(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for p := range testtree.ReadAll(t, dir) {
		info, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if !info.ModTime().Equal(past) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func equalTrees(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for p, data := range a {
		if other, ok := b[p]; !ok || other != data {
			return false
		}
	}
	return true
}

func replaceIn(t *testing.T, dir, rel, old, new string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s has no %q: the templates changed, update the scenario", rel, old)
	}
	testtree.WriteFile(t, dir, rel, strings.Replace(string(data), old, new, 1))
}

func appendTo(t *testing.T, dir, rel, text string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	testtree.WriteFile(t, dir, rel, string(data)+text)
}
