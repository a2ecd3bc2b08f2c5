package generator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

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

	tidy tidyFunc // nil: Tidy; tests count the runs
}

// NewResult is what `new` did, or would do on a dry run.
type NewResult struct {
	Plan     *Plan
	Manifest *Manifest
	// TidyErr is set when everything was written but `go mod tidy` failed; the service is kept.
	TidyErr error
}

// ErrNotEmpty is returned when `new` would write into a directory that already has files.
var ErrNotEmpty = errors.New("target directory is not empty")

// New generates a service. It is a regeneration against an empty manifest (nothing generated
// before, so every file svcgen renders is created, and with Force a file of the owners in the way
// is overwritten), applied to a staging directory beside the target instead of in place: plan →
// write the stage → tidy and record the manifest there → move the stage into place. Until that
// move nothing exists at the target; an error or a cancelled ctx before it removes the stage and
// leaves the target as it was.
func New(ctx context.Context, c *Catalog, opts NewOptions) (*NewResult, error) {
	var err error
	if opts.Spec, err = assignMigrations(c, opts.Spec); err != nil {
		return nil, err
	}
	if err := opts.Spec.Validate(c); err != nil {
		return nil, err
	}
	occupied, err := checkTarget(opts.Dir, opts.Force)
	if err != nil {
		return nil, err
	}
	disk := "" // an absent or empty target: the plan has nothing on disk to compare with
	if occupied {
		disk = opts.Dir
	}
	plan, state, err := planRegen(c, &Manifest{}, opts.Spec, disk, PlanOptions{Force: opts.Force})
	if err != nil {
		return nil, err
	}
	plan.Dir = opts.Dir
	for i, ch := range plan.Changes {
		if ch.Action == Overwrite { // nothing of svcgen's was there before: say it as new does
			plan.Changes[i].Reason = "existing file replaced (--force)"
		}
	}
	res := &NewResult{Plan: plan}
	overlay := RecordOverlay(opts.Dir, opts.Templates)
	if opts.DryRun {
		entries := state.entries
		for _, f := range plan.Rendered {
			if isTidied(f.Path) {
				entries = append(entries, entryFor(f.Path, f.Component, f.Data))
			}
		}
		res.Manifest, err = newManifest(c, opts.Spec, overlay, entries)
		return res, err
	}
	stage, err := newStage(opts.Dir)
	if err != nil {
		return nil, err
	}
	defer stage.discard() //nolint:errcheck // best effort; after commit the stage is already gone
	checkpoint(opts.Checkpoint, "stage created")
	root, err := os.OpenRoot(stage.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if err := apply(ctx, root, plan.Changes, opts.Checkpoint, true); err != nil {
		return nil, err
	}
	checkpoint(opts.Checkpoint, "stage written")
	rec, err := record(ctx, c, root, recordOptions{
		spec: opts.Spec, entries: state.entries, goMod: true, old: &Manifest{}, templates: overlay,
		tidy: opts.Tidy, fresh: true, dir: opts.Dir, progress: opts.Progress, checkpoint: opts.Checkpoint, run: opts.tidy,
	})
	if err != nil {
		return nil, err
	}
	res.Manifest, res.TidyErr = rec.manifest, rec.tidyErr
	checkpoint(opts.Checkpoint, "manifest staged")
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := stage.commit(); err != nil {
		return nil, fmt.Errorf("moving the service into %s: %w", opts.Dir, err)
	}
	checkpoint(opts.Checkpoint, "committed")
	return res, nil
}

// checkTarget checks that dir is absent or empty, unless force is set, and reports whether it
// holds anything.
func checkTarget(dir string, force bool) (occupied bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("target %s: %w", dir, err)
	case len(entries) > 0 && !force:
		return false, fmt.Errorf("%w: %s has %d entries (e.g. %s); choose another -o/--output or pass --force to write into it", ErrNotEmpty, dir, len(entries), entries[0].Name())
	}
	return len(entries) > 0, nil
}

// checkpoint calls fn with name when fn is set.
func checkpoint(fn func(string), name string) {
	if fn != nil {
		fn(name)
	}
}
