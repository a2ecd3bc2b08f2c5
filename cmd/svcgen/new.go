package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

// newOptions are the inputs of `svcgen new`.
type newOptions struct {
	streams *IOStreams

	name      string
	module    string
	groups    map[string]*string // group name → flag value
	output    string
	answers   string
	templates string
	yes       bool
	dryRun    bool
	force     bool
	noTidy    bool
	format    string

	// changed reports whether a flag was set on the command line (flags beat answer files).
	changed func(flag string) bool
}

func newNewCmd(streams *IOStreams, catalog *generator.Catalog) *cobra.Command {
	o := &newOptions{streams: streams, groups: map[string]*string{}}
	cmd := &cobra.Command{
		Use:   "new [NAME]",
		Short: "Generate a new service",
		Long: `Generate a new service into ./NAME (or -o DIR).

Choices come from flags, then an answer file (--answers), then prompts when run in a terminal,
then defaults. With --yes every choice not given takes its default and nothing is asked; without
a terminal, svcgen never waits for input: it names the flags that are missing, unless only
optional choices are, which are then none (so a script written for an earlier release keeps
generating what it did when a release adds an optional component).`,
		Example: `  svcgen new orders-api --module github.com/acme/orders-api --framework echo -y
  svcgen new --answers other-service/.svcgen.yaml -o ./copy`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.name = args[0]
			}
			o.changed = func(name string) bool { return cmd.Flags().Changed(name) }
			return runNew(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.module, "module", "", "Go module path (default: NAME)")
	for _, g := range catalog.Groups() {
		o.groups[g.Name] = f.String(g.Name, "", groupHelp(catalog, g))
		completeWith(cmd, g.Name, catalog.Choices(g.Name))
	}
	f.StringVarP(&o.output, "output", "o", "", "directory to generate into (default: ./NAME)")
	f.StringVar(&o.answers, "answers", "", "YAML answer file (a service's .svcgen.yaml works too)")
	f.StringVar(&o.templates, "templates", "", "directory of template overlays: DIR/<component>/<path>")
	f.BoolVarP(&o.yes, "yes", "y", false, "take defaults for everything not given; never prompt")
	f.BoolVar(&o.dryRun, "dry-run", false, "print every file and its action; write nothing")
	f.BoolVar(&o.force, "force", false, "allow a non-empty target directory (files there that the service needs are overwritten)")
	f.BoolVar(&o.noTidy, "no-tidy", false, "skip go mod tidy after generating")
	addFormatFlag(cmd, &o.format, false)
	return cmd
}

// groupHelp describes a group flag with its choices and default, from the templates' metadata.
func groupHelp(c *generator.Catalog, g generator.Group) string {
	several := ""
	if g.Many {
		several = ", several comma-separated"
	}
	return fmt.Sprintf("%s: %s (default %s%s)", lowerFirst(g.Title), strings.Join(c.Choices(g.Name), "|"), c.Default(g.Name), several)
}

func runNew(cmd *cobra.Command, o *newOptions) error {
	if err := checkFormat(o.format); err != nil {
		return err
	}
	catalog, err := o.streams.loadTemplates(o.templates)
	if err != nil {
		return err
	}
	spec, err := o.collectSpec(catalog)
	if err != nil {
		return err
	}
	if err := spec.ValidateGiven(catalog); err != nil {
		return err // a bad flag fails before anything is asked
	}
	if missing := spec.Missing(catalog); len(missing) > 0 && !o.yes {
		if !o.streams.Interactive || o.streams.Asker == nil {
			if without, set := spec.WithoutOptional(catalog); len(without.Missing(catalog)) == 0 {
				fmt.Fprintf(o.streams.ErrOut, "not given, so none: %s\n", strings.Join(set, ", "))
				spec = without
			} else {
				return fmt.Errorf("no terminal to ask on, and these are not given: %s; pass them as flags, use --answers FILE, or add --yes to take the defaults", strings.Join(missing, ", "))
			}
		} else if spec, err = o.askNew(cmd.Context(), o.streams.Asker, catalog, spec); err != nil {
			return promptAborted(err)
		}
	}
	if spec.Name == "" {
		return errors.New("NAME is required: svcgen new NAME (lowercase letters, digits and dashes)")
	}
	spec = spec.WithDefaults(catalog)
	dir := o.output
	if dir == "" {
		dir = spec.Name
	}
	res, err := generator.New(cmd.Context(), catalog, generator.NewOptions{
		Spec: spec, Dir: filepath.Clean(dir), Templates: o.templates,
		Force: o.force, DryRun: o.dryRun, Tidy: !o.noTidy, Progress: o.streams.ErrOut,
		Checkpoint: testCheckpoint(o.streams),
	})
	if err != nil {
		return err
	}
	if o.format == formatJSON {
		if err := writePlanJSON(o.streams, spec.Name, res.Plan, o.dryRun, false); err != nil {
			return err
		}
		return res.TidyErr
	}
	if o.dryRun {
		printPlan(o.streams, res.Plan)
		fmt.Fprintf(o.streams.Out, "dry run: nothing written to %s\n", dir)
		return nil
	}
	printCreated(o.streams, catalog, spec, dir, res)
	return res.TidyErr
}

// collectSpec merges the answer file and the flags; flags win. Bad values in the answer file are
// errors naming the file and the key.
func (o *newOptions) collectSpec(c *generator.Catalog) (generator.Spec, error) {
	var spec generator.Spec
	if o.answers != "" {
		var err error
		if spec, err = generator.ReadAnswersFor(o.answers, c); err != nil {
			return spec, err
		}
	}
	if o.name != "" {
		spec.Name = o.name
	}
	if o.changed("module") {
		spec.Module = o.module
	}
	for _, g := range c.Groups() {
		if v, ok := o.groups[g.Name]; ok && o.changed(g.Name) {
			spec = spec.With(g.Name, *v)
		}
	}
	return spec, nil
}

func printPlan(streams *IOStreams, plan *generator.Plan) {
	for _, c := range plan.Changes {
		fmt.Fprintf(streams.Out, "%-9s %s (%s)\n", c.Action, c.Path, c.Component)
	}
}

func printCreated(streams *IOStreams, c *generator.Catalog, spec generator.Spec, dir string, res *generator.NewResult) {
	out := streams.Out
	fmt.Fprintf(out, "created %s in %s: %s, %d files\n", spec.Name, dir, strings.Join(c.Enabled(spec)[1:], ", "), len(res.Manifest.Files))
	if res.TidyErr != nil {
		return
	}
	fmt.Fprintf(out, "\nnext steps:\n  cd %s\n", dir)
	// svcgen's output in the history is the base from which regen merges the owners' edits
	// once the templates change (see generator.BaseSource).
	commit := `git add -A && git commit -m "svcgen new ` + spec.Name + `"`
	if !generator.InGitWorkTree(dir) {
		commit = "git init && " + commit
	}
	fmt.Fprintf(out, "  %s   # before you edit: svcgen regen merges your edits from it\n  make test\n", commit)
	if c.Provided(spec, backingService) {
		fmt.Fprintln(out, "  cp .env.example .env  # then point its URLs at your servers (docker-compose.yml has them)")
	}
	fmt.Fprintln(out, "  make run            # then: curl localhost:8080/healthz")
}

// backingService is the capability of components whose service needs a server of its own to
// start (a database, a cache, a broker): new's next steps then say where to configure it.
const backingService = "backing-service"
