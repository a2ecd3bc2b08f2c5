package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Stage is a scratch directory beside a target, on the same file system, so that moving its
// contents into place is a rename and a failure part way leaves the target as it was.
type Stage struct {
	Dir    string // the staging directory
	Target string // where its contents go
}

// NewStage creates a staging directory next to target.
func NewStage(target string) (*Stage, error) {
	parent := filepath.Dir(filepath.Clean(target))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, ".svcgen-stage-")
	if err != nil {
		return nil, err
	}
	return &Stage{Dir: dir, Target: target}, nil
}

// Write puts data at the slash-separated path rel inside the stage.
func (s *Stage) Write(rel string, data []byte, mode fs.FileMode) error {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return fmt.Errorf("refusing to write %q: it leaves the service directory", rel)
	}
	if mode == 0 {
		mode = 0o644
	}
	p := filepath.Join(s.Dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		return err
	}
	return os.Chmod(p, mode) // WriteFile's mode is filtered by the umask; generated modes are exact
}

// Read returns a file from the stage.
func (s *Stage) Read(rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(s.Dir, filepath.FromSlash(rel)))
}

// Commit moves the staged tree into place. When the target is absent or empty the whole stage
// is renamed over it in one step; otherwise each staged file is renamed over its counterpart.
func (s *Stage) Commit() error {
	if info, err := os.Stat(s.Target); err == nil {
		if !info.IsDir() {
			return fmt.Errorf("%s exists and is not a directory", s.Target)
		}
		if entries, err := os.ReadDir(s.Target); err == nil && len(entries) == 0 {
			if err := os.Remove(s.Target); err != nil {
				return err
			}
		}
	}
	if _, err := os.Stat(s.Target); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(s.Dir, s.Target); err != nil {
			return err
		}
		return os.Chmod(s.Target, 0o755) // MkdirTemp makes 0700
	}
	err := filepath.WalkDir(s.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(s.Dir, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(s.Target, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.Rename(p, dst)
	})
	if err != nil {
		return err
	}
	return os.RemoveAll(s.Dir)
}

// Discard removes the stage and everything in it.
func (s *Stage) Discard() error {
	return os.RemoveAll(s.Dir)
}
