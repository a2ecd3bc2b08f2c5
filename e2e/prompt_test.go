package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/svcgen/svcgen/internal/testtree"

	expect "github.com/Netflix/go-expect"
	"github.com/creack/pty"
	"github.com/hinshun/vt10x"

	"github.com/svcgen/svcgen/generator"
)

// Keys as a terminal sends them.
const (
	keyEnter = "\r"
	keyDown  = "\x1b[B"
	keyUp    = "\x1b[A"
	keySpace = " "
	keyCtrlC = "\x03"
	keyCtrlD = "\x04"
)

// ptySession is svcgen running in a pseudo-terminal, as a user runs it. A vt10x terminal
// emulator renders its output and answers the cursor-position queries survey makes, as a real
// terminal would; go-expect waits for text and sends keys.
type ptySession struct {
	t    *testing.T
	c    *expect.Console
	term vt10x.Terminal
	cmd  *exec.Cmd
	out  strings.Builder // everything read so far, escape sequences included
	done chan struct{}
	err  error // the process's exit, once done is closed
}

func startPTY(t *testing.T, args ...string) *ptySession {
	t.Helper()
	// The emulator writes its answers to a second pty, which the console copies to the program's
	// input: that is how survey's own tests wire vt10x and go-expect together.
	ptm, pts, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	term := vt10x.New(vt10x.WithWriter(pts), vt10x.WithSize(160, 50))
	c, err := expect.NewConsole(expect.WithStdin(ptm), expect.WithStdout(term), expect.WithCloser(ptm, pts),
		expect.WithDefaultTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := pty.Setsize(c.Tty(), &pty.Winsize{Cols: 160, Rows: 50}); err != nil {
		t.Fatal(err)
	}
	s := &ptySession{t: t, c: c, term: term, done: make(chan struct{})}
	s.cmd = exec.Command(svcgenBin, args...)
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = c.Tty(), c.Tty(), c.Tty()
	s.cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	// A session of its own with the pty as controlling terminal: Ctrl-C, job control and
	// hang-up behave as they do for a user at a terminal.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child has its own copy of the terminal; closing ours lets the console see the end of
	// output when the child exits.
	c.Tty().Close()
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
		c.Close()
	})
	return s
}

// screen is what the terminal shows now (String takes the emulator's lock itself).
func (s *ptySession) screen() string {
	return s.term.String()
}

// expect waits for text in the output and fails the test when it does not come in time.
func (s *ptySession) expect(text string) string {
	s.t.Helper()
	got, err := s.c.ExpectString(text)
	s.out.WriteString(got)
	if err != nil {
		s.t.Fatalf("waiting for %q: %v\nscreen:\n%s\noutput so far:\n%q", text, err, s.screen(), s.out.String())
	}
	return got
}

func (s *ptySession) send(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		if _, err := s.c.Send(k); err != nil {
			s.t.Fatalf("sending %q: %v", k, err)
		}
	}
}

// wait reads the output to its end and returns the exit code; a program still running after the
// timeout fails the test.
// created waits for svcgen to report the service and exit 0, and returns its manifest.
func (s *ptySession) created(t *testing.T, dir string, timeout time.Duration) *generator.Manifest {
	t.Helper()
	s.expect("created orders-api")
	if code := s.wait(timeout); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.out.String())
	}
	m, err := generator.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (s *ptySession) wait(timeout time.Duration) int {
	s.t.Helper()
	got, _ := s.c.Expect(expect.EOF, expect.PTSClosed, expect.WithTimeout(timeout))
	s.out.WriteString(got)
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.t.Fatalf("svcgen still running after %s\nscreen:\n%s", timeout, s.screen())
	}
	var ee *exec.ExitError
	switch {
	case s.err == nil:
		return 0
	case errors.As(s.err, &ee):
		return ee.ExitCode()
	}
	s.t.Fatalf("waiting for svcgen: %v", s.err)
	return -1
}

// catalog is the catalog the binary under test sees: its embedded templates, and the overlay
// when one is given.
func catalog(t *testing.T, overlay string) *generator.Catalog {
	t.Helper()
	c, err := generator.LoadTemplates(overlay)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testOverlay is a template overlay with components that exist only for these tests, so the
// components question has choices whatever the embedded templates hold.
func testOverlay(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "overlay"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// componentGroups are the groups `new` asks together in one multi-select, in the order it lists
// their components.
func componentGroups(c *generator.Catalog) []string {
	var out []string
	for _, g := range c.Groups() {
		if g.Together {
			out = append(out, g.Name)
		}
	}
	return out
}

// componentOptions lists the options of the components question as `new` shows them.
func componentOptions(c *generator.Catalog) []string {
	var out []string
	for _, g := range componentGroups(c) {
		for _, comp := range c.InGroup(g) {
			out = append(out, comp.Name)
		}
	}
	return out
}

// question is one prompt of `new` after the module path: its message and the keys that answer it.
type question struct {
	message string
	keys    []string
}

// moveTo is the arrow keys that take a list's cursor from one option to another, then Enter.
func moveTo(options []string, from, to string) []string {
	n := slices.Index(options, to) - slices.Index(options, from)
	key := keyDown
	if n < 0 {
		key, n = keyUp, -n
	}
	return append(slices.Repeat([]string{key}, n), keyEnter)
}

// setChecks is the keys that take a multi-select from the checked options to the wanted ones:
// up to the top from the cursor, then down the list pressing space where a box must change.
func setChecks(options []string, cursor int, checked, want []string) []string {
	keys := slices.Repeat([]string{keyUp}, cursor)
	for i, o := range options {
		if slices.Contains(checked, o) != slices.Contains(want, o) {
			keys = append(keys, keySpace)
		}
		if i < len(options)-1 {
			keys = append(keys, keyDown)
		}
	}
	return keys
}

// defaults is the options of the components question that start checked.
func defaults(c *generator.Catalog) []string {
	var out []string
	for _, g := range componentGroups(c) {
		if d := c.Default(g); d != generator.None {
			out = append(out, d)
		}
	}
	return out
}

// nonDefaultAnswers plans the answers to every group question of `new` that picks something
// other than the default where there is a choice: another framework, CI and deploy, and in the
// components list the first component of each group whose default is none and nothing of the
// groups that have a default. It returns the questions in the order `new` asks them, with their
// keys, and the answers they give. Groups with a single choice are not asked.
func nonDefaultAnswers(c *generator.Catalog) ([]question, map[string]string) {
	var qs []question
	want := map[string]string{}
	var picked []string
	together := componentGroups(c)
	for _, g := range c.Groups() {
		choices, def := c.Choices(g.Name), c.Default(g.Name)
		if g.Together {
			want[g.Name] = generator.None
			if comps := c.InGroup(g.Name); def == generator.None && len(comps) > 0 {
				want[g.Name] = comps[0].Name
				picked = append(picked, comps[0].Name)
			}
			if g.Name == together[len(together)-1] && len(componentOptions(c)) > 0 {
				keys := setChecks(componentOptions(c), 0, defaults(c), picked)
				qs = append(qs, question{"Components", append(keys, keyEnter)})
			}
			continue
		}
		want[g.Name] = def
		if len(choices) <= 1 {
			continue
		}
		i := slices.IndexFunc(choices, func(v string) bool { return v != def })
		want[g.Name] = choices[i]
		qs = append(qs, question{g.Title, moveTo(choices, def, choices[i])})
	}
	return qs, want
}

// TestPromptEnterThroughCreatesService types a name and presses Enter at every other prompt:
// the service is created with the catalog's defaults. On the way it asks for help with ? and
// gives an invalid name, which the prompt refuses before asking again.
func TestPromptEnterThroughCreatesService(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "svc")
	s := startPTY(t, "new", "-o", dir, "--no-tidy")
	s.expect("Service name")
	s.send("?", keyEnter)
	s.expect("Names the directory, the binary")
	s.send("Orders_API", keyEnter)
	s.expect(`name "Orders_API" is not valid`)
	s.send("orders-api", keyEnter)
	s.expect("Go module path")
	s.send(keyEnter)
	qs, _ := nonDefaultAnswers(catalog(t, ""))
	for _, q := range qs {
		s.expect(q.message)
		if q.message == "HTTP framework" {
			s.send("?")
			s.expect("Flag: --framework.")
		}
		s.send(keyEnter)
	}
	s.expect("Generate orders-api in " + dir + "?")
	s.send(keyEnter)
	m := s.created(t, dir, 30*time.Second)
	if want := (generator.Spec{Name: "orders-api"}).WithDefaults(catalog(t, "")); !m.Answers.Equal(want) {
		t.Errorf("answers = %+v\nwant      %+v", m.Answers, want)
	}
}

// TestPromptArrowKeysChooseNonDefaults chooses another framework, components, CI and deploy
// with arrow keys and space, checks the manifest, then makes the service again twice without a
// terminal — with the command line the summary printed, and with --answers and the manifest —
// and checks that both trees are byte-identical to the first. With the embedded templates the
// service is tidied, so go.sum is compared too; with the test overlay the components question
// always has components to toggle.
func TestPromptArrowKeysChooseNonDefaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []string // flags given to every run
	}{
		{"embedded templates", nil},
		{"overlay components", []string{"--templates", testOverlay(t), "--no-tidy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			overlay := ""
			if len(tc.extra) > 0 {
				overlay = tc.extra[1]
			}
			c := catalog(t, overlay)
			qs, want := nonDefaultAnswers(c)
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "first", "orders-api")
			s := startPTY(t, append([]string{"new", "-o", dir}, tc.extra...)...)
			s.expect("Service name")
			s.send("orders-api", keyEnter)
			s.expect("Go module path")
			s.send("example.com/orders-api", keyEnter)
			for _, q := range qs {
				s.expect(q.message)
				s.send(q.keys...)
			}
			summary := s.expect("Generate orders-api in " + dir + "?")
			s.send("y", keyEnter)
			m := s.created(t, dir, 5*time.Minute)
			wantSpec := generator.NewSpec("orders-api", "example.com/orders-api", want)
			if !m.Answers.Equal(wantSpec) {
				t.Errorf("answers = %+v\nwant      %+v", m.Answers, wantSpec)
			}
			first := testtree.ReadAll(t, dir)
			if _, ok := first["go.sum"]; !ok && overlay == "" {
				t.Error("no go.sum: the service was not tidied")
			}

			line := regexp.MustCompile(`svcgen new [^\r\n]*`).FindString(summary)
			if line == "" {
				t.Fatalf("the summary shows no command line:\n%q", summary)
			}
			again := filepath.Join(tmp, "again", "orders-api")
			svcgen(t, strings.Fields(strings.Replace(line, dir, again, 1))[1:]...)

			replay := filepath.Join(tmp, "replay", "orders-api")
			svcgen(t, append([]string{"new", "--answers", filepath.Join(dir, generator.ManifestName), "-o", replay}, tc.extra...)...)

			for name, other := range map[string]string{"the printed command line": again, "--answers with the manifest": replay} {
				tree := testtree.ReadAll(t, other)
				if len(tree) != len(first) {
					t.Errorf("%s: %d files, the interactive run wrote %d", name, len(tree), len(first))
				}
				for p, data := range first {
					if tree[p] != data {
						t.Errorf("%s: %s differs from the interactive run", name, p)
					}
				}
			}
		})
	}
}

// TestPromptComponentsRefusesTwoOfAGroup checks two databases in the components list: the
// prompt says why it refuses and asks again with the user's choices kept; unchecking one is
// accepted.
func TestPromptComponentsRefusesTwoOfAGroup(t *testing.T) {
	overlay := testOverlay(t)
	c := catalog(t, overlay)
	options := componentOptions(c)
	dir := filepath.Join(t.TempDir(), "orders-api")
	s := startPTY(t, "new", "-o", dir, "--templates", overlay, "--no-tidy")
	s.expect("Service name")
	s.send("orders-api", keyEnter)
	s.expect("Go module path")
	s.send(keyEnter)
	s.expect("HTTP framework")
	s.send(keyEnter)
	s.expect("Components")
	s.expect("database: Test database B")
	if scr := s.screen(); !strings.Contains(scr, "testdb - database: Test database A") {
		t.Errorf("the options have no descriptions beside them:\n%s", scr)
	}
	both := []string{"testdb", "testdb2"}
	s.send(setChecks(options, 0, defaults(c), both)...)
	s.send(keyEnter)
	s.expect("choose at most one database")
	s.send(setChecks(options, len(options)-1, both, []string{"testdb"})...)
	s.send(keyEnter)
	for _, g := range c.Groups()[1:] { // after the components list: ci, deploy
		if !g.Together && len(c.Choices(g.Name)) > 1 {
			s.expect(g.Title)
			s.send(keyEnter)
		}
	}
	s.expect("Generate orders-api")
	s.send(keyEnter)
	m := s.created(t, dir, 30*time.Second)
	if m.Answers.Get("database") != "testdb" || m.Answers.Get("cache") != generator.None {
		t.Errorf("database %q, cache %q; want testdb and none", m.Answers.Get("database"), m.Answers.Get("cache"))
	}
}

// TestPromptCtrlCAndEOFLeaveNothing stops `new` at different prompts with Ctrl-C or Ctrl-D: it
// exits non-zero, says nothing was written, and leaves the parent directory empty (no target,
// no staging directory).
func TestPromptCtrlCAndEOFLeaveNothing(t *testing.T) {
	qs, _ := nonDefaultAnswers(catalog(t, ""))
	// The prompts in order, each with the keys that answer it with its default.
	steps := []question{{"Service name", []string{"orders-api", keyEnter}}, {"Go module path", []string{keyEnter}}}
	for _, q := range qs {
		steps = append(steps, question{q.message, []string{keyEnter}})
	}
	steps = append(steps, question{"Generate orders-api", []string{keyEnter}})

	cases := []struct {
		name     string
		at       int // index into steps
		key      string
		code     int
		messages string
	}{
		{"ctrl-c at the first prompt", 0, keyCtrlC, 130, "interrupted; nothing written"},
		{"ctrl-d at the first prompt", 0, keyCtrlD, 1, "input ended before every question was answered; nothing written"},
		{"ctrl-c at the second prompt", 1, keyCtrlC, 130, "interrupted; nothing written"},
		{"ctrl-c at the confirmation", len(steps) - 1, keyCtrlC, 130, "interrupted; nothing written"},
	}
	if len(steps) > 3 {
		cases = append(cases,
			struct {
				name     string
				at       int
				key      string
				code     int
				messages string
			}{"ctrl-c at " + steps[2].message, 2, keyCtrlC, 130, "interrupted; nothing written"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			s := startPTY(t, "new", "-o", filepath.Join(parent, "orders-api"), "--no-tidy")
			for _, step := range steps[:tc.at] {
				s.expect(step.message)
				s.send(step.keys...)
			}
			s.expect(steps[tc.at].message)
			s.send(tc.key)
			s.expect(tc.messages)
			if code := s.wait(30 * time.Second); code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, s.out.String())
			}
			entries, err := os.ReadDir(parent)
			if err != nil || len(entries) != 0 {
				t.Errorf("left behind: %v %v", entries, err)
			}
		})
	}
}

// TestNoTerminalNeverPrompts runs `new` with no terminal and no flags: it fails at once naming
// what is missing.
func TestNoTerminalNeverPrompts(t *testing.T) {
	parent := t.TempDir()
	cmd := exec.Command(svcgenBin, "new", "-o", filepath.Join(parent, "svc"))
	cmd.Stdin = nil // /dev/null
	start := time.Now()
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("svcgen new without a terminal is still running after 20s: it must never wait for input")
	}
	if err == nil {
		t.Fatal("exit 0 without a terminal and without answers")
	}
	for _, w := range []string{"no terminal", "NAME", "--framework", "--yes"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("output %q does not name %s", out, w)
		}
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("wrote %v", entries)
	}
	t.Logf("failed after %s", time.Since(start))
}
