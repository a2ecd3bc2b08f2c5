package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
)

// tidiedFiles are rewritten by `go mod tidy`; the manifest records them as tidy left them.
var tidiedFiles = []string{"go.mod", "go.sum"}

func isTidied(path string) bool { return slices.Contains(tidiedFiles, path) }

// tidyFunc runs `go mod tidy` in a directory; Tidy is the real one, tests pass their own in the
// options to see when it runs.
type tidyFunc func(ctx context.Context, dir string, progress io.Writer) error

// TidyError is a failed `go mod tidy`, with what it printed.
type TidyError struct {
	Dir    string
	Stderr string
	Err    error
}

func (e *TidyError) Error() string {
	return fmt.Sprintf("go mod tidy failed (%v); the service is written — fix the cause and retry with: cd %s && go mod tidy\n%s", e.Err, e.Dir, e.Stderr)
}

func (e *TidyError) Unwrap() error { return e.Err }

// Tidy runs `go mod tidy` in dir, streaming go's progress ("go: downloading …") to progress.
func Tidy(ctx context.Context, dir string, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	fmt.Fprintln(progress, "running go mod tidy (downloads the service's modules on first use)…")
	// go's stdout and stderr are copied by two goroutines: one lock keeps them from writing to
	// progress (a buffer, in tests) at the same time.
	progress = &lockedWriter{w: progress}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "mod", "tidy")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off") // the service is its own module, whatever workspace surrounds it
	cmd.Stdout = progress
	cmd.Stderr = io.MultiWriter(progress, &stderr)
	if err := cmd.Run(); err != nil {
		return &TidyError{Dir: dir, Stderr: stderr.String(), Err: err}
	}
	return nil
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// needsTidy reports whether the applied plan changed go.mod or a Go source, the only changes
// after which `go mod tidy` can have anything to do.
func needsTidy(p *Plan) bool {
	for _, c := range p.Changes {
		if c.Writes() && (c.Path == "go.mod" || strings.HasSuffix(c.Path, ".go")) {
			return true
		}
	}
	return false
}

// recordOptions are the inputs of the last stage of every write: tidy, then the manifest.
type recordOptions struct {
	spec    Spec
	entries []ManifestFile // the plan's manifest entries, without go.mod and go.sum
	// goMod: the plan decided go.mod, so go.mod and go.sum are recorded as they are on disk
	// (as they are after tidy, when it runs); otherwise old's entries for them are kept.
	goMod      bool
	old        *Manifest
	templates  string // the overlay, as the manifest records it
	tidy       bool   // run `go mod tidy`
	fresh      bool   // root is new's staging directory: the manifest needs no temporary name
	dir        string // the service directory as the user knows it (a TidyError names it)
	progress   io.Writer
	checkpoint func(string)
	run        tidyFunc // nil: Tidy
}

// recorded is what the record stage did.
type recorded struct {
	manifest *Manifest
	written  bool // .svcgen.yaml had to be (re)written
	tidied   bool // `go mod tidy` ran
	tidyErr  error
}

// record is the one tidy-and-record stage of `new` and every regeneration: it runs `go mod tidy`
// in root's directory when asked, then writes the manifest — last, atomically, and only when it
// differs from the one there — listing the plan's entries and go.mod and go.sum as tidy left
// them. A failed tidy is not an error (the result carries it: the files are written and the
// owners can retry); a cancelled one is.
func record(ctx context.Context, c *Catalog, root *os.Root, o recordOptions) (recorded, error) {
	var rec recorded
	if o.tidy {
		rec.tidied = true
		checkpoint(o.checkpoint, "tidy")
		run := o.run
		if run == nil {
			run = Tidy
		}
		if err := run(ctx, root.Name(), o.progress); err != nil {
			if ctx.Err() != nil {
				return rec, ctx.Err()
			}
			var te *TidyError
			if errors.As(err, &te) {
				te.Dir = o.dir // where the service is (or will be, for new's stage)
			}
			rec.tidyErr = err
		}
		checkpoint(o.checkpoint, "tidied")
	}
	entries := slices.Clone(o.entries)
	for _, name := range tidiedFiles {
		if !o.goMod && !rec.tidied {
			if e, ok := o.old.Lookup(name); ok {
				entries = append(entries, e)
			}
			continue
		}
		data, ok, err := readLocal(root, name)
		if err != nil {
			return rec, err
		}
		if ok {
			entries = append(entries, entryFor(name, CoreComponent, data))
		}
	}
	m, err := newManifest(c, o.spec, o.templates, entries)
	if err != nil {
		return rec, err
	}
	rec.manifest = m
	raw, err := m.Marshal()
	if err != nil {
		return rec, err
	}
	current, _, err := readLocal(root, ManifestName)
	if err != nil {
		return rec, err
	}
	if !bytes.Equal(current, raw) {
		write := func() error { return writeAtomic(root, ManifestName, raw, 0o644, o.checkpoint) }
		if o.fresh {
			write = func() error {
				return apply(ctx, root, []Change{{Path: ManifestName, Action: Create, New: raw, Mode: 0o644}}, nil, true)
			}
		}
		if err := write(); err != nil {
			return rec, fmt.Errorf("writing %s: %w", ManifestName, err)
		}
		rec.written = true
	}
	return rec, nil
}

// newManifest is the one manifest builder: the answers as the catalog records them (its group
// order, a missing optional group none), the template digest, the overlay and the entries sorted
// by path.
func newManifest(c *Catalog, s Spec, templates string, entries []ManifestFile) (*Manifest, error) {
	digest, err := c.Digest()
	if err != nil {
		return nil, err
	}
	entries = slices.Clone(entries)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	return &Manifest{Format: ManifestFormat, Generator: Version, TemplateDigest: digest, Answers: s.recorded(c), Templates: templates, Files: entries}, nil
}
