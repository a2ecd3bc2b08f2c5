package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

// newRootCmd builds the command tree for one command line. The groups of choices (flags of
// new, the groups set takes, completion) come from the templates' catalog: the embedded one,
// overlaid by the --templates directory the command line names, so an overlay's new group is a
// flag of `svcgen new --templates DIR` like any other.
func newRootCmd(streams *IOStreams, args []string) *cobra.Command {
	catalog := commandCatalog(streams, args)
	root := &cobra.Command{
		Use:   "svcgen",
		Short: "Bootstrap production-grade Go services and keep them in step",
		Long: `svcgen generates Go backend services (Gin or Echo, with optional PostgreSQL, Redis,
Kafka, Prometheus, CI and Kubernetes manifests) that build, pass their tests and serve health
checks, and later adds, removes or regenerates one component without losing your edits.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(newNewCmd(streams, catalog))
	root.AddCommand(newAddCmd(streams), newRemoveCmd(streams), newSetCmd(streams, catalog), newRegenCmd(streams), newDiffCmd(streams))
	root.AddCommand(newVersionCmd(streams))
	root.AddCommand(newComponentsCmd(streams))
	return root
}

// versionString names the generator release (what manifests record) and, for `go install`
// builds, the module version the binary was built from.
func versionString() string {
	v := "svcgen " + generator.Version
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v += " (module " + info.Main.Version + ")"
	}
	return v + ", " + runtime.Version()
}

func newVersionCmd(streams *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the svcgen version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(streams.Out, versionString())
			return err
		},
	}
}
