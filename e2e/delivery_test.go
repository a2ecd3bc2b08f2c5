package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/svcgen/svcgen/internal/testtree"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"golang.org/x/mod/modfile"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/svcgen/svcgen/generator"
)

// dependency is a component whose wiring the delivery files carry: a compose service, a CI
// service container, a setting in the Kubernetes manifests.
type dependency struct {
	group, name string
	env         string // the variable that points the service at it ("" for none)
}

var dependencies = []dependency{
	{"database", "postgres", "DATABASE_URL"},
	{"cache", "redis", "REDIS_URL"},
	{"broker", "kafka", "KAFKA_BROKERS"},
	{"metrics", "prometheus", ""},
}

// stack is a generated service's choices as the delivery checks need them.
type stack struct {
	name, framework, ci string
	with                map[string]bool // dependency components chosen
	stubbed             map[string]bool // chosen, but only as a stub: no code, no configuration
}

// fullStackArgs returns the `svcgen new` flags choosing every dependency component. One that
// the embedded templates lack is, with stub, added by an overlay holding only its
// component.yaml: the delivery files' wiring for it is then rendered and validated even though
// its code is not there. Without stub it is left out (none).
func fullStackArgs(t *testing.T, s *stack, stub bool) []string {
	t.Helper()
	catalog, err := generator.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	s.with, s.stubbed = map[string]bool{}, map[string]bool{}
	args := []string{"--framework", s.framework, "--ci", s.ci, "--deploy", "kubernetes"}
	overlay := ""
	for _, d := range dependencies {
		choice := d.name
		if _, ok := catalog.Component(d.name); !ok {
			if !stub {
				choice = generator.None
			} else {
				if overlay == "" {
					overlay = t.TempDir()
				}
				dir := filepath.Join(overlay, d.name)
				meta := "name: " + d.name + "\ngroup: " + d.group + "\ndescription: stub of a component this build does not have yet\n"
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "component.yaml"), []byte(meta), 0o644); err != nil {
					t.Fatal(err)
				}
				s.stubbed[d.name] = true
			}
		}
		s.with[d.name] = choice != generator.None
		args = append(args, "--"+d.group, choice)
	}
	if overlay != "" {
		args = append(args, "--templates", overlay)
	}
	return args
}

// TestDeliveryFiles generates full-stack Gin and Echo services with each CI system and
// Kubernetes manifests, and checks every delivery file with the real validators.
func TestDeliveryFiles(t *testing.T) {
	for _, tc := range []struct{ framework, ci string }{
		{"gin", "github"}, {"gin", "gitlab"}, {"echo", "github"}, {"echo", "gitlab"},
	} {
		t.Run(tc.framework+"-"+tc.ci, func(t *testing.T) {
			s := &stack{name: "orders-api", framework: tc.framework, ci: tc.ci}
			dir := filepath.Join(t.TempDir(), s.name)
			args := append([]string{"new", s.name, "--module", "example.com/orders-api", "-o", dir, "--no-tidy"}, fullStackArgs(t, s, true)...)
			svcgen(t, args...)
			if len(s.stubbed) > 0 {
				t.Logf("stubbed components (not in this build yet; their wiring is checked, not their code): %v", keys(s.stubbed))
			}

			t.Run("Dockerfile", func(t *testing.T) { checkDockerfile(t, dir, s) })
			t.Run("docker-compose", func(t *testing.T) { checkCompose(t, dir, s) })
			t.Run("kubernetes", func(t *testing.T) { checkKubernetes(t, dir, s) })
			t.Run("golangci", func(t *testing.T) { checkGolangciConfig(t, dir) })
			switch tc.ci {
			case "github":
				t.Run("github", func(t *testing.T) { checkGitHubWorkflow(t, dir, s) })
				assertAbsent(t, dir, ".gitlab-ci.yml")
			case "gitlab":
				t.Run("gitlab", func(t *testing.T) { checkGitLabCI(t, dir, s) })
				assertAbsent(t, dir, ".github")
			}
		})
	}
}

// TestDeliveryChoicesNone checks that --ci none and --deploy none leave their files out, and
// that the files of a service without dependencies still validate.
func TestDeliveryChoicesNone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bare")
	svcgen(t, append([]string{"new", "bare", "-o", dir, "--no-tidy", "--framework", "gin"}, coreFlags...)...)
	for _, p := range []string{".github", ".gitlab-ci.yml", "deploy"} {
		assertAbsent(t, dir, p)
	}
	s := &stack{name: "bare", framework: "gin", ci: "none", with: map[string]bool{}, stubbed: map[string]bool{}}
	checkDockerfile(t, dir, s)
	checkCompose(t, dir, s)
	checkGolangciConfig(t, dir)
}

// TestValidatorsRejectBrokenFiles shows that each validator catches a broken file, so that
// the checks above passing means something.
func TestValidatorsRejectBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	t.Run("actionlint", func(t *testing.T) {
		file := filepath.Join(dir, "bad.yml")
		testtree.WriteFile(t, dir, "bad.yml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/setup-go@v6\n        with:\n          go-version-fiel: go.mod\n")
		if err := actionlintErr(t, file); err == nil {
			t.Fatal("actionlint accepted an unknown input of actions/setup-go")
		}
	})
	t.Run("gitlab-schema", func(t *testing.T) {
		sch := gitlabSchema(t)
		if err := gitlabSchemaErr(sch, []byte("test:\n  script: [go test ./...]\n")); err != nil {
			t.Fatalf("a minimal valid pipeline was rejected: %v", err)
		}
		if err := gitlabSchemaErr(sch, []byte("test:\n  scrip: [go test ./...]\n")); err == nil {
			t.Fatal("the schema accepted a job with an unknown keyword")
		}
	})
	t.Run("docker-compose", func(t *testing.T) {
		testtree.WriteFile(t, dir, "compose.yml", "services:\n  a:\n    image: x\n    depends_on:\n      b:\n        condition: service_healthy\n")
		if err := composeConfigErr(t, dir, "compose.yml"); err == nil {
			t.Fatal("docker-compose accepted a dependency on an undefined service")
		}
	})
	t.Run("kubernetes", func(t *testing.T) {
		bad := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 2\n"
		if _, err := decodeKube("bad.yaml", []byte(bad)); err == nil {
			t.Fatal("a Deployment with an unknown field decoded")
		}
		if _, err := decodeKube("bad.yaml", []byte("apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\n")); err == nil {
			t.Fatal("an autoscaling/v1 HPA was accepted")
		}
	})
	t.Run("kustomize", func(t *testing.T) {
		k := filepath.Join(dir, "k8s")
		testtree.WriteFile(t, k, "kustomization.yaml", "resources:\n  - deployment.yaml\nconfigMapGenerator:\n  - name: x\n    envs: [config.env]\n")
		testtree.WriteFile(t, k, "config.env", "A=1\n")
		if _, err := kustomizeBuild(t, k); err == nil {
			t.Fatal("kustomize built a kustomization whose resource does not exist")
		}
	})
	t.Run("dockerfile", func(t *testing.T) {
		if _, err := parseDockerfile([]byte("FROM golang:1.26 AS build\nHEALTHCHECK --bogus=1 CMD true\n")); err == nil {
			t.Fatal("BuildKit accepted an unknown HEALTHCHECK flag")
		}
	})
}

// TestHealthcheckMode runs a generated binary's -healthcheck against the running service and
// against nothing: the image's HEALTHCHECK relies on its exit status.
func TestHealthcheckMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "probe-svc")
	svcgen(t, append([]string{"new", "probe-svc", "-o", dir, "--framework", "echo"}, coreFlags...)...)
	svc := startService(t, dir, "probe-svc", nil)
	probe := func(port int) error {
		cmd := exec.Command(svc.Bin, "-healthcheck")
		cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
		out, err := cmd.CombinedOutput()
		if err != nil {
			return &probeError{err: err, out: string(out)}
		}
		return nil
	}
	start := time.Now()
	if err := probe(svc.Port); err != nil {
		t.Fatalf("-healthcheck against the running service: %v", err)
	}
	if err := probe(freePort(t)); err == nil {
		t.Fatal("-healthcheck against a port nobody listens on exited 0")
	} else if pe, ok := err.(*probeError); !ok || !strings.Contains(pe.out, "health probe") {
		t.Fatalf("-healthcheck failure does not explain itself: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("two probes took %s", d)
	}
}

type probeError struct {
	err error
	out string
}

func (e *probeError) Error() string { return e.err.Error() + ": " + e.out }

// TestGeneratedServicesPassGolangciLint runs golangci-lint with the generated .golangci.yml on
// the fullest Gin and Echo services this build can generate (every dependency component it
// has). It is slow, so one service per framework; -short skips it.
func TestGeneratedServicesPassGolangciLint(t *testing.T) {
	if testing.Short() {
		t.Skip("golangci-lint: skipped with -short")
	}
	bin := requireTool(t, "golangci-lint", installGolangciLint)
	if out, err := run("", bin, "version", "--short"); err != nil || "v"+strings.TrimPrefix(out, "v") != generator.Tools.GolangciLint {
		t.Logf("golangci-lint %s here; generated CI pins %s", out, generator.Tools.GolangciLint)
	}
	for _, fw := range []string{"gin", "echo", "stdlib", "chi"} {
		t.Run(fw, func(t *testing.T) {
			s := &stack{name: "lint-" + fw, framework: fw, ci: "github"}
			dir := filepath.Join(t.TempDir(), s.name)
			svcgen(t, append([]string{"new", s.name, "--module", "example.com/" + s.name, "-o", dir}, fullStackArgs(t, s, false)...)...)
			t.Logf("dependency components: %v", chosen(s.with))
			cmd := exec.Command(bin, "run", "./...")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOWORK=off", "GOLANGCI_LINT_CACHE="+filepath.Join(os.TempDir(), "svcgen-golangci-cache"))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("golangci-lint run ./... in the generated %s service: %v\n%s", fw, err, out)
			}
		})
	}
}

func checkDockerfile(t *testing.T, dir string, s *stack) {
	df, err := parseDockerfile(readFile(t, dir, "Dockerfile"))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	if len(df.warnings) > 0 {
		t.Errorf("BuildKit warns about the Dockerfile: %v", df.warnings)
	}
	if len(df.stages) != 2 {
		t.Fatalf("Dockerfile has %d stages, want 2 (builder, runtime)", len(df.stages))
	}
	build, final := df.stages[0], df.stages[1]

	// The builder's Go is the go.mod version, which is generator.GoVersion.
	mf, err := modfile.ParseLax("go.mod", readFile(t, dir, "go.mod"), nil)
	if err != nil || mf.Go == nil {
		t.Fatalf("go.mod: %v", err)
	}
	if want := "golang:" + generator.GoVersion; build.BaseName != want || !strings.HasPrefix(mf.Go.Version, generator.GoVersion) {
		t.Errorf("builder FROM %s, go.mod go %s; want %s for go %s", build.BaseName, mf.Go.Version, want, generator.GoVersion)
	}
	var goBuild string
	for _, c := range build.Commands {
		if r, ok := c.(*instructions.RunCommand); ok && strings.Contains(strings.Join(r.CmdLine, " "), "go build") {
			goBuild = strings.Join(r.CmdLine, " ")
		}
	}
	if !strings.Contains(goBuild, "CGO_ENABLED=0") || !strings.Contains(goBuild, "./cmd/"+s.name) {
		t.Errorf("builder does not build ./cmd/%s statically (CGO_ENABLED=0): %q", s.name, goBuild)
	}

	if !regexp.MustCompile(`^gcr\.io/distroless/static-debian\d+:nonroot$`).MatchString(final.BaseName) {
		t.Errorf("final stage FROM %s, want a pinned gcr.io/distroless/static-debianNN:nonroot", final.BaseName)
	}
	bin := "/app/" + s.name
	var user, expose string
	var health *instructions.HealthCheckCommand
	var entrypoint *instructions.EntrypointCommand
	var copied bool
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.CopyCommand:
			copied = copied || c.From == build.Name && c.DestPath == bin
		case *instructions.UserCommand:
			user = c.User
		case *instructions.ExposeCommand:
			expose = strings.Join(c.Ports, " ")
		case *instructions.HealthCheckCommand:
			health = c
		case *instructions.EntrypointCommand:
			entrypoint = c
		case *instructions.RunCommand, *instructions.CmdCommand:
			t.Errorf("final stage runs %s: the distroless image has no shell", c.Name())
		}
	}
	if !copied {
		t.Errorf("final stage does not COPY --from=%s the binary to %s", build.Name, bin)
	}
	if user != "65532:65532" {
		t.Errorf("USER %q, want 65532:65532 (distroless nonroot, numeric so that runAsNonRoot can verify it)", user)
	}
	if expose != "8080 9090" {
		t.Errorf("EXPOSE %q, want 8080 9090 (the public and the admin port)", expose)
	}
	if health == nil || !slices.Equal(health.Health.Test, []string{"CMD", bin, "-healthcheck"}) || health.Health.Timeout <= 0 || health.Health.Interval <= 0 {
		t.Errorf("HEALTHCHECK must run [%s -healthcheck] in exec form with an interval and timeout, got %+v", bin, health)
	}
	if entrypoint == nil || entrypoint.PrependShell || !slices.Equal(entrypoint.CmdLine, []string{bin}) {
		t.Errorf("ENTRYPOINT must be [%q] in exec form, got %+v", bin, entrypoint)
	}

	ignore := strings.Fields(string(readFile(t, dir, ".dockerignore")))
	for _, p := range []string{".git", ".env"} {
		if !slices.Contains(ignore, p) {
			t.Errorf(".dockerignore does not exclude %s", p)
		}
	}
}

func checkCompose(t *testing.T, dir string, s *stack) {
	if err := composeConfigErr(t, dir, "docker-compose.yml"); err != nil {
		t.Error(err)
	}
	type service struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Environment map[string]string `yaml:"environment"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		ReadOnly bool `yaml:"read_only"`
	}
	var compose struct {
		Services map[string]service `yaml:"services"`
	}
	if err := yaml.Unmarshal(readFile(t, dir, "docker-compose.yml"), &compose); err != nil {
		t.Fatal(err)
	}
	app, ok := compose.Services[s.name]
	if !ok || app.Build == nil {
		t.Fatalf("docker-compose.yml has no service %s built from the Dockerfile: %v", s.name, keys(compose.Services))
	}
	if !app.ReadOnly {
		t.Errorf("service %s: want read_only: true, as in Kubernetes", s.name)
	}
	checkConfigReads(t, dir, s, "docker-compose.yml", keys(app.Environment))
	wantServices := []string{s.name}
	for _, d := range dependencies {
		if d.env == "" {
			continue
		}
		if _, set := app.Environment[d.env]; set != s.with[d.name] {
			t.Errorf("service %s: %s set = %v, want %v (%s chosen: %v)", s.name, d.env, set, s.with[d.name], d.name, s.with[d.name])
		}
		if !s.with[d.name] {
			continue
		}
		wantServices = append(wantServices, d.name)
		dep, ok := compose.Services[d.name]
		if !ok {
			t.Errorf("docker-compose.yml has no %s service", d.name)
			continue
		}
		if len(dep.Healthcheck.Test) == 0 {
			t.Errorf("compose service %s has no healthcheck", d.name)
		}
		if !regexp.MustCompile(`^[a-z0-9./-]+:[0-9][0-9.]*$`).MatchString(dep.Image) {
			t.Errorf("compose service %s: image %q is not pinned to a version tag", d.name, dep.Image)
		}
		if app.DependsOn[d.name].Condition != "service_healthy" {
			t.Errorf("service %s does not wait for %s with condition: service_healthy", s.name, d.name)
		}
	}
	if got := keys(compose.Services); !slices.Equal(got, sorted(wantServices)) {
		t.Errorf("compose services = %v, want %v", got, sorted(wantServices))
	}
}

// checkConfigReads asserts that the service's configuration (internal/config) reads every
// variable a delivery file sets, except those of stubbed components, whose code is absent.
func checkConfigReads(t *testing.T, dir string, s *stack, file string, vars []string) {
	t.Helper()
	var src strings.Builder
	paths, err := filepath.Glob(filepath.Join(dir, "internal", "config", "*.go"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no internal/config sources: %v", err)
	}
	for _, p := range paths {
		if !strings.HasSuffix(p, "_test.go") {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			src.Write(data)
		}
	}
	for _, v := range vars {
		owner := ""
		for _, d := range dependencies {
			if d.env == v {
				owner = d.name
			}
		}
		if !s.stubbed[owner] && !strings.Contains(src.String(), `"`+v+`"`) {
			t.Errorf("%s sets %s, which internal/config does not read", file, v)
		}
	}
}

func checkGitHubWorkflow(t *testing.T, dir string, s *stack) {
	file := filepath.Join(dir, ".github", "workflows", "ci.yml")
	if err := actionlintErr(t, file); err != nil {
		t.Error(err)
	}
	type step struct {
		Uses string            `yaml:"uses"`
		Run  string            `yaml:"run"`
		With map[string]string `yaml:"with"`
	}
	var wf struct {
		Jobs map[string]struct {
			Services map[string]struct {
				Image   string `yaml:"image"`
				Options string `yaml:"options"`
			} `yaml:"services"`
			Env   map[string]string `yaml:"env"`
			Steps []step            `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(readFile(t, dir, ".github/workflows/ci.yml"), &wf); err != nil {
		t.Fatal(err)
	}
	var all []step
	for _, j := range wf.Jobs {
		all = append(all, j.Steps...)
	}
	has := func(pred func(step) bool) bool { return slices.ContainsFunc(all, pred) }
	checks := map[string]bool{
		"checkout": has(func(st step) bool { return strings.HasPrefix(st.Uses, "actions/checkout@") }),
		"setup-go at the pinned Go release": has(func(st step) bool {
			return strings.HasPrefix(st.Uses, "actions/setup-go@") && st.With["go-version"] == generator.Tools.Go && st.With["cache"] == "true"
		}),
		"go vet":        has(func(st step) bool { return strings.Contains(st.Run, "go vet ./...") }),
		"go test -race": has(func(st step) bool { return strings.Contains(st.Run, "go test -race") }),
		"golangci-lint (pinned v2)": has(func(st step) bool {
			return strings.HasPrefix(st.Uses, "golangci/golangci-lint-action@") && st.With["version"] == generator.Tools.GolangciLint
		}),
		"govulncheck (pinned)": has(func(st step) bool { return strings.Contains(st.Run, "govulncheck@"+generator.Tools.Govulncheck) }),
		"image build, not pushed": has(func(st step) bool {
			return strings.HasPrefix(st.Uses, "docker/build-push-action@") && st.With["push"] == "false"
		}),
		"go mod tidy check": has(func(st step) bool { return strings.Contains(st.Run, "go mod tidy -diff") }),
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("workflow lacks %s", what)
		}
	}
	for _, st := range all {
		if strings.HasPrefix(st.Uses, "actions/setup-go@") && st.With["go-version"] != generator.Tools.Go {
			t.Errorf("setup-go with %v: want go-version %s, an exact release (go.mod's go line would install its .0)", st.With, generator.Tools.Go)
		}
	}
	checkActionsPinned(t, dir)
	checkDependabot(t, dir)
	test := wf.Jobs["test"]
	for _, d := range []struct{ name, env, url, image string }{
		{"postgres", "DATABASE_URL", "postgres://postgres:postgres@localhost:5432/", generator.Images.Postgres},
		{"redis", "REDIS_URL", "redis://localhost:6379/", generator.Images.Redis},
	} {
		svc, ok := test.Services[d.name]
		if ok != s.with[d.name] {
			t.Errorf("test job: %s service container = %v, want %v", d.name, ok, s.with[d.name])
			continue
		}
		if !ok {
			continue
		}
		if svc.Image != d.image || !strings.Contains(svc.Options, "--health-cmd") {
			t.Errorf("test job: %s service %+v, want image %s with a health check", d.name, svc, d.image)
		}
		if !strings.HasPrefix(test.Env[d.env], d.url) {
			t.Errorf("test job: %s = %q, want it pointing at the service container (%s...)", d.env, test.Env[d.env], d.url)
		}
	}
}

// checkActionsPinned asserts that every action of every workflow is pinned to a full commit
// SHA with its release in a comment (a tag can be moved to other code; a commit cannot).
func checkActionsPinned(t *testing.T, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, ".github", "workflows", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows: %v", err)
	}
	uses := regexp.MustCompile(`(?m)^\s*(?:- )?uses:\s*(.*)$`)
	pinned := regexp.MustCompile(`^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all := uses.FindAllStringSubmatch(string(data), -1)
		if len(all) == 0 {
			t.Errorf("%s: no uses: lines", filepath.Base(f))
		}
		for _, m := range all {
			if !pinned.MatchString(m[1]) {
				t.Errorf("%s: uses: %s is not pinned to a 40-hex commit with its version in a comment", filepath.Base(f), m[1])
			}
		}
	}
}

// checkDependabot asserts that .github/dependabot.yml updates the modules, the actions and
// the images weekly, each ecosystem's updates grouped into one pull request.
func checkDependabot(t *testing.T, dir string) {
	t.Helper()
	var cfg struct {
		Version int `yaml:"version"`
		Updates []struct {
			Ecosystem string `yaml:"package-ecosystem"`
			Directory string `yaml:"directory"`
			Schedule  struct {
				Interval string `yaml:"interval"`
				Day      string `yaml:"day"`
			} `yaml:"schedule"`
			Groups map[string]struct {
				Patterns []string `yaml:"patterns"`
			} `yaml:"groups"`
		} `yaml:"updates"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(readFile(t, dir, ".github/dependabot.yml"))))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("dependabot.yml: %v", err)
	}
	if cfg.Version != 2 {
		t.Errorf("dependabot.yml version %d, want 2", cfg.Version)
	}
	var ecosystems []string
	for _, u := range cfg.Updates {
		ecosystems = append(ecosystems, u.Ecosystem)
		if u.Directory != "/" || u.Schedule.Interval != "weekly" || len(u.Groups) != 1 {
			t.Errorf("dependabot.yml %s: directory %q, interval %q, %d groups; want /, weekly, one group", u.Ecosystem, u.Directory, u.Schedule.Interval, len(u.Groups))
		}
		for _, g := range u.Groups {
			if !slices.Equal(g.Patterns, []string{"*"}) {
				t.Errorf("dependabot.yml %s: group patterns %v, want [*]", u.Ecosystem, g.Patterns)
			}
		}
	}
	for _, e := range []string{"gomod", "github-actions", "docker", "docker-compose"} {
		if !slices.Contains(ecosystems, e) {
			t.Errorf("dependabot.yml does not update %s (it does %v)", e, ecosystems)
		}
	}
}

func checkGitLabCI(t *testing.T, dir string, s *stack) {
	data := readFile(t, dir, ".gitlab-ci.yml")
	t.Run("schema", func(t *testing.T) {
		if err := gitlabSchemaErr(gitlabSchema(t), data); err != nil {
			t.Errorf(".gitlab-ci.yml does not match GitLab's CI schema: %v", err)
		}
	})
	type job struct {
		Stage    string   `yaml:"stage"`
		Image    string   `yaml:"image"`
		Script   []string `yaml:"script"`
		Services []struct {
			Name  string `yaml:"name"`
			Alias string `yaml:"alias"`
		} `yaml:"services"`
		Variables map[string]string `yaml:"variables"`
	}
	var ci struct {
		Stages  []string `yaml:"stages"`
		Default struct {
			Image string `yaml:"image"`
		} `yaml:"default"`
		Variables map[string]string `yaml:"variables"`
		Jobs      map[string]job    `yaml:",inline"`
	}
	if err := yaml.Unmarshal(data, &ci); err != nil {
		t.Fatal(err)
	}
	if want := []string{"lint", "test", "build", "security"}; !slices.Equal(ci.Stages, want) {
		t.Errorf("stages = %v, want %v", ci.Stages, want)
	}
	if ci.Default.Image != generator.Images.Go {
		t.Errorf("default image %q, want %s", ci.Default.Image, generator.Images.Go)
	}
	for _, v := range []string{"GOMODCACHE", "GOCACHE"} {
		if !strings.HasPrefix(ci.Variables[v], "$CI_PROJECT_DIR/") {
			t.Errorf("%s = %q: GitLab caches only paths inside the project directory", v, ci.Variables[v])
		}
	}
	scripts := map[string]string{}
	for name, j := range ci.Jobs {
		scripts[name] = strings.Join(j.Script, "\n")
	}
	for what, ok := range map[string]bool{
		"go vet":                    strings.Contains(strings.Join(values(scripts), "\n"), "go vet ./..."),
		"go mod tidy check":         strings.Contains(strings.Join(values(scripts), "\n"), "go mod tidy -diff"),
		"go test -race":             strings.Contains(scripts["test"], "go test -race"),
		"golangci-lint (pinned)":    ci.Jobs["golangci-lint"].Image == "golangci/golangci-lint:"+generator.Tools.GolangciLint,
		"govulncheck (pinned)":      strings.Contains(scripts["govulncheck"], "govulncheck@"+generator.Tools.Govulncheck),
		"docker build (dind)":       strings.Contains(scripts["docker-build"], "docker build") && len(ci.Jobs["docker-build"].Services) == 1 && strings.Contains(ci.Jobs["docker-build"].Services[0].Name, "dind"),
		"security stage":            ci.Jobs["govulncheck"].Stage == "security",
		"build stage for the image": ci.Jobs["docker-build"].Stage == "build",
	} {
		if !ok {
			t.Errorf("pipeline lacks %s", what)
		}
	}
	// Every image an exact release: no moving major tags (golang:1.26, docker:28).
	exact := regexp.MustCompile(`^[a-z0-9./-]+:v?\d+\.\d+(\.\d+)?(-[a-z]+)?$`)
	images := []string{ci.Default.Image}
	for _, j := range ci.Jobs {
		images = append(images, j.Image)
		for _, sv := range j.Services {
			images = append(images, sv.Name)
		}
	}
	for _, img := range images {
		if img != "" && !exact.MatchString(img) {
			t.Errorf(".gitlab-ci.yml image %q is not pinned to an exact release", img)
		}
	}
	var renovate struct {
		Extends           []string `json:"extends"`
		PostUpdateOptions []string `json:"postUpdateOptions"`
	}
	if err := json.Unmarshal(readFile(t, dir, "renovate.json"), &renovate); err != nil {
		t.Fatalf("renovate.json: %v", err)
	}
	if !slices.Contains(renovate.Extends, "config:recommended") || !slices.Contains(renovate.PostUpdateOptions, "gomodTidy") {
		t.Errorf("renovate.json %+v: want config:recommended and gomodTidy", renovate)
	}

	test := ci.Jobs["test"]
	for _, d := range []struct{ name, env, url string }{
		{"postgres", "DATABASE_URL", "postgres://postgres:postgres@postgres:5432/"},
		{"redis", "REDIS_URL", "redis://redis:6379/"},
	} {
		has := slices.ContainsFunc(test.Services, func(sv struct {
			Name  string `yaml:"name"`
			Alias string `yaml:"alias"`
		}) bool {
			return sv.Alias == d.name
		})
		if has != s.with[d.name] {
			t.Errorf("test job: service with alias %s = %v, want %v", d.name, has, s.with[d.name])
		}
		if has && !strings.HasPrefix(test.Variables[d.env], d.url) {
			t.Errorf("test job: %s = %q, want it pointing at the service (%s...)", d.env, test.Variables[d.env], d.url)
		}
	}
}

func checkGolangciConfig(t *testing.T, dir string) {
	var cfg struct {
		Version string `yaml:"version"`
		Linters struct {
			Default string   `yaml:"default"`
			Enable  []string `yaml:"enable"`
		} `yaml:"linters"`
		Formatters struct {
			Enable []string `yaml:"enable"`
		} `yaml:"formatters"`
	}
	if err := yaml.Unmarshal(readFile(t, dir, ".golangci.yml"), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Version != "2" || cfg.Linters.Default != "standard" || !slices.Contains(cfg.Linters.Enable, "gosec") || !slices.Contains(cfg.Formatters.Enable, "gofmt") {
		t.Errorf(".golangci.yml is not a v2 configuration with the standard linters, gosec and gofmt: %+v", cfg)
	}
}

func checkKubernetes(t *testing.T, dir string, s *stack) {
	k8sDir := filepath.Join(dir, "deploy", "k8s")

	// The kustomization: strictly its known fields, listing exactly the other manifests; the
	// ConfigMap generated from config.env.
	var kust struct {
		APIVersion         string   `yaml:"apiVersion"`
		Kind               string   `yaml:"kind"`
		Resources          []string `yaml:"resources"`
		ConfigMapGenerator []struct {
			Name    string   `yaml:"name"`
			Envs    []string `yaml:"envs"`
			Options struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"options"`
		} `yaml:"configMapGenerator"`
		Images []struct {
			Name    string `yaml:"name"`
			NewName string `yaml:"newName"`
			NewTag  string `yaml:"newTag"`
		} `yaml:"images"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(readFile(t, dir, "deploy/k8s/kustomization.yaml"))))
	dec.KnownFields(true)
	if err := dec.Decode(&kust); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if kust.APIVersion != "kustomize.config.k8s.io/v1beta1" || kust.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml is %s/%s", kust.APIVersion, kust.Kind)
	}
	if len(kust.Images) != 1 || kust.Images[0].Name != s.name || kust.Images[0].NewTag == "" {
		t.Errorf("kustomization.yaml images %+v, want one entry for %s with a tag", kust.Images, s.name)
	}
	if len(kust.ConfigMapGenerator) != 1 || kust.ConfigMapGenerator[0].Name != s.name+"-config" || !slices.Equal(kust.ConfigMapGenerator[0].Envs, []string{"config.env"}) {
		t.Errorf("kustomization.yaml configMapGenerator %+v, want %s-config from config.env", kust.ConfigMapGenerator, s.name)
	}
	entries, err := os.ReadDir(k8sDir)
	if err != nil {
		t.Fatal(err)
	}
	var manifests []string
	for _, e := range entries {
		if e.Name() != "kustomization.yaml" && e.Name() != "config.env" {
			manifests = append(manifests, e.Name())
		}
	}
	if !slices.Equal(sorted(kust.Resources), manifests) {
		t.Errorf("kustomization resources %v, files %v", kust.Resources, manifests)
	}
	for _, m := range manifests {
		if _, err := decodeKube(m, readFile(t, dir, "deploy/k8s/"+m)); err != nil {
			t.Error(err)
		}
	}

	k := buildKube(t, k8sDir)
	dep, svc, hpa, pdb, cm, np, job := k.dep, k.svc, k.hpa, k.pdb, k.cm, k.np, k.job
	if dep == nil || svc == nil || hpa == nil || pdb == nil || cm == nil || np == nil {
		t.Fatalf("the build lacks a kind: Deployment %v, Service %v, HPA %v, PDB %v, ConfigMap %v, NetworkPolicy %v", dep != nil, svc != nil, hpa != nil, pdb != nil, cm != nil, np != nil)
	}
	if (job != nil) != s.with["postgres"] {
		t.Errorf("migration Job built = %v, want it exactly with a database (%v)", job != nil, s.with["postgres"])
	}
	for _, name := range []string{dep.Name, svc.Name, hpa.Name, pdb.Name, cm.Name, np.Name} {
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			t.Errorf("object name %q: %v", name, errs)
		}
	}
	// The generated ConfigMap's name carries a hash of its contents, and the pods refer to
	// that name: a changed setting is a new pod template, so applying it rolls the pods.
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(s.name) + `-config-[a-z0-9]{10}$`).MatchString(cm.Name) {
		t.Errorf("ConfigMap name %q has no content hash", cm.Name)
	}

	// The Deployment: selector, probes, resources, security, configuration.
	podLabels := dep.Spec.Template.Labels
	if dep.Spec.Selector == nil || !selects(dep.Spec.Selector.MatchLabels, podLabels) {
		t.Errorf("Deployment selector %v does not select its pod labels %v", dep.Spec.Selector, podLabels)
	}
	if dep.Spec.Replicas != nil {
		t.Errorf("Deployment sets replicas: the HPA owns the count, and every apply would reset it")
	}
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("Deployment has %d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	port := map[string]int32{}
	for _, p := range c.Ports {
		port[p.Name] = p.ContainerPort
	}
	if len(port) != 2 || port["http"] != 8080 || port["admin"] != 9090 {
		t.Errorf("container ports %v, want http: 8080 and admin: 9090", c.Ports)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe %+v, want GET %s on port http", p.name, p.probe, p.path)
		}
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			t.Errorf("container requests no %s (the HPA scales on CPU requests)", r)
		}
		if _, ok := c.Resources.Limits[r]; !ok {
			t.Errorf("container has no %s limit", r)
		}
	}
	// GOMEMLIMIT follows the memory limit (downward API, in MiB, read as that many million
	// bytes: 95.4% of it).
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if ref := env["MEMORY_LIMIT_MIB"].ValueFrom; ref == nil || ref.ResourceFieldRef == nil || ref.ResourceFieldRef.Resource != "limits.memory" ||
		ref.ResourceFieldRef.Divisor.String() != "1Mi" || env["GOMEMLIMIT"].Value != "$(MEMORY_LIMIT_MIB)000000" {
		t.Errorf("GOMEMLIMIT does not follow the memory limit through the downward API: %+v", c.Env)
	} else if limit := c.Resources.Limits.Memory().Value(); float64(limit/(1<<20)*1_000_000) < 0.9*float64(limit) || limit/(1<<20)*1_000_000 >= limit {
		t.Errorf("GOMEMLIMIT %d for the limit %d: want 90%%-100%% of it", limit/(1<<20)*1_000_000, limit)
	}
	if _, ok := env["MIGRATE_ON_START"]; ok != s.with["postgres"] || ok && env["MIGRATE_ON_START"].Value != "false" {
		t.Errorf("Deployment MIGRATE_ON_START = %+v, want \"false\" exactly with a database (%v)", env["MIGRATE_ON_START"], s.with["postgres"])
	}
	var spread []string
	for _, tsc := range pod.TopologySpreadConstraints {
		if tsc.LabelSelector != nil && selects(tsc.LabelSelector.MatchLabels, podLabels) {
			spread = append(spread, tsc.TopologyKey)
		}
	}
	if !slices.Equal(spread, []string{"kubernetes.io/hostname", "topology.kubernetes.io/zone"}) {
		t.Errorf("pods spread over %v, want nodes and zones", spread)
	}
	checkPodSecurity(t, "Deployment", pod, c)
	var cmRef, secretRef *corev1.EnvFromSource
	for i, e := range c.EnvFrom {
		if e.ConfigMapRef != nil {
			cmRef = &c.EnvFrom[i]
		}
		if e.SecretRef != nil {
			secretRef = &c.EnvFrom[i]
		}
	}
	if cmRef == nil || cmRef.ConfigMapRef.Name != cm.Name {
		t.Errorf("container does not take its environment from the ConfigMap %s", cm.Name)
	}
	needSecrets := s.with["postgres"] || s.with["redis"]
	if secretRef == nil || secretRef.SecretRef.Name != s.name+"-secrets" {
		t.Errorf("container does not take its environment from the Secret %s-secrets", s.name)
	} else if optional := isTrue(secretRef.SecretRef.Optional); optional == needSecrets {
		t.Errorf("secretRef optional = %v; it must be required exactly when a dependency needs credentials (%v)", optional, needSecrets)
	}
	checkConfigReads(t, dir, s, "config.env", keys(cm.Data))
	var podEnv []string
	for _, e := range c.Env {
		if e.Name != "GOMEMLIMIT" && e.Name != "MEMORY_LIMIT_MIB" { // the Go runtime's, not the service's
			podEnv = append(podEnv, e.Name)
		}
	}
	checkConfigReads(t, dir, s, "deployment.yaml", podEnv)
	if cm.Data["PORT"] != "8080" || cm.Data["ADMIN_PORT"] != "9090" {
		t.Errorf("ConfigMap PORT = %q, ADMIN_PORT = %q, want 8080 and 9090", cm.Data["PORT"], cm.Data["ADMIN_PORT"])
	}
	if _, ok := cm.Data["KAFKA_BROKERS"]; ok != s.with["kafka"] {
		t.Errorf("ConfigMap KAFKA_BROKERS set = %v, want %v", ok, s.with["kafka"])
	}
	for _, secret := range []string{"DATABASE_URL", "REDIS_URL"} {
		if _, ok := cm.Data[secret]; ok {
			t.Errorf("ConfigMap holds %s, which may carry a password: it belongs in the Secret", secret)
		}
	}
	if shutdown, err := time.ParseDuration(cm.Data["SHUTDOWN_TIMEOUT"]); err == nil && pod.TerminationGracePeriodSeconds != nil &&
		time.Duration(*pod.TerminationGracePeriodSeconds)*time.Second <= shutdown {
		t.Errorf("terminationGracePeriodSeconds %d does not leave room for SHUTDOWN_TIMEOUT %s", *pod.TerminationGracePeriodSeconds, shutdown)
	}
	annotations := dep.Spec.Template.Annotations
	if _, ok := annotations["prometheus.io/scrape"]; ok != s.with["prometheus"] || ok && annotations["prometheus.io/port"] != "9090" {
		t.Errorf("prometheus.io annotations %v, want a scrape of the admin port 9090 exactly with prometheus (%v)", annotations, s.with["prometheus"])
	}

	// Service (the public port only), HPA, PDB and NetworkPolicy point at the Deployment's pods.
	if !selects(svc.Spec.Selector, podLabels) || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service selector %v / ports %+v: want the pods' http port, and no other", svc.Spec.Selector, svc.Spec.Ports)
	}
	ref := hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != dep.Name {
		t.Errorf("HPA targets %+v, want the Deployment %s", ref, dep.Name)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas || len(hpa.Spec.Metrics) == 0 {
		t.Errorf("HPA min/max/metrics %v/%d/%d: want at least 2 replicas and a metric", hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas, len(hpa.Spec.Metrics))
	}
	if b := hpa.Spec.Behavior; b == nil || b.ScaleUp == nil || b.ScaleUp.StabilizationWindowSeconds == nil || *b.ScaleUp.StabilizationWindowSeconds == 0 || len(b.ScaleUp.Policies) == 0 ||
		b.ScaleDown == nil || b.ScaleDown.StabilizationWindowSeconds == nil || *b.ScaleDown.StabilizationWindowSeconds < 60 {
		t.Errorf("HPA behavior %+v: want a scale-up window and policies, and a scale-down window of a minute or more", hpa.Spec.Behavior)
	}
	if pdb.Spec.Selector == nil || !selects(pdb.Spec.Selector.MatchLabels, podLabels) || pdb.Spec.MinAvailable != nil ||
		pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.String() != "1" {
		t.Errorf("PDB %+v: want a selector of the pods and maxUnavailable: 1", pdb.Spec)
	}
	checkNetworkPolicy(t, np, podLabels)
	if job != nil {
		checkMigrationJob(t, job, dep)
	}
}

// checkPodSecurity asserts the locked-down pod and container security contexts.
func checkPodSecurity(t *testing.T, what string, pod corev1.PodSpec, c corev1.Container) {
	t.Helper()
	psc, csc := pod.SecurityContext, c.SecurityContext
	switch {
	case psc == nil || csc == nil:
		t.Errorf("%s: pod or container securityContext missing", what)
	default:
		if !isTrue(psc.RunAsNonRoot) || !isTrue(csc.RunAsNonRoot) {
			t.Errorf("%s: runAsNonRoot is not true for the pod and the container", what)
		}
		if psc.RunAsUser == nil || *psc.RunAsUser != 65532 {
			t.Errorf("%s: pod runAsUser is not 65532 (the image's nonroot user)", what)
		}
		if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod seccompProfile is not RuntimeDefault", what)
		}
		if !isTrue(csc.ReadOnlyRootFilesystem) {
			t.Errorf("%s: readOnlyRootFilesystem is not true", what)
		}
		if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
			t.Errorf("%s: allowPrivilegeEscalation is not false", what)
		}
		if csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(csc.Capabilities.Add) > 0 {
			t.Errorf("%s: capabilities %+v, want drop: [ALL] and nothing added", what, csc.Capabilities)
		}
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken is not false: the service does not talk to the API server", what)
	}
	tmpVolume := ""
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/tmp" {
			tmpVolume = m.Name
		}
	}
	if !slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == tmpVolume && v.EmptyDir != nil }) {
		t.Errorf("%s: no emptyDir mounted on /tmp: the root file system is read-only", what)
	}
}

// checkNetworkPolicy asserts that the pods admit the public port from anywhere and the admin
// port only from the namespace monitoring.
func checkNetworkPolicy(t *testing.T, np *networkingv1.NetworkPolicy, podLabels map[string]string) {
	t.Helper()
	if !selects(np.Spec.PodSelector.MatchLabels, podLabels) || !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
		t.Errorf("NetworkPolicy selects %v for %v: want the pods, ingress", np.Spec.PodSelector.MatchLabels, np.Spec.PolicyTypes)
	}
	from := map[string]string{} // port → who
	for _, rule := range np.Spec.Ingress {
		who := "anywhere"
		if len(rule.From) > 0 {
			var peers []string
			for _, p := range rule.From {
				if p.NamespaceSelector == nil || p.PodSelector != nil || p.IPBlock != nil {
					peers = append(peers, "other")
					continue
				}
				peers = append(peers, fmt.Sprint(p.NamespaceSelector.MatchLabels))
			}
			who = strings.Join(peers, ",")
		}
		if len(rule.Ports) == 0 {
			from["every port"] = who
		}
		for _, p := range rule.Ports {
			from[p.Port.String()] = who
		}
	}
	if want := map[string]string{"http": "anywhere", "admin": "map[kubernetes.io/metadata.name:monitoring]"}; fmt.Sprint(from) != fmt.Sprint(want) {
		t.Errorf("NetworkPolicy admits %v, want %v", from, want)
	}
}

// checkMigrationJob asserts that the Job runs `migrate up` with the Deployment's image,
// environment and security, bounded, and that its pods are not counted as the server's.
func checkMigrationJob(t *testing.T, job *batchv1.Job, dep *appsv1.Deployment) {
	t.Helper()
	if job.Name != dep.Name+"-migrate" {
		t.Errorf("migration Job %q, want %s-migrate", job.Name, dep.Name)
	}
	if job.Spec.BackoffLimit == nil || job.Spec.TTLSecondsAfterFinished == nil || job.Spec.ActiveDeadlineSeconds == nil {
		t.Errorf("migration Job: want backoffLimit, ttlSecondsAfterFinished and activeDeadlineSeconds, got %+v", job.Spec)
	}
	pod := job.Spec.Template.Spec
	if len(pod.Containers) != 1 || pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Fatalf("migration Job: want one container, restartPolicy Never")
	}
	c, server := pod.Containers[0], dep.Spec.Template.Spec.Containers[0]
	if !slices.Equal(c.Args, []string{"migrate", "up"}) || c.Image != server.Image || fmt.Sprint(c.EnvFrom) != fmt.Sprint(server.EnvFrom) {
		t.Errorf("migration Job container: args %v, image %s, envFrom %v; want [migrate up] with the Deployment's image %s and envFrom %v", c.Args, c.Image, c.EnvFrom, server.Image, server.EnvFrom)
	}
	checkPodSecurity(t, "migration Job", pod, c)
	if selects(dep.Spec.Selector.MatchLabels, job.Spec.Template.Labels) {
		t.Errorf("the Deployment's selector %v matches the migration Job's pods %v: the Service, HPA and PDB would count them", dep.Spec.Selector.MatchLabels, job.Spec.Template.Labels)
	}
}

// selects reports whether a label selector's matchLabels match labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func isTrue(b *bool) bool { return b != nil && *b }

func assertAbsent(t *testing.T, dir, rel string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
		t.Errorf("%s was generated, but its component was not chosen", rel)
	}
}

func readFile(t *testing.T, dir, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// chosen lists the keys whose value is true.
func chosen(m map[string]bool) []string {
	var out []string
	for _, k := range keys(m) {
		if m[k] {
			out = append(out, k)
		}
	}
	return out
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, k := range keys(m) {
		out = append(out, m[k])
	}
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

// kubeObjects is what `kubectl apply -k` applies: the kustomize build of a deploy/k8s folder,
// each object decoded strictly into its Kubernetes API type, by kind (nil where the build has
// none).
type kubeObjects struct {
	dep *appsv1.Deployment
	svc *corev1.Service
	hpa *autoscalingv2.HorizontalPodAutoscaler
	pdb *policyv1.PodDisruptionBudget
	cm  *corev1.ConfigMap
	np  *networkingv1.NetworkPolicy
	job *batchv1.Job
}

func buildKube(t *testing.T, k8sDir string) kubeObjects {
	t.Helper()
	built, err := kustomizeBuild(t, k8sDir)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeKube("kustomize build", built)
	if err != nil {
		t.Fatal(err)
	}
	var k kubeObjects
	for _, o := range objs {
		switch o := o.obj.(type) {
		case *appsv1.Deployment:
			k.dep = o
		case *corev1.Service:
			k.svc = o
		case *autoscalingv2.HorizontalPodAutoscaler:
			k.hpa = o
		case *policyv1.PodDisruptionBudget:
			k.pdb = o
		case *corev1.ConfigMap:
			k.cm = o
		case *networkingv1.NetworkPolicy:
			k.np = o
		case *batchv1.Job:
			k.job = o
		}
	}
	return k
}
