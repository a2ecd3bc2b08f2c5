package generator

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/module"
)

// None is the value of an optional group that has no component chosen.
const None = "none"

// Spec is the set of answers that fully determines a generated service. It is the schema of
// answer files (--answers) and of the answers recorded in a service's manifest, so a manifest is
// always a valid answer file. Field order is the order answers are written in.
type Spec struct {
	Name      string `yaml:"name"`
	Module    string `yaml:"module"`
	Framework string `yaml:"framework"`
	Database  string `yaml:"database"`
	Cache     string `yaml:"cache"`
	Broker    string `yaml:"broker"`
	Metrics   string `yaml:"metrics"`
	CI        string `yaml:"ci"`
	Deploy    string `yaml:"deploy"`
}

// Group is one choice the user makes: exactly one component of the group, or None when the group
// is optional. The list is fixed because each group is a field of Spec and a flag of `new`.
type Group struct {
	Name     string // also the flag name and the answer-file key
	Title    string // a short human title, used in prompts and help
	Optional bool   // whether "none" is allowed
}

// Groups lists the choice groups in prompt order.
var Groups = []Group{
	{Name: "framework", Title: "HTTP framework"},
	{Name: "database", Title: "Database", Optional: true},
	{Name: "cache", Title: "Cache", Optional: true},
	{Name: "broker", Title: "Message broker", Optional: true},
	{Name: "metrics", Title: "Metrics", Optional: true},
	{Name: "ci", Title: "CI system", Optional: true},
	{Name: "deploy", Title: "Deployment manifests", Optional: true},
}

// GroupByName returns the group called name.
func GroupByName(name string) (Group, bool) {
	i := slices.IndexFunc(Groups, func(g Group) bool { return g.Name == name })
	if i < 0 {
		return Group{}, false
	}
	return Groups[i], true
}

// Field returns a pointer to the Spec field that holds the choice of group, or nil for an unknown
// group. It is the one place that maps group names to fields.
func (s *Spec) Field(group string) *string {
	switch group {
	case "framework":
		return &s.Framework
	case "database":
		return &s.Database
	case "cache":
		return &s.Cache
	case "broker":
		return &s.Broker
	case "metrics":
		return &s.Metrics
	case "ci":
		return &s.CI
	case "deploy":
		return &s.Deploy
	}
	return nil
}

// Get returns the choice of group ("" when unset).
func (s Spec) Get(group string) string {
	if f := s.Field(group); f != nil {
		return *f
	}
	return ""
}

// Components lists the enabled component names: core, then the chosen component of every group
// in group order, skipping None and unset groups.
func (s Spec) Components() []string {
	out := []string{CoreComponent}
	for _, g := range Groups {
		if v := s.Get(g.Name); v != "" && v != None {
			out = append(out, v)
		}
	}
	return out
}

// WithDefaults fills every unset field from the catalog's defaults and the module from the name.
func (s Spec) WithDefaults(c *Catalog) Spec {
	for _, g := range Groups {
		if f := s.Field(g.Name); *f == "" {
			*f = c.Default(g.Name)
		}
	}
	if s.Module == "" {
		s.Module = s.Name
	}
	return s
}

// Missing names the answers that are still unset, as the flags that would set them.
func (s Spec) Missing() []string {
	var out []string
	if s.Name == "" {
		out = append(out, "NAME")
	}
	for _, g := range Groups {
		if s.Get(g.Name) == "" {
			out = append(out, "--"+g.Name)
		}
	}
	return out
}

// Validate checks every answer against the naming rules and the catalog and reports all problems
// at once, each naming the input and what is allowed.
func (s Spec) Validate(c *Catalog) error {
	errs := s.problems(c, false)
	if len(errs) == 0 {
		errs = append(errs, c.CheckRelations(s.Components()))
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
	for _, g := range Groups {
		if v := s.Get(g.Name); v != "" || !givenOnly {
			if err := ValidateChoice(c, g.Name, v); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// ValidateChoice checks that value is one of the group's choices in the catalog.
func ValidateChoice(c *Catalog, group, value string) error {
	allowed := c.Choices(group)
	if !slices.Contains(allowed, value) {
		return fmt.Errorf("%s %q is not valid: allowed values are %s", group, value, strings.Join(allowed, ", "))
	}
	return nil
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
