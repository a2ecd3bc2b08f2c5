package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/generator/merge"
)

func newDiffCmd(streams *IOStreams) *cobra.Command {
	o := &serviceOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "diff [COMPONENT...]",
		Short: "Show as a unified diff what svcgen regen would change",
		Long: `Print a unified diff (git's a/ b/ form) of every file svcgen regen would change in the service in
the current directory (or -C DIR), limited to the named components' files when given. Nothing is
written. Notes about files that have no diff (kept, in the way, go mod tidy) go to stderr.`,
		Example: `  svcgen diff
  svcgen diff core | less`,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := openService(o)
			if err != nil {
				return err
			}
			plan, err := generator.PlanRegen(svc.catalog, svc.manifest, svc.manifest.Answers, svc.dir, svc.planOptions(args, false))
			if err != nil {
				return err
			}
			if o.format == formatJSON {
				return writePlanJSON(o.streams, svc.manifest.Answers.Name, plan, true, true)
			}
			printDiff(o.streams, plan)
			return nil
		},
	}
	cmd.ValidArgsFunction = completeComponents(streams, true) // the service's own components
	addServiceFlags(cmd, o, false)
	return cmd
}

// printDiff writes the unified diff of every change that writes; a file in the way is shown as
// what --force would write over it.
func printDiff(streams *IOStreams, plan *generator.Plan) {
	rendered := map[string][]byte{}
	for _, f := range plan.Rendered {
		rendered[f.Path] = f.Data
	}
	for _, c := range plan.Changes {
		switch {
		case c.Action == generator.Keep:
			fmt.Fprintf(streams.ErrOut, "svcgen: %s: %s\n", c.Path, c.Reason)
		case c.Action == generator.Conflict && c.New == nil:
			fmt.Fprintf(streams.ErrOut, "svcgen: %s: %s; with --force:\n", c.Path, c.Reason)
			fmt.Fprint(streams.Out, merge.Unified(c.Path, c.Path, c.Old, rendered[c.Path]))
		case c.Writes():
			oldName, newName := c.Path, c.Path
			if c.Old == nil {
				oldName = ""
			}
			if c.Action == generator.Delete {
				newName = ""
			}
			fmt.Fprint(streams.Out, merge.Unified(oldName, newName, c.Old, c.New))
			if c.Path == "go.mod" {
				fmt.Fprintln(streams.ErrOut, "svcgen: go.mod: `go mod tidy` runs after this change and may adjust go.mod and go.sum further")
			}
		}
	}
}
