package generator

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Group is one choice the user makes: one component of the group (or several, for a many
// group), or None when the group is optional. Groups are data: core's component.yaml declares
// svcgen's own under groups:, and any component may declare its group in a group: block, so an
// overlay can add a group without a change to svcgen. Every flag of `new`, prompt, answer-file
// key and manifest key comes from the catalog's groups.
type Group struct {
	Name     string `yaml:"name"`     // also the flag name and the answer-file key
	Title    string `yaml:"title"`    // a short human title: the prompt and the help text
	Help     string `yaml:"help"`     // what the choice changes, shown on ? at the prompt
	Default  string `yaml:"default"`  // the choice under --yes; else the components marked default
	Optional bool   `yaml:"optional"` // whether "none" is allowed
	Many     bool   `yaml:"many"`     // several choices at once, comma-separated
	// Together groups (optional ones with one choice each, such as database and cache) are
	// asked in one multi-select question instead of a question each.
	Together bool `yaml:"together"`
	// Order moves a group in prompt order (lower first, default 0); ties keep core's groups:
	// list order, then other groups by name. The manifest writes the answers in this order.
	Order int `yaml:"order"`

	rank int // where declared: core's list first, then by name (set by the catalog)
}

// groupDecl is the group: key of a component.yaml: the group's name, or a block declaring it.
type groupDecl struct {
	name string
	decl *Group // nil for a plain name
}

func (g *groupDecl) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		g.name = n.Value
		return nil
	}
	var decl Group
	if err := decodeStrict(n, &decl); err != nil {
		return err
	}
	if decl.Name == "" {
		return fmt.Errorf("line %d: a group block needs a name", n.Line)
	}
	g.name, g.decl = decl.Name, &decl
	return nil
}

// decodeStrict decodes a node, failing on keys the value has no field for (a node's own Decode
// does not check them).
func decodeStrict(n *yaml.Node, v any) error {
	raw, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// declareGroup adds a group declaration; a second declaration of the same group must say the
// same.
func (c *Catalog) declareGroup(where string, g Group) error {
	if !nameRE.MatchString(g.Name) || g.Name == "name" || g.Name == "module" {
		return fmt.Errorf("%s: group name %q is not valid: lowercase letters, digits and dashes, not name or module", where, g.Name)
	}
	if g.Title == "" {
		g.Title = g.Name
	}
	if prev, ok := c.groups[g.Name]; ok {
		if !sameGroup(*prev, g) {
			return fmt.Errorf("%s: group %s is declared differently by %s", where, g.Name, c.groupFrom[g.Name])
		}
		return nil
	}
	c.groups[g.Name] = &g
	c.groupFrom[g.Name] = where
	return nil
}

func sameGroup(a, b Group) bool {
	a.rank, b.rank = 0, 0
	return a == b
}

// finishGroups checks every component's group and each group's default, and fixes the group
// order.
func (c *Catalog) finishGroups() error {
	core := c.byName[CoreComponent]
	for _, comp := range c.byName {
		if comp.Group == "" {
			continue
		}
		if _, ok := c.groups[comp.Group]; !ok {
			return fmt.Errorf("%s/%s: unknown group %q: declare it under groups: in core/component.yaml or in a group: block", comp.Name, metaFile, comp.Group)
		}
	}
	for name, g := range c.groups {
		g.rank = len(core.Groups) + 1
		if i := slices.IndexFunc(core.Groups, func(d Group) bool { return d.Name == name }); i >= 0 {
			g.rank = i
		}
		if _, clash := c.byName[name]; clash {
			return fmt.Errorf("group %s has the name of a component", name)
		}
		if g.Default != "" {
			if err := validateChoice(c, name, g.Default); err != nil {
				return fmt.Errorf("%s: default: %w", c.groupFrom[name], err)
			}
		}
	}
	c.groupOrder = c.groupOrder[:0]
	for name := range c.groups {
		c.groupOrder = append(c.groupOrder, name)
	}
	slices.SortFunc(c.groupOrder, func(a, b string) int {
		ga, gb := c.groups[a], c.groups[b]
		return cmp.Or(cmp.Compare(ga.Order, gb.Order), cmp.Compare(ga.rank, gb.rank), cmp.Compare(a, b))
	})
	return nil
}

// Groups returns the catalog's groups in prompt order.
func (c *Catalog) Groups() []Group {
	out := make([]Group, len(c.groupOrder))
	for i, n := range c.groupOrder {
		out[i] = *c.groups[n]
	}
	return out
}

// Group returns the group called name.
func (c *Catalog) Group(name string) (Group, bool) {
	g, ok := c.groups[name]
	if !ok {
		return Group{}, false
	}
	return *g, true
}

// GroupNames lists the groups in prompt order.
func (c *Catalog) GroupNames() []string { return slices.Clone(c.groupOrder) }

// groupIndex is a group's place in prompt order; core's empty group and unknown groups sort last.
func (c *Catalog) groupIndex(group string) int {
	if i := slices.Index(c.groupOrder, group); i >= 0 {
		return i
	}
	return len(c.groupOrder)
}

// InGroup returns the components of a group, sorted by name.
func (c *Catalog) InGroup(group string) []*Component {
	var out []*Component
	for _, n := range c.Names() {
		if comp := c.byName[n]; comp.Group == group {
			out = append(out, comp)
		}
	}
	return out
}

// Choices lists the allowed values of a group: its components, then "none" when optional.
func (c *Catalog) Choices(group string) []string {
	var out []string
	for _, comp := range c.InGroup(group) {
		out = append(out, comp.Name)
	}
	if g, ok := c.groups[group]; ok && g.Optional {
		out = append(out, None)
	}
	return out
}

// Default returns the group's default choice: the group's default:, else the components marked
// default (all of them, comma-joined, in a many group), else the first component of a required
// group, else none.
func (c *Catalog) Default(group string) string {
	g, ok := c.groups[group]
	if ok && g.Default != "" {
		return g.Default
	}
	comps := c.InGroup(group)
	var marked []string
	for _, comp := range comps {
		if comp.Default {
			marked = append(marked, comp.Name)
		}
	}
	switch {
	case len(marked) > 0 && ok && g.Many:
		return strings.Join(marked, ",")
	case len(marked) > 0:
		return marked[0]
	case ok && !g.Optional && len(comps) > 0:
		return comps[0].Name
	}
	return None
}

// validateChoice checks that value is one of the group's choices in the catalog (for a many
// group: a comma-separated list of its components without repeats, or none).
func validateChoice(c *Catalog, group, value string) error {
	g, ok := c.groups[group]
	if !ok {
		return fmt.Errorf("unknown group %q: the groups are %s", group, strings.Join(c.groupOrder, ", "))
	}
	allowed := c.Choices(group)
	values := []string{value}
	if g.Many && value != None {
		values = SplitChoice(value)
	}
	for i, v := range values {
		if !slices.Contains(allowed, v) || len(values) > 1 && v == None {
			return fmt.Errorf("%s %q is not valid: allowed values are %s%s", group, value, strings.Join(allowed, ", "), manyHint(g))
		}
		if slices.Contains(values[:i], v) {
			return fmt.Errorf("%s %q names %s twice", group, value, v)
		}
	}
	return nil
}

func manyHint(g *Group) string {
	if g.Many {
		return " (several, comma-separated)"
	}
	return ""
}

// SplitChoice splits a many group's comma-separated choice; "" and none are no choice at all.
func SplitChoice(v string) []string {
	if v == "" || v == None {
		return nil
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// Enabled lists the enabled component names of s: core, then the choice of every group in
// group order (a many group's in the order given), skipping none and unset groups.
func (c *Catalog) Enabled(s Spec) []string {
	out := []string{CoreComponent}
	for _, g := range c.groupOrder {
		out = append(out, SplitChoice(s.Get(g))...)
	}
	return out
}
