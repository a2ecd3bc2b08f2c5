package generator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// Regeneration changes an existing service in place, file by file, through an os.Root opened on
// the service directory: no path, whether by "..", an absolute name or a symbolic link, can read
// or write outside it.

// readLocal reads the slash-separated path rel inside root. A missing file is (nil, false, nil).
func readLocal(root *os.Root, rel string) ([]byte, bool, error) {
	if err := checkLocal(rel); err != nil {
		return nil, false, err
	}
	data, err := root.ReadFile(filepath.FromSlash(rel))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return data, true, nil
}

func checkLocal(rel string) error {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return fmt.Errorf("refusing %q: it leaves the service directory", rel)
	}
	return nil
}

// pending is one file written to a temporary name and waiting to be renamed over its target.
type pending struct{ tmp, target string }

// applyInPlace makes the changes that write (see Change.Writes) in two phases. First every new
// content is written to a temporary file in its target's directory (so that moving it into place
// is a rename, which readers see as all-or-nothing). Only when all of them are written, and ctx
// is not cancelled, are they renamed over their targets and the deletions made. A failure in the
// first phase removes the temporaries and leaves every file of the service as it was.
//
// step (may be nil) is the checkpoint called after each temporary file, rename and deletion.
func applyInPlace(ctx context.Context, root *os.Root, changes []Change, step func(string)) error {
	var staged []pending
	discard := func() {
		for _, p := range staged {
			root.Remove(p.tmp) //nolint:errcheck // best effort
			removeEmptyParents(root, p.tmp)
		}
	}
	for _, c := range changes {
		if !c.Writes() || c.New == nil {
			continue
		}
		tmp, err := writeTemp(root, c.Path, c.New, c.Mode)
		if err != nil {
			discard()
			return fmt.Errorf("%s: %w", c.Path, err)
		}
		staged = append(staged, pending{tmp: tmp, target: filepath.FromSlash(c.Path)})
		checkpoint(step, "wrote a temporary file for "+c.Path)
	}
	if err := ctx.Err(); err != nil {
		discard()
		return err
	}
	for i, p := range staged {
		if err := root.Rename(p.tmp, p.target); err != nil {
			staged = staged[i:]
			discard()
			return fmt.Errorf("%s: %w", filepath.ToSlash(p.target), err)
		}
		checkpoint(step, "renamed over "+filepath.ToSlash(p.target))
	}
	for _, c := range changes {
		if c.Action != Delete {
			continue
		}
		if err := checkLocal(c.Path); err != nil {
			return err
		}
		rel := filepath.FromSlash(c.Path)
		if err := root.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", c.Path, err)
		}
		removeEmptyParents(root, rel)
		checkpoint(step, "deleted "+c.Path)
	}
	return nil
}

// writeAtomic replaces the file rel inside root with data: a temporary file beside it, then a
// rename.
func writeAtomic(root *os.Root, rel string, data []byte, mode fs.FileMode, step func(string)) error {
	tmp, err := writeTemp(root, rel, data, mode)
	if err != nil {
		return err
	}
	checkpoint(step, "wrote a temporary file for "+rel)
	if err := root.Rename(tmp, filepath.FromSlash(rel)); err != nil {
		root.Remove(tmp) //nolint:errcheck // best effort
		return err
	}
	return nil
}

// writeTemp writes data with exactly mode to a new temporary file in the directory of rel,
// creating the directory when needed, and returns the temporary file's name.
func writeTemp(root *os.Root, rel string, data []byte, mode fs.FileMode) (string, error) {
	if err := checkLocal(rel); err != nil {
		return "", err
	}
	if mode == 0 {
		mode = 0o644
	}
	dir := path.Dir(rel)
	if err := root.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
		return "", err
	}
	tmp := filepath.FromSlash(path.Join(dir, tempName()))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return "", err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		root.Remove(tmp) //nolint:errcheck // best effort
		return "", err
	}
	if err := root.Chmod(tmp, mode); err != nil { // OpenFile's mode is filtered by the umask
		root.Remove(tmp) //nolint:errcheck // best effort
		return "", err
	}
	return tmp, nil
}

// removeEmptyParents removes the directories above rel that are left empty, up to the root.
func removeEmptyParents(root *os.Root, rel string) {
	for dir := filepath.Dir(rel); dir != "." && dir != string(filepath.Separator); dir = filepath.Dir(dir) {
		f, err := root.Open(dir)
		if err != nil {
			return
		}
		names, err := f.Readdirnames(1)
		f.Close()
		if len(names) > 0 || !errors.Is(err, io.EOF) {
			return // not empty, or unreadable
		}
		if root.Remove(dir) != nil {
			return
		}
	}
}
