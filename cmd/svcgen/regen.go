package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

func newRegenCmd(streams *IOStreams) *cobra.Command {
	o := &serviceOptions{streams: streams}
	var check bool
	cmd := &cobra.Command{
		Use:   "regen [COMPONENT...]",
		Short: "Regenerate a service from its recorded answers, keeping your edits",
		Long: `Render the service in the current directory (or -C DIR) again from the answers recorded in
.svcgen.yaml, with this svcgen's templates, and bring the files in step: files you have not
edited are updated, edited ones are three-way merged with the generator's changes, your own files
are left alone. With COMPONENT names, only those components' files are written.

With --check nothing is written: it exits 1 and lists the files when regen would change
something (a generated file missing, out of date with the templates or answers, or a file in the
way) or a file still holds conflict markers from an earlier regen; for the service's own CI.
Your edits that regen keeps as they are, files you added and your additions to go.mod are not
drift.
` + exitCodesHelp,
		Example: `  svcgen regen
  svcgen regen redis
  svcgen regen --check`,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := openService(o)
			if err != nil {
				return err
			}
			if check {
				return runCheck(o.streams, svc, args)
			}
			return regenerate(cmd, o, svc, svc.manifest.Answers, args)
		},
	}
	cmd.ValidArgsFunction = completeComponents(streams, true) // the service's own components
	addServiceFlags(cmd, o, true)
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; exit 1 and list the files regen would change")
	return cmd
}

// runCheck reports drift: what regen would change, and unresolved conflict markers.
func runCheck(streams *IOStreams, svc *service, only []string) error {
	plan, err := generator.PlanRegen(svc.catalog, svc.manifest, svc.manifest.Answers, svc.dir, svc.planOptions(only, false))
	if err != nil {
		return err
	}
	drift := plan.Drift()
	if len(drift) == 0 {
		fmt.Fprintf(streams.Out, "%s is in step: every generated file is what svcgen %s writes from its answers\n", svc.manifest.Answers.Name, generator.Version)
		return nil
	}
	for _, c := range drift {
		reason := c.Reason
		switch {
		case generator.HasConflictMarkers(c.Old):
			reason = "has unresolved conflict markers"
		case c.Action == generator.Create:
			reason = "missing"
		case c.Action == generator.Update:
			reason = "svcgen now generates it differently"
		case c.Action == generator.Merge:
			reason = "edited, and svcgen now generates it differently"
		}
		fmt.Fprintf(streams.Out, "%s (%s): %s\n", c.Path, c.Component, reason)
	}
	return &exitError{code: exitDrift, err: fmt.Errorf("%d file%s differ from what svcgen generates: see them with svcgen diff, or bring them in step with svcgen regen", len(drift), plural(len(drift)))}
}
