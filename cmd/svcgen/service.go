package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

// Exit codes of the commands that change an existing service (add, remove, set, regen).
const (
	exitDrift    = 1 // regen --check: the service differs from what svcgen generates now
	exitConflict = 3 // the plan was applied, but some files need a person: conflicts
)

// exitCodesHelp documents the exit codes in the help of the commands that change a service.
const exitCodesHelp = `
Exit status: 0 when done; 1 on an error (nothing is written); 3 when every change was
applied but some files conflict: they are listed, edited files hold git-style conflict markers
(<<<<<<< yours … ======= … >>>>>>> svcgen) and files in the way are left as they are.`

// serviceOptions are the flags of the commands that work on an existing service.
type serviceOptions struct {
	streams   *IOStreams
	dir       string
	dryRun    bool
	force     bool
	noTidy    bool
	format    string
	templates string
	// templatesSet: --templates was given, replacing the overlay the manifest records.
	templatesSet bool
}

// addServiceFlags registers -C on every such command and, when it writes, --dry-run, --force
// and --no-tidy.
func addServiceFlags(cmd *cobra.Command, o *serviceOptions, writes bool) {
	f := cmd.Flags()
	f.StringVarP(&o.dir, "dir", "C", ".", "the service directory (the one holding .svcgen.yaml)")
	addFormatFlag(cmd, &o.format, true)
	f.StringVar(&o.templates, "templates", "", "render with this template overlay instead of the one .svcgen.yaml records (\"\" for none); commands that write record it")
	cmd.PreRun = func(cmd *cobra.Command, _ []string) { o.templatesSet = cmd.Flags().Changed("templates") }
	if !writes {
		return
	}
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan and the unified diff of every change; write nothing")
	f.BoolVar(&o.force, "force", false, "replace files of yours that are in the way of generated ones")
	f.BoolVar(&o.noTidy, "no-tidy", false, "skip go mod tidy after go.mod or Go sources change")
}

// service is a generated service: its directory, manifest and the catalog it is rendered from.
type service struct {
	dir      string
	manifest *generator.Manifest
	catalog  *generator.Catalog
	// base is the catalog the service was generated with, when --templates names another
	// overlay (nil otherwise); overlay is that overlay as the manifest will record it.
	base    *generator.Catalog
	overlay *string
}

// planOptions are the plan options every command on the service uses.
func (s *service) planOptions(only []string, force bool) generator.PlanOptions {
	return generator.PlanOptions{Only: only, Force: force, Base: s.base}
}

// openService reads the manifest in dir and loads the templates the service was generated with:
// the embedded ones overlaid by the manifest's --templates directory, if it records one.
func openService(o *serviceOptions) (*service, error) {
	if err := checkFormat(o.format); err != nil {
		return nil, err
	}
	dir := filepath.Clean(o.dir)
	m, err := generator.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	c, err := o.streams.loadTemplates(generator.OverlayDir(dir, m))
	if err != nil {
		if m.Templates != "" {
			return nil, fmt.Errorf("the service was generated with the template overlay %s (recorded in %s), which cannot be loaded: %w", m.Templates, generator.ManifestName, err)
		}
		return nil, err
	}
	svc := &service{dir: dir, manifest: m, catalog: c}
	if o.templatesSet {
		if svc.catalog, err = o.streams.loadTemplates(o.templates); err != nil {
			return nil, err
		}
		svc.base = c
		recorded := generator.RecordOverlay(dir, o.templates)
		svc.overlay = &recorded
	}
	return svc, nil
}

// textOut is where human-readable notes go: stdout, or stderr when stdout carries JSON.
func (o *serviceOptions) textOut() io.Writer {
	if o.format == formatJSON {
		return o.streams.ErrOut
	}
	return o.streams.Out
}

// changeAnswers is the common run of add, remove and set: edit the recorded answers, then
// regenerate everything (wiring files of other components change too).
func changeAnswers(cmd *cobra.Command, o *serviceOptions, edit func(*generator.Catalog, generator.Spec) (generator.Spec, []string, error)) error {
	svc, err := openService(o)
	if err != nil {
		return err
	}
	spec, notes, err := edit(svc.catalog, svc.manifest.Answers)
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(o.textOut(), n)
	}
	if spec.Equal(svc.manifest.Answers) {
		fmt.Fprintln(o.textOut(), "nothing to change")
		return nil
	}
	if err := spec.Validate(svc.catalog); err != nil {
		return err
	}
	return regenerate(cmd, o, svc, spec, nil)
}

// regenerate runs the regeneration and prints its outcome: one line per change (unchanged
// files are not listed), a summary, and an exitError naming the conflicts, if any.
func regenerate(cmd *cobra.Command, o *serviceOptions, svc *service, spec generator.Spec, only []string) error {
	res, err := generator.Regen(cmd.Context(), svc.catalog, svc.manifest, generator.RegenOptions{
		Dir: svc.dir, Spec: spec,
		PlanOptions: svc.planOptions(only, o.force), Templates: svc.overlay,
		DryRun: o.dryRun, Tidy: !o.noTidy, Progress: o.streams.ErrOut,
		Checkpoint: testCheckpoint(o.streams),
	})
	if err != nil {
		return err
	}
	if len(res.Cleaned) > 0 {
		fmt.Fprintf(o.textOut(), "removed %d temporary file%s an interrupted svcgen left: %s\n", len(res.Cleaned), plural(len(res.Cleaned)), strings.Join(res.Cleaned, ", "))
	}
	if spec.Equal(svc.manifest.Answers) {
		upgrade, err := generator.PlanUpgrade(svc.manifest, svc.catalog, res.Plan.Rendered)
		if err != nil {
			return err
		}
		printUpgrade(o.textOut(), upgrade)
	}
	switch {
	case o.format == formatJSON:
		if err := writePlanJSON(o.streams, spec.Name, res.Plan, o.dryRun, true); err != nil {
			return err
		}
	case o.dryRun:
		printChanges(o.streams, res.Plan)
		if countWrites(res.Plan) > 0 {
			fmt.Fprintln(o.streams.Out)
			printDiff(o.streams, res.Plan)
		}
		fmt.Fprintf(o.streams.Out, "dry run: nothing written to %s\n", svc.dir)
	case countWrites(res.Plan) == 0 && !res.ManifestWritten && len(res.Bases) == 0:
		printChanges(o.streams, res.Plan)
		fmt.Fprintf(o.streams.Out, "%s is in step with its answers: nothing written\n", spec.Name)
	default:
		printChanges(o.streams, res.Plan)
		printBases(o.streams, res.Bases)
		fmt.Fprintf(o.streams.Out, "%s: %s\n", spec.Name, summary(res.Plan))
	}
	if conflicts := res.Conflicts(); len(conflicts) > 0 {
		var names []string
		for _, c := range conflicts {
			names = append(names, c.Path)
		}
		verb := "have"
		if len(names) == 1 {
			verb = "has"
		}
		if o.dryRun {
			verb = "would have"
		}
		err := fmt.Errorf("%d file%s %s conflicts: %s\nresolve the conflict markers (or move the files in the way, or pass --force), then check with: svcgen regen --check",
			len(names), plural(len(names)), verb, strings.Join(names, ", "))
		if res.TidyErr != nil {
			// Conflict markers in Go files can make tidy fail; it has to run again once they are gone.
			err = fmt.Errorf("%w\n`go mod tidy` failed as well; run it after resolving the conflicts:\n%v", err, res.TidyErr)
		}
		return &exitError{code: exitConflict, err: err}
	}
	return res.TidyErr
}

// printBases says what changed in the stored bases: svcgen's renders of the edited files, which
// the next merge needs and nothing else keeps.
func printBases(streams *IOStreams, bases []generator.Change) {
	var written, removed int
	for _, c := range bases {
		if c.Action == generator.Delete {
			removed++
		} else {
			written++
		}
	}
	if written > 0 {
		fmt.Fprintf(streams.Out, "kept svcgen's render of %d edited file%s in %s: the base of the next merge; commit it with your edits\n", written, plural(written), generator.BaseDir)
	}
	if removed > 0 {
		fmt.Fprintf(streams.Out, "removed %d render%s from %s that no merge needs any more\n", removed, plural(removed), generator.BaseDir)
	}
}

// printUpgrade says how the templates changed since the service was generated, if they did.
func printUpgrade(w io.Writer, u *generator.Upgrade) {
	if u == nil {
		return
	}
	from := "svcgen " + u.FromVersion
	if u.FromDigest != "" {
		from += " (templates " + shortDigest(u.FromDigest) + ")"
	}
	to := fmt.Sprintf("svcgen %s (templates %s)", u.ToVersion, shortDigest(u.ToDigest))
	if len(u.Files) == 0 {
		fmt.Fprintf(w, "templates changed: %s → %s; none of this service's files renders differently\n", from, to)
		return
	}
	fmt.Fprintf(w, "templates changed: %s → %s; what they write for this service's answers (%d file%s):\n",
		from, to, len(u.Files), plural(len(u.Files)))
	for _, f := range u.Files {
		fmt.Fprintf(w, "  %-8s %s\n", f.Change, f.Path)
	}
}

// shortDigest shortens "sha256:<64 hex>" to its first 12 digits, as git shortens commits.
func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

// printChanges lists every change but the unchanged files, with the reason when there is one.
func printChanges(streams *IOStreams, plan *generator.Plan) {
	for _, c := range plan.Changes {
		if c.Action == generator.Unchanged {
			continue
		}
		line := fmt.Sprintf("%-9s %s (%s)", c.Action, c.Path, c.Component)
		if c.Reason != "" {
			line += ": " + c.Reason
		}
		fmt.Fprintln(streams.Out, line)
	}
}

func countWrites(plan *generator.Plan) int {
	n := 0
	for _, c := range plan.Changes {
		if c.Writes() {
			n++
		}
	}
	return n
}

// summary counts the changes by action, in the order of the plan's actions.
func summary(plan *generator.Plan) string {
	var parts []string
	for _, a := range []struct {
		action generator.Action
		done   string
	}{
		{generator.Create, "created"}, {generator.Update, "updated"}, {generator.Merge, "merged"},
		{generator.Overwrite, "overwritten"}, {generator.Delete, "deleted"}, {generator.Keep, "kept"},
		{generator.Conflict, "in conflict"},
	} {
		if n := plan.Count(a.action); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a.done))
		}
	}
	if len(parts) == 0 {
		return "manifest updated"
	}
	return strings.Join(parts, ", ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
