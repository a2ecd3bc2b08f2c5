package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

type componentsOptions struct {
	streams   *IOStreams
	dir       string
	templates string
	slots     bool
}

func newComponentsCmd(streams *IOStreams) *cobra.Command {
	o := &componentsOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "components",
		Short: "List every group, its choices and what they are",
		Long: `List every group of choices and its components with a one-line description.
Inside a generated service (or with -C DIR) the enabled components are marked with *.
With --slots, list the slots (extension points) components fill instead: docs/templates.md.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runComponents(o) },
	}
	cmd.Flags().StringVarP(&o.dir, "dir", "C", ".", "service directory whose enabled components to mark")
	cmd.Flags().StringVar(&o.templates, "templates", "", "directory of template overlays to include")
	cmd.Flags().BoolVar(&o.slots, "slots", false, "list the declared slots (extension points) and what each is for")
	return cmd
}

func runComponents(o *componentsOptions) error {
	var answers *generator.Spec // the service's answers, when run inside one
	overlay := o.templates
	if _, err := os.Stat(filepath.Join(o.dir, generator.ManifestName)); err == nil {
		m, err := generator.ReadManifest(o.dir)
		if err != nil {
			return err
		}
		answers = &m.Answers
		if overlay == "" {
			overlay = generator.OverlayDir(o.dir, m)
		}
	}
	catalog, err := o.streams.loadTemplates(overlay)
	if err != nil {
		return err
	}
	mark := func(on bool) string {
		if on {
			return "*"
		}
		return " "
	}
	w := tabwriter.NewWriter(o.streams.Out, 0, 4, 2, ' ', 0)
	if o.slots {
		for _, s := range catalog.Slots() {
			fmt.Fprintf(w, "%s\t%s\n", s.Name, s.Description)
		}
		return w.Flush()
	}
	core, _ := catalog.Component(generator.CoreComponent)
	fmt.Fprintf(w, "core (always on)\n  %s\t%s\t%s\n", mark(answers != nil), core.Name, core.Description)
	for _, g := range catalog.Groups() {
		fmt.Fprintf(w, "%s (--%s, default %s)\n", g.Title, g.Name, catalog.Default(g.Name))
		for _, c := range catalog.Choices(g.Name) {
			desc := "no " + lowerFirst(g.Title)
			if comp, ok := catalog.Component(c); ok {
				desc = comp.Description
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\n", mark(answers != nil && chosen(*answers, g.Name, c)), c, desc)
		}
	}
	if answers != nil {
		fmt.Fprintf(w, "\n* enabled in %s\n", answers.Name)
	}
	return w.Flush()
}

// chosen reports whether the answers choose value in group; an unset group is none.
func chosen(s generator.Spec, group, value string) bool {
	picked := generator.SplitChoice(s.Get(group))
	return slices.Contains(picked, value) || value == generator.None && len(picked) == 0
}

// lowerFirst lower-cases a title's first letter unless it starts an acronym ("CI system").
func lowerFirst(s string) string {
	if len(s) > 1 && strings.ToUpper(s[1:2]) == s[1:2] {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
