package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

func newRemoveCmd(streams *IOStreams) *cobra.Command {
	o := &serviceOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "remove COMPONENT... | remove resource NAME",
		Short: "Remove components from a generated service",
		Long: `Remove components from the service in the current directory (or -C DIR) and regenerate it. The
component's files are deleted when you have not edited them; edited ones are kept, reported and
become yours. "remove resource NAME" removes a resource the same way (its table stays in the
database: drop it with a migration of your own). The framework cannot be removed, only switched (svcgen set framework ...).
` + exitCodesHelp,
		Example: `  svcgen remove redis
  svcgen remove kafka --dry-run
  svcgen remove resource customer`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("name the components to remove, e.g. svcgen remove redis")
			}
			if args[0] == "resource" {
				if len(args) != 2 {
					return errors.New("name one resource to remove, e.g. svcgen remove resource customer")
				}
				return changeAnswers(cmd, o, func(_ *generator.Catalog, s generator.Spec) (generator.Spec, []string, error) {
					return generator.RemoveResource(s, args[1])
				})
			}
			return changeAnswers(cmd, o, func(c *generator.Catalog, s generator.Spec) (generator.Spec, []string, error) {
				return generator.RemoveComponents(c, s, args)
			})
		},
	}
	cmd.ValidArgsFunction = completeComponents(streams, true)
	addServiceFlags(cmd, o, true)
	return cmd
}
