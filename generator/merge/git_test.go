package merge

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// gitResult is what `git merge-file -p` printed and how many conflicts it
// reported (its exit status).
type gitResult struct {
	out       []byte
	conflicts int
}

// gitAvailable reports whether git can be run; tests that compare against git
// skip that part without it.
func gitAvailable() bool {
	_, err := exec.LookPath("git")
	return err == nil
}

// gitMergeFile runs `git merge-file -p --quiet -L ours -L base -L theirs` on
// the three inputs in dir. Git runs without system or global configuration so
// that a merge.conflictStyle setting on the machine cannot change the output.
func gitMergeFile(t testing.TB, dir string, base, ours, theirs []byte) gitResult {
	t.Helper()
	files := map[string][]byte{"base": base, "ours": ours, "theirs": theirs}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("git", "merge-file", "-p", "--quiet",
		"-L", "ours", "-L", "base", "-L", "theirs", "ours", "base", "theirs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "HOME="+dir,
		"LC_ALL=C")
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return gitResult{out: out}
	case errors.As(err, &exit) && exit.ExitCode() > 0 && exit.ExitCode() < 128:
		return gitResult{out: out, conflicts: exit.ExitCode()}
	default:
		var stderr []byte
		if exit != nil {
			stderr = exit.Stderr
		}
		t.Fatalf("git merge-file: %v\n%s", err, stderr)
		return gitResult{}
	}
}

// testLabels are the labels gitMergeFile passes to git.
var testLabels = Labels{Ours: "ours", Base: "base", Theirs: "theirs"}
