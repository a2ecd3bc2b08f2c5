package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

func newAddCmd(streams *IOStreams) *cobra.Command {
	o := &serviceOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "add COMPONENT...",
		Short: "Add components to a generated service",
		Long: `Add components to the service in the current directory (or -C DIR): each becomes the choice of
its group in the answers recorded in .svcgen.yaml, and the whole service is regenerated from them,
so the wiring files (main, config, server, readiness) pick the component up. Files you edited
are merged with the generator's changes; your own files are left alone.
` + exitCodesHelp,
		Example: `  svcgen add redis kafka
  svcgen add postgres --dry-run
  svcgen add redis -C services/orders-api`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("name the components to add, e.g. svcgen add redis")
			}
			return changeAnswers(cmd, o, func(c *generator.Catalog, s generator.Spec) (generator.Spec, []string, error) {
				return generator.AddComponents(c, s, args)
			})
		},
	}
	cmd.ValidArgsFunction = completeComponents(streams, false)
	addServiceFlags(cmd, o, true)
	return cmd
}
