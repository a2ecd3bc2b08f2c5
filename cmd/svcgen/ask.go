package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/svcgen/svcgen/cmd/svcgen/internal/prompt"
	"github.com/svcgen/svcgen/generator"
)

// errNotConfirmed is returned when the user answers no at the final confirmation.
var errNotConfirmed = errors.New("not confirmed")

// askNew asks for every answer spec still lacks, in the catalog's group order, then shows a
// summary and the equivalent non-interactive command line and asks for confirmation. Answers
// given by a flag or the answer file are not asked again. How each group is asked comes from its
// metadata: the together groups (optional dependencies with one choice each) in one multi-select,
// a many group with a multi-select of its own, every other group with a Select, titled and
// helped (on ?) by the group's title and help. The returned Spec is complete (defaults filled
// in) and valid.
func (o *newOptions) askNew(ctx context.Context, a prompt.Asker, c *generator.Catalog, spec generator.Spec) (generator.Spec, error) {
	if spec.Name == "" {
		if err := ctx.Err(); err != nil {
			return spec, err
		}
		name, err := a.Input(prompt.Input{
			Message:  "Service name",
			Default:  o.defaultName(),
			Help:     "Names the directory, the binary (cmd/NAME), the Kubernetes objects and the default module path. Lowercase letters, digits and single dashes, starting with a letter, at most 63 characters, e.g. orders-api. Flag: the NAME argument.",
			Validate: generator.ValidateName,
		})
		if err != nil {
			return spec, err
		}
		spec.Name = name
	}
	if spec.Module == "" {
		if err := ctx.Err(); err != nil {
			return spec, err
		}
		module, err := a.Input(prompt.Input{
			Message:  "Go module path",
			Default:  spec.Name,
			Help:     "The module path in go.mod and the import prefix of the service's packages, e.g. github.com/acme/" + spec.Name + ". A path whose first element has no dot, like the default, is a local module (as `go mod init` allows). Flag: --module.",
			Validate: generator.ValidateModule,
		})
		if err != nil {
			return spec, err
		}
		spec.Module = module
	}
	componentsAsked := false
	for _, g := range c.Groups() {
		if spec.Get(g.Name) != "" {
			continue // given by a flag or the answer file
		}
		if err := ctx.Err(); err != nil {
			return spec, err
		}
		var err error
		switch {
		case g.Together:
			if !componentsAsked {
				componentsAsked = true
				err = askComponents(a, c, &spec)
			}
		case g.Many:
			err = askMany(a, c, &spec, g)
		default:
			err = askGroup(a, c, &spec, g)
		}
		if err != nil {
			return spec, err
		}
	}

	spec = spec.WithDefaults(c)
	if err := spec.Validate(c); err != nil {
		return spec, err
	}
	o.printSummary(c, spec)
	if err := ctx.Err(); err != nil {
		return spec, err
	}
	ok, err := a.Confirm(prompt.Confirm{
		Message: fmt.Sprintf("Generate %s in %s?", spec.Name, o.targetDir(spec)),
		Default: true,
		Help:    "Yes writes the service. No stops here and writes nothing; the command above makes the same service without prompts.",
	})
	if err != nil {
		return spec, err
	}
	if !ok {
		return spec, errNotConfirmed
	}
	return spec, nil
}

// askGroup asks for one group's choice with a Select, unless there is nothing to choose.
func askGroup(a prompt.Asker, c *generator.Catalog, spec *generator.Spec, g generator.Group) error {
	choices := c.Choices(g.Name)
	if len(choices) <= 1 {
		*spec = spec.With(g.Name, c.Default(g.Name)) // one choice (or none at all): nothing to ask
		return nil
	}
	var options []prompt.Option
	for _, name := range choices {
		options = append(options, prompt.Option{Value: name, Description: describeChoice(c, g, name)})
	}
	v, err := a.Select(prompt.Select{
		Message: g.Title,
		Options: options,
		Default: c.Default(g.Name),
		Help:    promptHelp(g),
	})
	if err != nil {
		return err
	}
	*spec = spec.With(g.Name, v)
	return nil
}

// promptHelp is a group's help at its prompt: the group's own words, then its flag.
func promptHelp(g generator.Group) string {
	help := g.Help
	if help != "" {
		help += " "
	}
	return help + "Flag: --" + g.Name + "."
}

// askMany asks for a many group's choices with a MultiSelect of its components; nothing
// checked is none.
func askMany(a prompt.Asker, c *generator.Catalog, spec *generator.Spec, g generator.Group) error {
	var options []prompt.Option
	for _, comp := range c.InGroup(g.Name) {
		options = append(options, prompt.Option{Value: comp.Name, Description: comp.Description})
	}
	if len(options) == 0 {
		*spec = spec.With(g.Name, c.Default(g.Name))
		return nil
	}
	chosen, err := a.MultiSelect(prompt.MultiSelect{
		Message: g.Title,
		Options: options,
		Default: generator.SplitChoice(c.Default(g.Name)),
		Help:    promptHelp(g),
		Validate: func(chosen []string) error {
			return checkComponents(c, *spec, nil, chosen)
		},
	})
	if err != nil {
		return err
	}
	v := strings.Join(chosen, ",")
	if v == "" {
		v = generator.None
	}
	*spec = spec.With(g.Name, v)
	return nil
}

// askComponents asks for the component groups that are still unset with one MultiSelect: the
// components of every such group, the groups' defaults checked. A group with nothing checked
// is none.
func askComponents(a prompt.Asker, c *generator.Catalog, spec *generator.Spec) error {
	var pending []generator.Group
	var options []prompt.Option
	var defaults, helpLines, flags []string
	for _, g := range c.Groups() {
		name := g.Name
		if !g.Together || spec.Get(name) != "" {
			continue
		}
		pending = append(pending, g)
		comps := c.InGroup(name)
		for _, comp := range comps {
			options = append(options, prompt.Option{Value: comp.Name, Description: describeChoice(c, g, comp.Name)})
		}
		if d := c.Default(name); d != generator.None {
			defaults = append(defaults, d)
		}
		if len(comps) > 0 {
			helpLines = append(helpLines, fmt.Sprintf("%s: %s", lowerFirst(g.Title), strings.Join(c.Choices(name), ", ")))
		}
		flags = append(flags, "--"+name)
	}
	if len(options) == 0 {
		for _, g := range pending {
			*spec = spec.With(g.Name, generator.None)
		}
		return nil
	}
	chosen, err := a.MultiSelect(prompt.MultiSelect{
		Message: "Components",
		Options: options,
		Default: defaults,
		Help: "Optional dependencies, at most one of each kind (" + strings.Join(helpLines, "; ") + "). " +
			"Each gets a configured client behind a circuit breaker and a readiness check, and is used by the example resource. " +
			"Leave all unchecked for a service with no external dependency. Flags: " + strings.Join(flags, ", ") + ".",
		Validate: func(chosen []string) error { return checkComponents(c, *spec, pending, chosen) },
	})
	if err != nil {
		return err
	}
	for _, g := range pending {
		*spec = spec.With(g.Name, generator.None)
	}
	for _, name := range chosen {
		comp, _ := c.Component(name)
		*spec = spec.With(comp.Group, name)
	}
	return nil
}

// checkComponents is the inline validation of the components question: at most one component
// per group, and none that conflicts with another choice.
func checkComponents(c *generator.Catalog, spec generator.Spec, groups []generator.Group, chosen []string) error {
	for _, g := range groups {
		var inGroup []string
		for _, name := range chosen {
			if comp, ok := c.Component(name); ok && comp.Group == g.Name {
				inGroup = append(inGroup, name)
			}
		}
		if len(inGroup) > 1 {
			return fmt.Errorf("choose at most one %s: %s", lowerFirst(g.Title), strings.Join(inGroup, " or "))
		}
	}
	enabled := append(c.Enabled(spec), chosen...)
	for _, name := range chosen {
		comp, _ := c.Component(name)
		for _, x := range comp.Conflicts {
			if slices.Contains(enabled, x) {
				return fmt.Errorf("%s conflicts with %s", name, x)
			}
		}
	}
	return nil
}

// describeChoice is the description shown beside a choice: the component's own, or for none
// what leaving the group out means.
func describeChoice(c *generator.Catalog, g generator.Group, name string) string {
	if name == generator.None {
		return "no " + lowerFirst(g.Title)
	}
	desc := ""
	if comp, ok := c.Component(name); ok {
		desc = comp.Description
	}
	if g.Together {
		desc = lowerFirst(g.Title) + ": " + desc
	}
	return desc
}

// defaultName offers the last element of -o DIR as the service name, when it is a valid one.
func (o *newOptions) defaultName() string {
	if o.output == "" {
		return ""
	}
	base := filepath.Base(filepath.Clean(o.output))
	if generator.ValidateName(base) != nil {
		return ""
	}
	return base
}

// targetDir is where the service goes: -o DIR, else ./NAME.
func (o *newOptions) targetDir(spec generator.Spec) string {
	if o.output != "" {
		return o.output
	}
	return "." + string(filepath.Separator) + spec.Name
}

// printSummary shows the choices and the command line that makes the same service without
// prompts, so it can be made again in a script.
func (o *newOptions) printSummary(c *generator.Catalog, spec generator.Spec) {
	w := o.streams.Out
	fmt.Fprintln(w)
	row := func(k, v string) { fmt.Fprintf(w, "  %-10s %s\n", k, v) }
	row("name", spec.Name)
	row("module", spec.Module)
	for _, g := range c.Groups() {
		row(g.Name, spec.Get(g.Name))
	}
	row("directory", o.targetDir(spec))
	fmt.Fprintf(w, "\nThe same without prompts:\n  %s\n\n", o.commandLine(c, spec))
}

// commandLine is the `svcgen new` invocation that makes spec without asking anything: every
// answer as a flag, and --yes so that a later svcgen with a new question takes its default
// instead of waiting.
func (o *newOptions) commandLine(c *generator.Catalog, spec generator.Spec) string {
	args := []string{"svcgen", "new", spec.Name, "--module", spec.Module}
	for _, g := range c.Groups() {
		args = append(args, "--"+g.Name, spec.Get(g.Name))
	}
	if o.output != "" {
		args = append(args, "-o", o.output)
	}
	if o.templates != "" {
		args = append(args, "--templates", o.templates)
	}
	if o.force {
		args = append(args, "--force")
	}
	if o.noTidy {
		args = append(args, "--no-tidy")
	}
	if o.dryRun {
		args = append(args, "--dry-run")
	}
	args = append(args, "--yes")
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// promptAborted turns an answer that stopped the questions into the command's error: Ctrl-C
// (or SIGINT) exits 130 as a shell expects; every case says that nothing was written.
func promptAborted(err error) error {
	switch {
	case errors.Is(err, prompt.ErrInterrupted), errors.Is(err, context.Canceled):
		return &exitError{code: 130, err: errors.New("interrupted; nothing written")}
	case errors.Is(err, io.EOF):
		return errors.New("input ended before every question was answered; nothing written")
	case errors.Is(err, errNotConfirmed):
		return errors.New("not confirmed; nothing written")
	}
	return err
}
