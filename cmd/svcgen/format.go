package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
	"github.com/svcgen/svcgen/generator/merge"
)

// Output formats of the commands that print a plan.
const (
	formatText = "text"
	formatJSON = "json"
)

// addFormatFlag registers --format text|json. On commands without a target directory flag,
// --output is accepted as a hidden alias (`svcgen diff --output json`); `new` keeps -o/--output
// for its directory.
func addFormatFlag(cmd *cobra.Command, format *string, outputAlias bool) {
	cmd.Flags().StringVar(format, "format", formatText, "how to print the plan: text or json (for bots)")
	if outputAlias {
		cmd.Flags().StringVar(format, "output", formatText, "alias of --format")
		_ = cmd.Flags().MarkHidden("output")
	}
}

func checkFormat(format string) error {
	if format != formatText && format != formatJSON {
		return fmt.Errorf("--format %q is not valid: allowed values are %s, %s", format, formatText, formatJSON)
	}
	return nil
}

// planJSON is the machine-readable form of a plan, stable for bots: one entry per path with the
// action taken (or, on a dry run, to be taken) and the unified diff of what changes.
type planJSON struct {
	Service string       `json:"service"`
	Dir     string       `json:"dir"`
	DryRun  bool         `json:"dry_run"`
	Changes []changeJSON `json:"changes"`
}

type changeJSON struct {
	Path      string `json:"path"`
	Component string `json:"component"`
	Action    string `json:"action"`
	Reason    string `json:"reason,omitempty"`
	Base      string `json:"base,omitempty"` // where the merge base came from (edited files)
	Diff      string `json:"diff,omitempty"`
}

// writePlanJSON prints plan as JSON on stdout. Unchanged files are listed too, so a bot sees
// the whole service. withDiffs adds each change's unified diff (not for `new`, where every file
// is simply created).
func writePlanJSON(streams *IOStreams, service string, plan *generator.Plan, dryRun, withDiffs bool) error {
	out := planJSON{Service: service, Dir: plan.Dir, DryRun: dryRun, Changes: []changeJSON{}}
	for _, c := range plan.Changes {
		cj := changeJSON{Path: c.Path, Component: c.Component, Action: string(c.Action), Reason: c.Reason, Base: string(c.Base)}
		if withDiffs && c.Writes() {
			oldName, newName := c.Path, c.Path
			if c.Old == nil {
				oldName = ""
			}
			if c.New == nil {
				newName = ""
			}
			cj.Diff = merge.Unified(oldName, newName, c.Old, c.New)
		}
		out.Changes = append(out.Changes, cj)
	}
	enc := json.NewEncoder(streams.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
