package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/svcgen/svcgen/templates"
)

// LoadTemplates returns the catalog of the embedded templates, overlaid by the folder overlayDir
// when it is not empty.
func LoadTemplates(overlayDir string) (*Catalog, error) {
	var overlay fs.FS
	if overlayDir != "" {
		info, err := os.Stat(overlayDir)
		if err != nil {
			return nil, fmt.Errorf("--templates %s: %w", overlayDir, err)
		}
		if !info.IsDir() {
			return nil, fmt.Errorf("--templates %s is not a directory", overlayDir)
		}
		overlay = os.DirFS(overlayDir)
	}
	if overlay == nil {
		return embedded()
	}
	return loadCatalog(templates.FS, overlay, true)
}

// embedded is the catalog of the embedded templates, read once per process: every command
// needs it (help text, completion, the run itself) and it never changes.
var embedded = sync.OnceValues(func() (*Catalog, error) {
	return loadCatalog(templates.FS, nil, true)
})

// NewOptions says what `svcgen new` should generate and where.
type NewOptions struct {
	Spec      Spec
	Dir       string // target directory
	Templates string // overlay directory ("" for none), recorded in the manifest
	Force     bool   // allow a non-empty target
	DryRun    bool   // plan only
	Tidy      bool   // run `go mod tidy` after rendering
	Progress  io.Writer
	// Checkpoint, when set, is called with a name at every step after which an interruption
	// leaves something on disk; tests kill the process there (see cmd/svcgen's
	// SVCGEN_TEST_KILL_AT) to hold every such point to "the next command cleans it up".
	Checkpoint func(name string)
}

// checkpoint calls fn with name when fn is set.
func checkpoint(fn func(string), name string) {
	if fn != nil {
		fn(name)
	}
}

// NewResult is what `new` did, or would do on a dry run.
type NewResult struct {
	Plan     *Plan
	Manifest *Manifest
	// TidyErr is set when everything was written but `go mod tidy` failed; the service is kept.
	TidyErr error
}

// New runs the pipeline for a new service: validate → render → plan → stage → tidy → manifest →
// commit. Until the commit nothing exists at the target; an error or a cancelled ctx before it
// removes the stage and leaves the target as it was.
func New(ctx context.Context, c *Catalog, opts NewOptions) (*NewResult, error) {
	if err := opts.Spec.Validate(c); err != nil {
		return nil, err
	}
	files, err := Render(opts.Spec, c)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	plan, err := PlanNew(opts.Dir, files, opts.Force)
	if err != nil {
		return nil, err
	}
	res := &NewResult{Plan: plan}
	overlay := RecordOverlay(opts.Dir, opts.Templates)
	digest, err := c.Digest()
	if err != nil {
		return nil, err
	}
	if opts.DryRun {
		res.Manifest = NewManifest(opts.Spec, digest, overlay, files)
		return res, nil
	}
	stage, err := NewStage(opts.Dir)
	if err != nil {
		return nil, err
	}
	defer stage.Discard() //nolint:errcheck // best effort; after Commit the stage is already gone
	checkpoint(opts.Checkpoint, "stage created")
	if err := stage.WriteAll(files); err != nil {
		return nil, err
	}
	checkpoint(opts.Checkpoint, "stage written")
	if opts.Tidy {
		if err := Tidy(ctx, stage.Dir, opts.Progress); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var te *TidyError
			if errors.As(err, &te) {
				te.Dir = opts.Dir // where the service will be, not the stage
			}
			res.TidyErr = err
		}
		if files, err = refreshTidied(stage, files); err != nil {
			return nil, err
		}
	}
	res.Manifest = NewManifest(opts.Spec, digest, overlay, files)
	raw, err := res.Manifest.Marshal()
	if err != nil {
		return nil, err
	}
	if err := stage.Write(ManifestName, raw, 0o644); err != nil {
		return nil, err
	}
	checkpoint(opts.Checkpoint, "manifest staged")
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := stage.Commit(); err != nil {
		return nil, fmt.Errorf("moving the service into %s: %w", opts.Dir, err)
	}
	checkpoint(opts.Checkpoint, "committed")
	return res, nil
}

// tidiedFiles are rewritten by `go mod tidy`; the manifest records them as tidy left them.
var tidiedFiles = []string{"go.mod", "go.sum"}

// refreshTidied replaces the rendered go.mod and adds go.sum with what tidy wrote in the stage.
func refreshTidied(stage *Stage, files []File) ([]File, error) {
	for _, name := range tidiedFiles {
		data, err := stage.Read(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a service with no dependencies has no go.sum
		}
		if err != nil {
			return nil, err
		}
		files = upsertFile(files, File{Path: name, Data: data, Component: CoreComponent, Mode: 0o644})
	}
	return files, nil
}

// upsertFile replaces the file at f.Path or adds f, keeping files sorted.
func upsertFile(files []File, f File) []File {
	for i := range files {
		if files[i].Path == f.Path {
			files[i] = f
			return files
		}
	}
	files = append(files, f)
	sortFiles(files)
	return files
}

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

// RecordOverlay returns the overlay directory as the manifest records it: relative to the
// service directory when it can be (so a service and its overlay can move together, as in one
// repository), absolute otherwise. "" stays "".
func RecordOverlay(serviceDir, overlay string) string {
	if overlay == "" {
		return ""
	}
	absOverlay, err1 := filepath.Abs(overlay)
	absService, err2 := filepath.Abs(serviceDir)
	if err1 != nil || err2 != nil {
		return overlay
	}
	if rel, err := filepath.Rel(absService, absOverlay); err == nil {
		return filepath.ToSlash(rel)
	}
	return absOverlay
}

// OverlayDir resolves a manifest's recorded overlay against the service directory.
func OverlayDir(serviceDir string, m *Manifest) string {
	if m.Templates == "" || filepath.IsAbs(m.Templates) {
		return m.Templates
	}
	return filepath.Join(serviceDir, filepath.FromSlash(m.Templates))
}
