package main

import (
	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

// registerCompletions gives every group flag of every command (--framework, --cache, …) shell
// completion of its choices, read from the embedded templates' metadata. It runs once over the
// finished command tree so that commands need not each remember to do it. Cobra's own
// `completion bash|zsh|fish|powershell` command prints the scripts.
func registerCompletions(root *cobra.Command) {
	catalog, err := generator.LoadTemplates("")
	if err != nil {
		return
	}
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, g := range generator.Groups {
			if cmd.Flags().Lookup(g.Name) != nil {
				choices := catalog.Choices(g.Name)
				_ = cmd.RegisterFlagCompletionFunc(g.Name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
					return choices, cobra.ShellCompDirectiveNoFileComp
				})
			}
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// componentNames completes the arguments of commands that take component names (add, remove,
// regen, diff): every component of every group.
func componentNames(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	catalog, err := generator.LoadTemplates("")
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var names []string
	for _, n := range catalog.Names() {
		if n != generator.CoreComponent {
			names = append(names, n)
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
