package generator

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// An interrupted command (kill -9, a power cut) can leave two kinds of scratch entries behind,
// both named so that no other file can be mistaken for them, and both carrying the id of the
// process that made them:
//
//   - ".svcgen-tmp-<pid>-<26 base32 characters>": a file written beside its target before being
//     renamed over it (regeneration and the manifest);
//   - ".svcgen-stage-<pid>-<digits>": `new`'s staging directory beside the target directory.
//
// The next command that writes removes the ones whose process is gone (cleanService,
// cleanStages) and nothing else: a live command's scratch files are left to it, and a file
// only has to look like one of these names to be kept unless it matches exactly. Names without
// a pid were written by svcgen 0.1.0, which had no other way to be interrupted than this.

const (
	tempPrefix  = ".svcgen-tmp-"
	stagePrefix = ".svcgen-stage-"
)

var (
	tempRE  = regexp.MustCompile(`^\.svcgen-tmp-(?:([0-9]+)-)?[A-Z2-7]{26}$`)
	stageRE = regexp.MustCompile(`^\.svcgen-stage-(?:([0-9]+)-)?[0-9]+$`)
)

// tempName returns a new name for a temporary file of this process.
func tempName() string {
	return tempPrefix + strconv.Itoa(os.Getpid()) + "-" + rand.Text()
}

// stalePID reports whether a scratch name's pid (as the regular expressions capture it) names
// a process that is gone. A name without a pid is svcgen 0.1.0's: stale when older than an hour
// for a staging directory (a `new` with a cold module cache can take minutes), at once for a
// temporary file (written and renamed within one command).
func stalePID(pid string, modTime time.Time, isStage bool) bool {
	if pid == "" {
		return !isStage || time.Since(modTime) > time.Hour
	}
	n, err := strconv.Atoi(pid)
	if err != nil || n == os.Getpid() {
		return false
	}
	p, err := os.FindProcess(n)
	if err != nil {
		return true
	}
	if runtime.GOOS == "windows" {
		return false // FindProcess opened it: it runs
	}
	err = p.Signal(syscall.Signal(0))
	return err != nil && !errors.Is(err, syscall.EPERM)
}

// cleanService removes the temporary files interrupted commands left in the service in dir (the
// whole tree but .git), and the directories that removing them leaves empty, and returns their
// paths relative to dir. Every command that writes to a service calls it first.
func cleanService(dir string) ([]string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var removed []string
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == ".git":
			return fs.SkipDir
		case !d.Type().IsRegular():
			return nil
		}
		m := tempRE.FindStringSubmatch(d.Name())
		if m == nil || !stalePID(m[1], time.Time{}, false) {
			return nil
		}
		rel := filepath.FromSlash(p)
		if err := root.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed = append(removed, p)
		removeEmptyParents(root, rel)
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("removing what an interrupted svcgen left in %s: %w", dir, err)
	}
	return removed, nil
}

// cleanStages removes the staging directories interrupted runs of `new` left in parent.
func cleanStages(parent string) ([]string, error) {
	entries, err := os.ReadDir(parent)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		m := stageRE.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil || !stalePID(m[1], info.ModTime(), true) {
			continue
		}
		p := filepath.Join(parent, e.Name())
		if err := os.RemoveAll(p); err != nil {
			return removed, err
		}
		removed = append(removed, p)
	}
	return removed, nil
}
