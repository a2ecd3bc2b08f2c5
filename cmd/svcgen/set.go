package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

func newSetCmd(streams *IOStreams, catalog *generator.Catalog) *cobra.Command {
	o := &serviceOptions{streams: streams}
	var rf resourceFlags
	groups := catalog.GroupNames()
	cmd := &cobra.Command{
		Use:   "set GROUP VALUE | set resource NAME --field ... | --from FILE",
		Short: "Change one choice of a generated service (framework, ci, ...)",
		Long: `Change the choice of one group in the answers of the service in the current directory (or -C DIR)
and regenerate it. Groups: ` + strings.Join(groups, ", ") + `. Optional groups take "none".

"set resource NAME" replaces the resource's fields with the ones given (the whole new list):
its files are regenerated (your edits merged) and a new migration, the next number, alters the
table; migrations already written are never rewritten. ` + resourceHelp + `
` + exitCodesHelp,
		Example: `  svcgen set framework echo
  svcgen set ci gitlab
  svcgen set deploy none --dry-run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && args[0] == "resource" {
				r, err := rf.resource(args, false)
				if err != nil {
					return err
				}
				return changeAnswers(cmd, o, func(c *generator.Catalog, s generator.Spec) (generator.Spec, []string, error) {
					return generator.SetResource(c, s, r.Name, r.Fields)
				})
			}
			if rf.given() {
				return fmt.Errorf("--field and --from go with: svcgen set resource NAME")
			}
			if len(args) != 2 {
				return fmt.Errorf("set takes a group and a value, e.g. svcgen set framework echo (groups: %s)", strings.Join(groups, ", "))
			}
			return changeAnswers(cmd, o, func(c *generator.Catalog, s generator.Spec) (generator.Spec, []string, error) {
				return generator.SetGroup(c, s, args[0], args[1])
			})
		},
	}
	cmd.ValidArgsFunction = completeSet(streams)
	addServiceFlags(cmd, o, true)
	rf.add(cmd)
	return cmd
}
