package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

func newRemoveCmd(streams *IOStreams) *cobra.Command {
	o := &serviceOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "remove COMPONENT...",
		Short: "Remove components from a generated service",
		Long: `Remove components from the service in the current directory (or -C DIR) and regenerate it. The
component's files are deleted when you have not edited them; edited ones are kept, reported and
become yours. The framework cannot be removed, only switched (svcgen set framework ...).
` + exitCodesHelp,
		Example: `  svcgen remove redis
  svcgen remove kafka --dry-run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("name the components to remove, e.g. svcgen remove redis")
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
