package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

func newRootCmd(streams *IOStreams) *cobra.Command {
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
	root.AddCommand(newNewCmd(streams))
	root.AddCommand(newAddCmd(streams), newRemoveCmd(streams), newSetCmd(streams), newRegenCmd(streams), newDiffCmd(streams))
	root.AddCommand(newVersionCmd(streams))
	root.AddCommand(newComponentsCmd(streams))
	registerCompletions(root)
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
