package main

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

// Shell completion comes from the templates' catalog like everything else about groups: the
// values of new's group flags (--framework, --cache, …), the groups and values of `set`, and the
// component names of `add` and `remove`, read from the service's own catalog (its recorded
// overlay) when run inside one. Cobra's `completion bash|zsh|fish|powershell` prints the scripts.

// commandCatalog is the catalog a command line's groups come from: the embedded templates
// overlaid by the directory its --templates flag names. When that overlay cannot be loaded the
// embedded catalog stands in; the command itself then reports the overlay's error.
func commandCatalog(streams *IOStreams, args []string) *generator.Catalog {
	if c, err := streams.loadTemplates(templatesArg(args)); err == nil {
		return c
	}
	c, err := streams.loadTemplates("")
	if err != nil {
		panic("the embedded templates do not load: " + err.Error()) // svcgen's own tests catch this
	}
	return c
}

// templatesArg finds the value of --templates in a command line before cobra parses it.
func templatesArg(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--templates="); ok {
			return v
		}
		if a == "--templates" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// completeWith completes a flag's value from a fixed list.
func completeWith(cmd *cobra.Command, flag string, values []string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	})
}

// completionService is the catalog of the service named by -C (or the current directory: its
// recorded overlay, unless --templates says otherwise) and its enabled components; outside a
// service, the catalog --templates names and inService false.
func completionService(streams *IOStreams, cmd *cobra.Command) (c *generator.Catalog, enabled []string, inService bool) {
	dir, _ := cmd.Flags().GetString("dir")
	overlay, _ := cmd.Flags().GetString("templates")
	m, err := generator.ReadManifest(filepath.Clean(dir))
	if err == nil && !cmd.Flags().Changed("templates") {
		overlay = generator.OverlayDir(dir, m)
	}
	if c, err = streams.loadTemplates(overlay); err != nil {
		return nil, nil, false
	}
	if m == nil {
		return c, nil, false
	}
	return c, c.Enabled(m.Answers), true
}

// completeComponents completes the arguments of add (components not yet in the service) and
// remove (the service's components); outside a service, every component of a group. Names
// already on the command line are not offered again.
func completeComponents(streams *IOStreams, remove bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		c, enabled, inService := completionService(streams, cmd)
		if c == nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []string
		for _, n := range c.Names() {
			comp, _ := c.Component(n)
			if comp.Group == "" || slices.Contains(args, n) || inService && slices.Contains(enabled, n) != remove {
				continue
			}
			out = append(out, n)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeSet completes `set GROUP VALUE`: the groups, then the group's choices.
func completeSet(streams *IOStreams) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		c, _, _ := completionService(streams, cmd)
		switch {
		case c == nil:
			return nil, cobra.ShellCompDirectiveError
		case len(args) == 0:
			return c.GroupNames(), cobra.ShellCompDirectiveNoFileComp
		case len(args) == 1:
			return c.Choices(args[0]), cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}
