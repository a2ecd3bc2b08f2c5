package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/svcgen/svcgen/cmd/svcgen/internal/prompt"
	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/internal/testtree"
)

// askCatalog is a catalog with every group filled, independent of the embedded templates (which
// the command-level tests below use as they are).
func askCatalog(t *testing.T) *generator.Catalog {
	t.Helper()
	comp := func(name, group, desc string, extra string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("name: " + name + "\ngroup: " + group + "\ndescription: " + desc + "\n" + extra)}
	}
	c, err := generator.LoadCatalog(fstest.MapFS{
		"core/component.yaml":           {Data: []byte("name: core\ndescription: skeleton\n" + coreGroups)},
		"gin/component.yaml":            comp("gin", "framework", "Gin HTTP framework", "default: true\n"),
		"echo/component.yaml":           comp("echo", "framework", "Echo v5 HTTP framework", ""),
		"postgres/component.yaml":       comp("postgres", "database", "PostgreSQL via pgx", "default: true\n"),
		"mysql/component.yaml":          comp("mysql", "database", "MySQL", ""),
		"redis/component.yaml":          comp("redis", "cache", "Redis cache-aside", ""),
		"kafka/component.yaml":          comp("kafka", "broker", "Kafka via franz-go", ""),
		"prometheus/component.yaml":     comp("prometheus", "metrics", "Prometheus RED metrics", "default: true\nconflicts: [statsd]\n"),
		"statsd/component.yaml":         comp("statsd", "metrics", "StatsD", "conflicts: [prometheus]\n"),
		"github-actions/component.yaml": comp("github-actions", "ci", "GitHub Actions workflow", "default: true\n"),
		"gitlab-ci/component.yaml":      comp("gitlab-ci", "ci", "GitLab CI pipeline", ""),
		"kubernetes/component.yaml":     comp("kubernetes", "deploy", "Kubernetes manifests", ""),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// coreGroups declares svcgen's groups, as the embedded core/component.yaml does.
const coreGroups = `groups:
  - {name: framework, title: HTTP framework, help: The HTTP framework the server is built on.}
  - {name: database, title: Database, optional: true, together: true}
  - {name: cache, title: Cache, optional: true, together: true}
  - {name: broker, title: Message broker, optional: true, together: true}
  - {name: metrics, title: Metrics, optional: true, together: true}
  - {name: ci, title: CI system, optional: true, help: The CI configuration to generate.}
  - {name: deploy, title: Deployment manifests, optional: true}
`

func askWith(t *testing.T, o *newOptions, spec generator.Spec, answers ...any) (generator.Spec, *prompt.Script, string, error) {
	t.Helper()
	var out bytes.Buffer
	o.streams = &IOStreams{Out: &out, ErrOut: &out, Interactive: true}
	script := prompt.NewScript(answers...)
	got, err := o.askNew(context.Background(), script, askCatalog(t), spec)
	if err == nil && len(script.Left()) > 0 {
		t.Errorf("answers not used: %v", script.Left())
	}
	return got, script, out.String(), err
}

func TestAskNewAsksEveryMissingAnswerInOrder(t *testing.T) {
	t.Parallel()
	spec, script, out, err := askWith(t, &newOptions{}, generator.Spec{},
		"orders-api", prompt.Enter, "echo", []string{"mysql", "redis", "prometheus"}, "gitlab-ci", prompt.Enter, prompt.Enter)
	if err != nil {
		t.Fatal(err)
	}
	want := generator.NewSpec("orders-api", "orders-api", map[string]string{"framework": "echo", "database": "mysql", "cache": "redis",
		"broker": "none", "metrics": "prometheus", "ci": "gitlab-ci", "deploy": "none"})
	if !spec.Equal(want) {
		t.Errorf("spec = %+v\nwant   %+v", spec, want)
	}
	type q struct {
		kind, message string
		def           any
	}
	wantQs := []q{
		{"input", "Service name", ""},
		{"input", "Go module path", "orders-api"},
		{"select", "HTTP framework", "gin"},
		{"multiselect", "Components", []string{"postgres", "prometheus"}},
		{"select", "CI system", "github-actions"},
		{"select", "Deployment manifests", "none"},
		{"confirm", "Generate orders-api in ./orders-api?", true},
	}
	if len(script.Asked) != len(wantQs) {
		t.Fatalf("asked %d questions, want %d: %+v", len(script.Asked), len(wantQs), script.Asked)
	}
	for i, w := range wantQs {
		got := script.Asked[i]
		if got.Kind != w.kind || got.Message != w.message || !equalAny(got.Default, w.def) {
			t.Errorf("question %d = %s %q default %v, want %s %q default %v", i, got.Kind, got.Message, got.Default, w.kind, w.message, w.def)
		}
		if got.Help == "" {
			t.Errorf("question %q has no help text", got.Message)
		}
		for _, opt := range got.Options {
			if opt.Description == "" {
				t.Errorf("question %q: option %s has no description", got.Message, opt.Value)
			}
		}
	}
	if got := prompt.Values(script.Asked[3].Options); !slices.Equal(got, []string{"mysql", "postgres", "redis", "kafka", "prometheus", "statsd"}) {
		t.Errorf("component options = %v", got)
	}
	if d := script.Asked[3].Options[0].Description; d != "database: MySQL" {
		t.Errorf("component description = %q, want its group and the component's description", d)
	}
	for _, w := range []string{"name       orders-api", "framework  echo", "database   mysql", "deploy     none", "directory  ./orders-api",
		"svcgen new orders-api --module orders-api --framework echo --database mysql --cache redis --broker none --metrics prometheus --ci gitlab-ci --deploy none --yes\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("summary lacks %q:\n%s", w, out)
		}
	}
}

func equalAny(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok || bok {
		return aok && bok && slices.Equal(as, bs)
	}
	return a == b
}

func TestAskNewSkipsAnswersAlreadyGiven(t *testing.T) {
	t.Parallel()
	given := generator.NewSpec("billing", "", map[string]string{"framework": "gin", "database": "none", "metrics": "statsd", "deploy": "kubernetes"})
	o := &newOptions{output: "out/billing", noTidy: true}
	spec, script, out, err := askWith(t, o, given,
		"example.com/billing", []string{"kafka"}, prompt.Enter, prompt.Enter)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, q := range script.Asked {
		msgs = append(msgs, q.Message)
	}
	if want := []string{"Go module path", "Components", "CI system", "Generate billing in out/billing?"}; !slices.Equal(msgs, want) {
		t.Errorf("asked %q, want %q", msgs, want)
	}
	if got := prompt.Values(script.Asked[1].Options); !slices.Equal(got, []string{"redis", "kafka"}) {
		t.Errorf("components offered %v: groups given by flag must not be asked", got)
	}
	if d := script.Asked[1].Default.([]string); len(d) != 0 {
		t.Errorf("components default %v: the given groups' defaults must not be checked", d)
	}
	want := generator.NewSpec("billing", "example.com/billing", map[string]string{"framework": "gin", "database": "none", "cache": "none",
		"broker": "kafka", "metrics": "statsd", "ci": "github-actions", "deploy": "kubernetes"})
	if !spec.Equal(want) {
		t.Errorf("spec = %+v\nwant   %+v", spec, want)
	}
	if !strings.Contains(out, " -o out/billing --no-tidy --yes\n") {
		t.Errorf("command line does not carry -o and --no-tidy:\n%s", out)
	}
}

func TestAskNewValidatesInline(t *testing.T) {
	t.Parallel()
	spec, script, _, err := askWith(t, &newOptions{}, generator.Spec{},
		"Orders_API", "orders-api",
		"github.com/acme/orders/v1", "github.com/acme/orders",
		prompt.Enter,
		[]string{"postgres", "mysql"}, []string{"prometheus", "statsd"}, []string{"postgres"},
		prompt.Enter, prompt.Enter, prompt.Enter)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Name != "orders-api" || spec.Module != "github.com/acme/orders" || spec.Get("database") != "postgres" || spec.Get("metrics") != "none" {
		t.Errorf("spec = %+v", spec)
	}
	wantRejected := map[string][]string{
		"Service name":   {`name "Orders_API" is not valid`},
		"Go module path": {`module path "github.com/acme/orders/v1" is not valid`},
		"Components":     {"choose at most one database: postgres or mysql", "choose at most one metrics: prometheus or statsd"},
	}
	for _, q := range script.Asked {
		want := wantRejected[q.Message]
		if len(q.Rejected) != len(want) {
			t.Errorf("%s: rejected %q, want %q", q.Message, q.Rejected, want)
			continue
		}
		for i := range want {
			if !strings.Contains(q.Rejected[i], want[i]) {
				t.Errorf("%s: rejection %q lacks %q", q.Message, q.Rejected[i], want[i])
			}
		}
	}
}

func TestAskNewDefaultsEverythingOnEnter(t *testing.T) {
	t.Parallel()
	o := &newOptions{output: filepath.Join("somewhere", "inventory")}
	spec, script, _, err := askWith(t, o, generator.Spec{},
		prompt.Enter, prompt.Enter, prompt.Enter, prompt.Enter, prompt.Enter, prompt.Enter, prompt.Enter)
	if err != nil {
		t.Fatal(err)
	}
	if script.Asked[0].Default != "inventory" {
		t.Errorf("name default %q, want the last element of -o", script.Asked[0].Default)
	}
	c := askCatalog(t)
	want := generator.Spec{Name: "inventory"}.WithDefaults(c)
	if !spec.Equal(want) {
		t.Errorf("spec = %+v\nwant   %+v", spec, want)
	}
}

func TestAskNewStopsAtInterruptEOFAndNo(t *testing.T) {
	t.Parallel()
	full := []any{"svc", prompt.Enter, prompt.Enter, prompt.Enter, prompt.Enter, prompt.Enter}
	for i := 0; i <= len(full); i++ {
		for _, stop := range []any{prompt.ErrInterrupted, prompt.ErrEOF} {
			answers := append(slices.Clone(full[:i]), stop)
			_, _, _, err := askWith(t, &newOptions{}, generator.Spec{}, answers...)
			if !errors.Is(err, stop.(error)) {
				t.Errorf("%v at question %d: err = %v", stop, i, err)
			}
		}
	}
	_, _, _, err := askWith(t, &newOptions{}, generator.Spec{}, append(full, false)...)
	if !errors.Is(err, errNotConfirmed) {
		t.Errorf("answering no: err = %v", err)
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"orders-api":                 "orders-api",
		"github.com/acme/orders-api": "github.com/acme/orders-api",
		"my dir":                     "'my dir'",
		"it's":                       `'it'\''s'`,
		"":                           "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// runInteractive runs one svcgen command line as if in a terminal, answering from script.
func runInteractive(t *testing.T, script *prompt.Script, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Interactive: true, Asker: script}
	code = run(context.Background(), streams, args)
	return code, out.String(), errOut.String()
}

// enterThrough answers the name, if given, and every later question of `new` with its default.
func enterThrough(name string) *prompt.Script {
	var answers []any
	if name != "" {
		answers = append(answers, name)
	}
	for range 20 {
		answers = append(answers, prompt.Enter)
	}
	return prompt.NewScript(answers...)
}

func TestNewInteractiveCommandLineMakesTheSameService(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	a, b := filepath.Join(tmp, "a", "svc"), filepath.Join(tmp, "b", "svc")
	code, stdout, stderr := runInteractive(t, enterThrough("orders-api"), "new", "-o", a, "--no-tidy")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var line string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "  svcgen new ") {
			line = strings.TrimPrefix(l, "  svcgen ")
		}
	}
	if line == "" {
		t.Fatalf("no command line in the output:\n%s", stdout)
	}
	args := strings.Fields(strings.Replace(line, a, b, 1))
	if code, _, stderr := runCLI(t, args...); code != 0 {
		t.Fatalf("%s: exit %d: %s", line, code, stderr)
	}
	ta, tb := testtree.ReadAll(t, a), testtree.ReadAll(t, b)
	if len(ta) == 0 || len(ta) != len(tb) {
		t.Fatalf("%d files vs %d", len(ta), len(tb))
	}
	for p, data := range ta {
		if tb[p] != data {
			t.Errorf("%s differs between the interactive run and its command line", p)
		}
	}
}

func TestNewInteractiveStopsWritingNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		answers []any
		code    int
		want    string
	}{
		{[]any{prompt.ErrInterrupted}, 130, "interrupted; nothing written"},
		{[]any{"svc", prompt.Enter, prompt.ErrInterrupted}, 130, "interrupted; nothing written"},
		{[]any{"svc", prompt.ErrEOF}, 1, "input ended before every question was answered; nothing written"},
	}
	for _, tc := range cases {
		dir := t.TempDir()
		code, _, stderr := runInteractive(t, prompt.NewScript(tc.answers...), "new", "-o", filepath.Join(dir, "svc"), "--no-tidy")
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.answers, code, stderr, tc.code, tc.want)
		}
		assertEmptyDir(t, dir)
	}
	// Answering no at the confirmation. How many questions come before it depends on the
	// embedded templates: count them with a dry run, then press Enter up to the confirmation.
	dir := t.TempDir()
	script := enterThrough("svc")
	code, _, _ := runInteractive(t, script, "new", "--dry-run", "-o", filepath.Join(dir, "svc"))
	if code != 0 {
		t.Fatalf("dry run: exit %d", code)
	}
	n := len(script.Asked)
	answers := []any{"svc"}
	for range n - 2 {
		answers = append(answers, prompt.Enter)
	}
	answers = append(answers, false)
	code, _, stderr := runInteractive(t, prompt.NewScript(answers...), "new", "-o", filepath.Join(dir, "svc"), "--no-tidy")
	if code == 0 || !strings.Contains(stderr, "not confirmed; nothing written") {
		t.Errorf("answering no: exit %d, stderr %q", code, stderr)
	}
	assertEmptyDir(t, dir)
}

func TestNewInteractiveFailsOnBadFlagsBeforeAsking(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := prompt.NewScript()
	code, _, stderr := runInteractive(t, script, "new", "--framework", "fiber", "-o", filepath.Join(dir, "svc"))
	if code == 0 || !strings.Contains(stderr, `framework "fiber" is not valid: allowed values are chi, echo, gin, stdlib`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if len(script.Asked) != 0 {
		t.Errorf("asked %d questions before rejecting the flag", len(script.Asked))
	}
	assertEmptyDir(t, dir)
}

func TestNewPrecedenceFlagsAnswerFilePrompts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.yaml")
	os.WriteFile(answers, []byte("name: from-file\nframework: echo\nmodule: example.com/from-file\n"), 0o644)
	out := filepath.Join(dir, "svc")
	script := enterThrough("") // no name: the file gives it
	code, _, stderr := runInteractive(t, script, "new", "--answers", answers, "--framework", "gin", "-o", out, "--no-tidy")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, q := range script.Asked {
		if q.Message == "Service name" || q.Message == "Go module path" || q.Message == "HTTP framework" {
			t.Errorf("asked %q, which the answer file or a flag gave", q.Message)
		}
	}
	m, err := generator.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if a := m.Answers; a.Name != "from-file" || a.Module != "example.com/from-file" || a.Get("framework") != "gin" {
		t.Errorf("answers = %+v: want name and module from the file, framework from the flag", a)
	}
}

func TestNewAnswerFileErrorsNameFileKeyAndAllowedValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := map[string]string{
		"name: svc\nframework: fiber\n": `answers.yaml: framework "fiber" is not valid: allowed values are chi, echo, gin, stdlib`,
		"name: svc\nframwork: echo\n":   `answers.yaml: line 2: unknown key "framwork": allowed keys are name, module, framework`,
	}
	for content, want := range cases {
		p := filepath.Join(dir, "answers.yaml")
		os.WriteFile(p, []byte(content), 0o644)
		for _, args := range [][]string{{"new", "--answers", p, "-y"}, {"new", "--answers", p}} {
			code, _, stderr := runInteractive(t, prompt.NewScript(), append(args, "-o", filepath.Join(dir, "out"), "--no-tidy")...)
			if code == 0 || !strings.Contains(stderr, want) {
				t.Errorf("%v with %q: exit %d, stderr %q; want %q", args, content, code, stderr, want)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
			t.Errorf("%q: wrote the service", content)
		}
	}
}

func TestNewAnswersWithoutNameArgumentTakesTheFilesName(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := filepath.Join(dir, "first")
	if code, _, stderr := runCLI(t, "new", "orders-api", "-y", "--framework", "echo", "--no-tidy", "-o", first); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	second := filepath.Join(dir, "second")
	if code, _, stderr := runCLI(t, "new", "--answers", filepath.Join(first, ".svcgen.yaml"), "--no-tidy", "-o", second); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, stderr)
	}
	ta, tb := testtree.ReadAll(t, first), testtree.ReadAll(t, second)
	if len(ta) != len(tb) {
		t.Fatalf("%d files vs %d", len(ta), len(tb))
	}
	for p, data := range ta {
		if tb[p] != data {
			t.Errorf("%s differs after replaying the manifest", p)
		}
	}
}

// TestAskNewAsksAnOverlaysGroupsFromTheirMetadata: a group an overlay declares is asked after
// svcgen's own with its title and help; a many group with a multi-select of its own.
func TestAskNewAsksAnOverlaysGroupsFromTheirMetadata(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"core/component.yaml":  {Data: []byte("name: core\n" + coreGroups)},
		"gin/component.yaml":   {Data: []byte("name: gin\ngroup: framework\n")},
		"hello/component.yaml": {Data: []byte("name: hello\ndescription: says hello\ngroup:\n  name: extras\n  title: Extras\n  help: Small additions.\n  optional: true\n")},
		"wave/component.yaml":  {Data: []byte("name: wave\ngroup: extras\n")},
		"a/component.yaml":     {Data: []byte("name: a\ngroup:\n  name: tools\n  title: Tools\n  many: true\n  optional: true\n  order: 1\n")},
		"b/component.yaml":     {Data: []byte("name: b\ngroup: tools\ndefault: true\n")},
	}
	c, err := generator.LoadCatalog(fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	o := &newOptions{streams: &IOStreams{Out: &out, ErrOut: &out, Interactive: true}}
	script := prompt.NewScript("hello", []string{"a", "b"}, true)
	spec, err := o.askNew(context.Background(), script, c, generator.NewSpec("svc", "svc", nil))
	if err != nil {
		t.Fatal(err)
	}
	if spec.Get("extras") != "hello" || spec.Get("tools") != "a,b" {
		t.Errorf("spec = %s", spec)
	}
	var asked []string
	for _, q := range script.Asked {
		asked = append(asked, q.Kind+" "+q.Message)
	}
	// framework has one choice, svcgen's other groups none: not asked.
	if got := strings.Join(asked, "; "); got != "select Extras; multiselect Tools; confirm Generate svc in ./svc?" {
		t.Errorf("asked: %s", got)
	}
	if q := script.Asked[0]; q.Help != "Small additions. Flag: --extras." || len(q.Options) != 3 || q.Options[0].Description != "says hello" {
		t.Errorf("extras question: %+v", q)
	}
	if !strings.Contains(out.String(), "--extras hello --tools a,b") {
		t.Errorf("the command line in the summary lacks the overlay's groups:\n%s", out.String())
	}
}
