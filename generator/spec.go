package generator

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/module"
	"gopkg.in/yaml.v3"
)

// None is the value of an optional group that has no component chosen.
const None = "none"

// Spec is the set of answers that fully determines a generated service: a name, a module path
// and the choice of every group (a many group's choices comma-separated). It is the schema of
// answer files (--answers) and of the answers recorded in a service's manifest, so a manifest is
// always a valid answer file. Its YAML is flat, `framework: gin` beside `name:`, as every
// manifest svcgen ever wrote has it; an unset group and "none" both mean nothing chosen once
// the answers are complete.
type Spec struct {
	Name   string
	Module string
	// Resources are the domain resources added with `svcgen add resource` (resource.go), in
	// the order they were added.
	Resources []Resource
	choices   map[string]string // group → choice; missing: not given (yet)
	// order is the order groups are written in: the catalog's (set by WithDefaults and by the
	// manifest builder) or the order a file listed them in. Groups not in it come after, sorted.
	order []string
}

// NewSpec returns a spec with the given choices.
func NewSpec(name, module string, choices map[string]string) Spec {
	s := Spec{Name: name, Module: module}
	for g, v := range choices {
		s = s.With(g, v)
	}
	return s
}

// Get returns the choice of group ("" when unset).
func (s Spec) Get(group string) string { return s.choices[group] }

// Has reports whether the group has an answer.
func (s Spec) Has(group string) bool {
	_, ok := s.choices[group]
	return ok
}

// With returns a copy of s with group set to value; s itself is unchanged.
func (s Spec) With(group, value string) Spec {
	choices := make(map[string]string, len(s.choices)+1)
	for g, v := range s.choices {
		choices[g] = v
	}
	choices[group] = value
	s.choices = choices
	return s
}

// Equal reports whether two specs give the same answers.
func (s Spec) Equal(o Spec) bool {
	if s.Name != o.Name || s.Module != o.Module || len(s.choices) != len(o.choices) || !resourcesEqual(s.Resources, o.Resources) {
		return false
	}
	for g, v := range s.choices {
		if w, ok := o.choices[g]; !ok || w != v {
			return false
		}
	}
	return true
}

// String shows the answers in order, for messages and test failures.
func (s Spec) String() string {
	parts := []string{"name=" + s.Name, "module=" + s.Module}
	for _, g := range s.keys() {
		parts = append(parts, g+"="+s.choices[g])
	}
	return strings.Join(parts, " ")
}

// keys lists the set groups: those in s.order first, in it, then the others sorted.
func (s Spec) keys() []string {
	var out []string
	for _, g := range s.order {
		if _, ok := s.choices[g]; ok && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	var rest []string
	for g := range s.choices {
		if !slices.Contains(out, g) {
			rest = append(rest, g)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// MarshalYAML writes the flat form: name, module, then every group in order.
func (s Spec) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k, v string) {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
	}
	add("name", s.Name)
	add("module", s.Module)
	for _, g := range s.keys() {
		add(g, s.choices[g])
	}
	if len(s.Resources) > 0 {
		var rs yaml.Node
		if err := rs.Encode(s.Resources); err != nil {
			return nil, err
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: resourcesKey}, &rs)
	}
	return n, nil
}

// UnmarshalYAML reads the flat form. Every key besides name and module is a group; a many
// group's choices may be a sequence or a comma-separated string. Which groups exist is the
// catalog's business: ReadAnswersFor and Validate check the keys against it.
func (s *Spec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected a mapping of answers", n.Line)
	}
	*s = Spec{choices: map[string]string{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == resourcesKey {
			if err := v.Decode(&s.Resources); err != nil {
				return fmt.Errorf("line %d: resources: %w", v.Line, err)
			}
			continue
		}
		var value string
		switch v.Kind {
		case yaml.ScalarNode:
			value = v.Value
		case yaml.SequenceNode:
			if k.Value == "name" || k.Value == "module" {
				return fmt.Errorf("line %d: %s: expected a string", v.Line, k.Value)
			}
			var items []string
			if err := v.Decode(&items); err != nil {
				return fmt.Errorf("line %d: %s: %w", v.Line, k.Value, err)
			}
			value = strings.Join(items, ",")
		default:
			return fmt.Errorf("line %d: %s: expected a value", v.Line, k.Value)
		}
		switch k.Value {
		case "name":
			s.Name = value
		case "module":
			s.Module = value
		default:
			if _, dup := s.choices[k.Value]; dup {
				return fmt.Errorf("line %d: %s is given twice", k.Line, k.Value)
			}
			s.choices[k.Value] = value
			s.order = append(s.order, k.Value)
		}
	}
	return nil
}

// resourcesKey is the answers' key of the resources.
const resourcesKey = "resources"

func resourcesEqual(a, b []Resource) bool {
	return slices.EqualFunc(a, b, func(x, y Resource) bool {
		return x.Name == y.Name && x.Removed == y.Removed && fieldsEqual(x.Fields, y.Fields) &&
			slices.EqualFunc(x.Migrations, y.Migrations, func(m, n Migration) bool { return m.Version == n.Version && fieldsEqual(m.Fields, n.Fields) })
	})
}

// WithDefaults fills every unset group from the catalog's defaults and the module from the
// name, and puts the groups in the catalog's order.
func (s Spec) WithDefaults(c *Catalog) Spec {
	for _, g := range c.groupOrder {
		if s.Get(g) == "" {
			s = s.With(g, c.Default(g))
		}
	}
	if s.Module == "" {
		s.Module = s.Name
	}
	s.order = c.GroupNames()
	return s
}

// recorded returns answers as a manifest records them: every optional group of the catalog
// that has no answer is none (the manifest was written before the group existed, and the
// service has none of it), in the catalog's group order.
func (s Spec) recorded(c *Catalog) Spec {
	s, _ = s.WithoutOptional(c)
	s.order = c.GroupNames()
	return s
}

// WithoutOptional returns s with every unset optional group set to none, and the flags of the
// groups it set. A run without a terminal that names the service and every required choice
// takes none for the optional groups it leaves out: a script written for an earlier svcgen
// keeps generating what it did when a release adds an optional group, as its manifest does.
func (s Spec) WithoutOptional(c *Catalog) (Spec, []string) {
	var set []string
	for _, g := range c.Groups() {
		if g.Optional && s.Get(g.Name) == "" {
			s = s.With(g.Name, None)
			set = append(set, "--"+g.Name)
		}
	}
	return s, set
}

// Missing names the answers that are still unset, as the flags that would set them.
func (s Spec) Missing(c *Catalog) []string {
	var out []string
	if s.Name == "" {
		out = append(out, "NAME")
	}
	for _, g := range c.groupOrder {
		if s.Get(g) == "" {
			out = append(out, "--"+g)
		}
	}
	return out
}

// Validate checks every answer against the naming rules and the catalog and reports all problems
// at once, each naming the input and what is allowed.
func (s Spec) Validate(c *Catalog) error {
	errs := s.problems(c, false)
	if len(errs) == 0 {
		errs = append(errs, c.CheckRelations(c.Enabled(s)))
	}
	return errors.Join(errs...)
}

// ValidateGiven checks the answers that are set and skips the unset ones, which prompts or
// defaults fill in later. Commands call it before asking anything, so a bad flag fails at once
// instead of after every question has been answered. Relations between components are checked
// only by Validate, once every answer is known.
func (s Spec) ValidateGiven(c *Catalog) error {
	return errors.Join(s.problems(c, true)...)
}

// problems checks each answer (only the set ones when givenOnly) and returns one error per bad
// answer, each naming its key, the value and what is allowed.
func (s Spec) problems(c *Catalog, givenOnly bool) []error {
	var errs []error
	if s.Name != "" || !givenOnly {
		if err := ValidateName(s.Name); err != nil {
			errs = append(errs, err)
		}
	}
	if s.Module != "" || !givenOnly {
		if err := ValidateModule(s.Module); err != nil {
			errs = append(errs, err)
		}
	}
	for _, g := range c.Groups() {
		v := s.Get(g.Name)
		if v == "" && g.Optional && !givenOnly {
			v = None // a group the answers do not mention is none (manifests before it existed)
		}
		if v != "" || !givenOnly {
			if err := validateChoice(c, g.Name, v); err != nil {
				errs = append(errs, err)
			}
		}
	}
	errs = append(errs, validateResources(c, s, givenOnly)...)
	for _, g := range s.keys() {
		if _, ok := c.groups[g]; !ok {
			errs = append(errs, fmt.Errorf("unknown key %q: allowed keys are %s", g, strings.Join(answerKeys(c), ", ")))
		}
	}
	return errs
}

// nameRE accepts a DNS-1123 label that starts with a letter: the name is used as a directory, a
// binary, a Kubernetes object name and (without dashes) a Go identifier.
var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// ValidateName checks a service name.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("name is empty: give a service name such as orders-api")
	case len(name) > 63:
		return fmt.Errorf("name %q is %d characters long: at most 63 are allowed", name, len(name))
	case !nameRE.MatchString(name):
		return fmt.Errorf("name %q is not valid: use lowercase letters, digits and single dashes, starting with a letter and not ending with a dash (e.g. orders-api)", name)
	}
	return nil
}

// ValidateModule checks a Go module path with golang.org/x/mod/module.CheckPath. A path whose
// first element has no dot (e.g. "orders-api", the default) is accepted as a local module, as
// `go mod init` accepts it; every other CheckPath rule still applies.
func ValidateModule(path string) error {
	if path == "" {
		return errors.New("module path is empty: give one such as github.com/acme/orders-api")
	}
	err := module.CheckPath(path)
	if err == nil {
		return nil
	}
	first, rest, hasRest := strings.Cut(path, "/")
	if !strings.Contains(first, ".") {
		// Give the first element the dot it lacks; every other rule is checked as usual.
		dotted := first + ".invalid"
		if hasRest {
			dotted += "/" + rest
		}
		if module.CheckPath(dotted) == nil {
			return nil
		}
	}
	return fmt.Errorf("module path %q is not valid: %v", path, unwrapModuleErr(err))
}

// unwrapModuleErr drops the repeated path prefix that module errors carry.
func unwrapModuleErr(err error) error {
	var perr *module.InvalidPathError
	if errors.As(err, &perr) {
		return perr.Err
	}
	return err
}
