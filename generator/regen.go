package generator

import (
	"bytes"
	"context"
	"io"
	"os"
	"slices"

	"github.com/svcgen/svcgen/generator/merge"
)

// PlanOptions narrow and loosen a regeneration plan.
type PlanOptions struct {
	// Only limits the plan to the files of these components (`svcgen regen COMPONENT...`); every
	// other path is left alone and keeps its manifest entry. Empty means every component.
	Only []string
	// Force replaces a file of the owners that is in the way of a generated one.
	Force bool
	// Base is the catalog the service was last generated with, for the base render of the
	// three-way merge, when it differs from the one rendering now (a new --templates overlay).
	// nil means the same catalog.
	Base *Catalog
}

// RegenOptions say what to regenerate and how.
type RegenOptions struct {
	Dir  string // the service directory, holding .svcgen.yaml
	Spec Spec   // the answers to render now
	PlanOptions
	DryRun   bool      // plan only: nothing is written and tidy does not run
	Tidy     bool      // run `go mod tidy` after go.mod or Go sources change
	Progress io.Writer // where tidy's progress goes
	// Templates, when set, is the overlay to record in the manifest from now on (as
	// RecordOverlay gives it; "" for none): the service is being moved to another overlay.
	Templates *string
	// Checkpoint is called at every step after which an interruption leaves something on disk
	// (see NewOptions.Checkpoint).
	Checkpoint func(name string)

	tidy tidyFunc // nil: Tidy; tests count the runs
}

// RegenResult is what a regeneration did, or would do on a dry run.
type RegenResult struct {
	Plan *Plan
	// Manifest is the manifest after the run (nil on a dry run), and ManifestWritten whether
	// .svcgen.yaml had to be rewritten for it.
	Manifest        *Manifest
	ManifestWritten bool
	Tidied          bool // `go mod tidy` ran
	// TidyErr is set when everything was written but `go mod tidy` failed.
	TidyErr error
	// Bases are the changes to the stored bases (BaseDir), and Cleaned the temporary files
	// interrupted commands had left, removed first (cleanService).
	Bases   []Change
	Cleaned []string
}

// Conflicts lists the changes a person has to resolve.
func (r *RegenResult) Conflicts() []Change {
	var out []Change
	for _, c := range r.Plan.Changes {
		if c.Action == Conflict {
			out = append(out, c)
		}
	}
	return out
}

// Drift lists what `svcgen regen --check` fails on: every change a regeneration would make
// (a file to create, update, merge or delete, or one in the way), and every file still holding
// conflict markers a regeneration wrote. An edited generated file that regeneration would leave
// as it is, is not drift: the owners' edits are theirs to keep, and a service whose edits are
// merged with the current templates is in step. Files the owners added outside the manifest are
// never drift, and neither are their additions to go.mod (see regenGoMod).
func (p *Plan) Drift() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Action != Unchanged && c.Action != Keep || HasConflictMarkers(c.Old) {
			out = append(out, c)
		}
	}
	return out
}

// conflictLabels name the sides in the conflict markers regeneration writes.
var conflictLabels = merge.Labels{Ours: "yours", Base: "generated before", Theirs: "svcgen " + Version}

// HasConflictMarkers reports whether data holds a conflict block regeneration wrote: a line
// "<<<<<<< yours" and, after it, a line starting with ">>>>>>> svcgen".
func HasConflictMarkers(data []byte) bool {
	open := false
	for line := range bytes.Lines(data) {
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case string(line) == "<<<<<<< "+conflictLabels.Ours:
			open = true
		case open && bytes.HasPrefix(line, []byte(">>>>>>> svcgen")):
			return true
		}
	}
	return false
}

// Regen plans and applies a regeneration of the service in opts.Dir, recorded in old, rendering
// opts.Spec from c: changed files are written in place (see applyInPlace), then `go mod tidy`
// runs when go.mod or a Go source changed, then the manifest is rewritten atomically — last, and
// only when it differs, so a regeneration that changes nothing writes nothing at all.
//
// c must be the catalog the service was generated with: the embedded templates overlaid by the
// manifest's Templates directory, if any — LoadTemplates(OverlayDir(opts.Dir, old)), which
// resolves a relative overlay against the service directory (see RecordOverlay). Both the base
// render and the new one come from it.
//
// Conflicts are not errors: every other change is still applied and the result lists them.
func Regen(ctx context.Context, c *Catalog, old *Manifest, opts RegenOptions) (*RegenResult, error) {
	if err := opts.Spec.Validate(c); err != nil {
		return nil, err
	}
	plan, state, err := planRegen(c, old, opts.Spec, opts.Dir, opts.PlanOptions)
	if err != nil {
		return nil, err
	}
	res := &RegenResult{Plan: plan, Bases: state.bases}
	if opts.DryRun {
		return res, nil
	}
	if res.Cleaned, err = cleanService(opts.Dir); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(opts.Dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if err := apply(ctx, root, slices.Concat(plan.Changes, state.bases), opts.Checkpoint, false); err != nil {
		return nil, err
	}
	templates := old.Templates
	if opts.Templates != nil {
		templates = *opts.Templates
	}
	rec, err := record(ctx, c, root, recordOptions{
		spec: opts.Spec, entries: state.entries, goMod: state.goMod, old: old, templates: templates,
		tidy: opts.Tidy && needsTidy(plan), dir: opts.Dir, progress: opts.Progress, checkpoint: opts.Checkpoint, run: opts.tidy,
	})
	if err != nil {
		return nil, err
	}
	res.Manifest, res.ManifestWritten, res.Tidied, res.TidyErr = rec.manifest, rec.written, rec.tidied, rec.tidyErr
	return res, nil
}
