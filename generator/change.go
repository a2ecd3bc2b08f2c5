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

// AddComponents enables the named components, each in its group. Adding a component whose
// group already has another choice is an error that names the `svcgen set` to run instead.
func AddComponents(c *Catalog, s Spec, names []string) (Spec, []string, error) {
	var notes []string
	chosen := map[string]string{} // group → component added by this call
	for _, name := range names {
		comp, err := groupComponent(c, name)
		if err != nil {
			return s, nil, err
		}
		g := comp.Group
		if prev, ok := chosen[g]; ok && prev != name {
			return s, nil, fmt.Errorf("%s and %s are both %s choices: a service has one %s", prev, name, g, g)
		}
		switch cur := s.Get(g); {
		case cur == name:
			if _, ok := chosen[g]; !ok {
				notes = append(notes, fmt.Sprintf("%s is already part of the service", name))
			}
		case cur != "" && cur != None:
			return s, nil, fmt.Errorf("the service's %s is already %s: to switch it to %s, run: svcgen set %s %s", g, cur, name, g, name)
		default:
			*s.Field(g) = name
		}
		chosen[g] = name
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
		g, _ := GroupByName(comp.Group)
		switch {
		case s.Get(g.Name) != name:
			notes = append(notes, fmt.Sprintf("%s is not part of the service", name))
		case !g.Optional:
			return s, nil, fmt.Errorf("%s is the service's %s, which every service needs: to switch it, run: svcgen set %s %s", name, g.Name, g.Name, strings.Join(otherChoices(c, g.Name, name), "|"))
		default:
			*s.Field(g.Name) = None
		}
	}
	return s, notes, nil
}

// SetGroup sets the choice of a group (`svcgen set framework echo`, `svcgen set ci none`).
func SetGroup(c *Catalog, s Spec, group, value string) (Spec, []string, error) {
	g, ok := GroupByName(group)
	if !ok {
		var names []string
		for _, g := range Groups {
			names = append(names, g.Name)
		}
		return s, nil, fmt.Errorf("unknown group %q: the groups are %s", group, strings.Join(names, ", "))
	}
	allowed := c.Choices(g.Name)
	if !slices.Contains(allowed, value) {
		return s, nil, fmt.Errorf("%s %q is not valid: allowed values are %s", g.Name, value, strings.Join(allowed, ", "))
	}
	if s.Get(g.Name) == value {
		return s, []string{fmt.Sprintf("%s is already %s", g.Name, value)}, nil
	}
	*s.Field(g.Name) = value
	return s, nil, nil
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
