package generator

import (
	"fmt"
	"slices"
	"strings"
)

// The answer edits of `svcgen add`, `remove` and `set`: each returns the changed answers and
// notes about requests that change nothing ("redis is already part of the service"), or an
// error naming what is allowed. The result still has to pass Spec.Validate (requires and
// conflicts between components are checked there).

// AddComponents enables the named components, each in its group (a many group gains it beside
// its other choices). Adding a component whose one-of group already has another choice is an
// error that names the `svcgen set` to run instead.
func AddComponents(c *Catalog, s Spec, names []string) (Spec, []string, error) {
	var notes []string
	chosen := map[string]string{} // one-of group → component added by this call
	for _, name := range names {
		comp, err := groupComponent(c, name)
		if err != nil {
			return s, nil, err
		}
		g, _ := c.Group(comp.Group)
		cur := SplitChoice(s.Get(g.Name))
		if g.Many {
			if slices.Contains(cur, name) {
				notes = append(notes, fmt.Sprintf("%s is already part of the service", name))
			} else {
				s = s.With(g.Name, strings.Join(append(cur, name), ","))
			}
			continue
		}
		if prev, ok := chosen[g.Name]; ok && prev != name {
			return s, nil, fmt.Errorf("%s and %s are both %s choices: a service has one %s", prev, name, g.Name, g.Name)
		}
		switch {
		case len(cur) == 1 && cur[0] == name:
			if _, ok := chosen[g.Name]; !ok {
				notes = append(notes, fmt.Sprintf("%s is already part of the service", name))
			}
		case len(cur) > 0:
			return s, nil, fmt.Errorf("the service's %s is already %s: to switch it to %s, run: svcgen set %s %s", g.Name, cur[0], name, g.Name, name)
		default:
			s = s.With(g.Name, name)
		}
		chosen[g.Name] = name
	}
	return s, notes, nil
}

// RemoveComponents disables the named components. Core and the choice of a required group
// (the framework) cannot be removed; the error says what to do instead.
func RemoveComponents(c *Catalog, s Spec, names []string) (Spec, []string, error) {
	var notes []string
	for _, name := range names {
		comp, err := groupComponent(c, name)
		if err != nil {
			return s, nil, err
		}
		g, _ := c.Group(comp.Group)
		cur := SplitChoice(s.Get(g.Name))
		rest := slices.DeleteFunc(slices.Clone(cur), func(v string) bool { return v == name })
		switch {
		case len(rest) == len(cur):
			notes = append(notes, fmt.Sprintf("%s is not part of the service", name))
		case len(rest) == 0 && !g.Optional:
			return s, nil, fmt.Errorf("%s is the service's %s, which every service needs: to switch it, run: svcgen set %s %s", name, g.Name, g.Name, strings.Join(otherChoices(c, g.Name, name), "|"))
		case len(rest) == 0:
			s = s.With(g.Name, None)
		default:
			s = s.With(g.Name, strings.Join(rest, ","))
		}
	}
	return s, notes, nil
}

// SetGroup sets the choice of a group (`svcgen set framework echo`, `svcgen set ci none`).
func SetGroup(c *Catalog, s Spec, group, value string) (Spec, []string, error) {
	if _, ok := c.Group(group); !ok {
		return s, nil, fmt.Errorf("unknown group %q: the groups are %s", group, strings.Join(c.GroupNames(), ", "))
	}
	if err := validateChoice(c, group, value); err != nil {
		return s, nil, err
	}
	if s.Get(group) == value {
		return s, []string{fmt.Sprintf("%s is already %s", group, value)}, nil
	}
	return s.With(group, value), nil, nil
}

// groupComponent returns the named component when it belongs to a group; core and unknown
// names are errors naming the components that may be added or removed.
func groupComponent(c *Catalog, name string) (*Component, error) {
	comp, ok := c.Component(name)
	if name == CoreComponent {
		return nil, fmt.Errorf("%s is the service skeleton, always part of a service: it cannot be added or removed", CoreComponent)
	}
	if !ok || comp.Group == "" {
		return nil, fmt.Errorf("unknown component %q: the components are %s", name, strings.Join(groupedNames(c), ", "))
	}
	return comp, nil
}

// groupedNames lists every component that belongs to a group, sorted.
func groupedNames(c *Catalog) []string {
	var out []string
	for _, n := range c.Names() {
		if comp, _ := c.Component(n); comp.Group != "" {
			out = append(out, n)
		}
	}
	return out
}

func otherChoices(c *Catalog, group, except string) []string {
	var out []string
	for _, v := range c.Choices(group) {
		if v != except {
			out = append(out, v)
		}
	}
	return out
}
