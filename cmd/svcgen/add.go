package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

func newAddCmd(streams *IOStreams) *cobra.Command {
	o := &serviceOptions{streams: streams}
	var rf resourceFlags
	cmd := &cobra.Command{
		Use:   "add COMPONENT... | add resource NAME --field name:type[:constraints]... | --from FILE",
		Short: "Add components to a generated service",
		Long: `Add components to the service in the current directory (or -C DIR): each becomes the choice of
its group in the answers recorded in .svcgen.yaml, and the whole service is regenerated from them,
so the wiring files (main, config, server, readiness) pick the component up. Files you edited
are merged with the generator's changes; your own files are left alone.

"add resource NAME" adds a domain resource: routes /v1/<plural> (list, get, create, update,
delete), validation, the repository with its migration, OpenAPI paths and tests. ` + resourceHelp + `
` + exitCodesHelp,
		Example: `  svcgen add redis kafka
  svcgen add postgres --dry-run
  svcgen add redis -C services/orders-api
  svcgen add resource order --field customer:string:required --field total:int64:min=0 --field 'status:enum(new|paid|shipped)'
  svcgen add resource customer --from customer.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("name the components to add, e.g. svcgen add redis")
			}
			if args[0] == "resource" {
				r, err := rf.resource(args, true)
				if err != nil {
					return err
				}
				return changeAnswers(cmd, o, func(c *generator.Catalog, s generator.Spec) (generator.Spec, []string, error) {
					s, err := generator.AddResource(c, s, r)
					return s, nil, err
				})
			}
			if rf.given() {
				return errors.New("--field and --from go with: svcgen add resource NAME")
			}
			return changeAnswers(cmd, o, func(c *generator.Catalog, s generator.Spec) (generator.Spec, []string, error) {
				return generator.AddComponents(c, s, args)
			})
		},
	}
	cmd.ValidArgsFunction = completeComponents(streams, false)
	addServiceFlags(cmd, o, true)
	rf.add(cmd)
	return cmd
}
