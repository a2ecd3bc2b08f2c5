package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// CoreComponent is the always-on component every service has.
const CoreComponent = "core"

// metaFile is the name of a component's metadata file inside its folder.
const metaFile = "component.yaml"

// Component is one folder of templates and the metadata that says what it is.
type Component struct {
	Name        string     `yaml:"name"`
	GroupDecl   groupDecl  `yaml:"group"` // the group's name, or a block declaring the group
	Group       string     `yaml:"-"`     // the group's name; "" for core
	Description string     `yaml:"description"`
	Default     bool       `yaml:"default"` // the group's choice under --yes
	Requires    []string   `yaml:"requires"`
	Conflicts   []string   `yaml:"conflicts"`
	Modules     []string   `yaml:"modules"`  // Go modules the generated service requires; versions come from Versions
	Provides    []string   `yaml:"provides"` // capabilities (database, cache, events, ...) that requires may name
	Order       int        `yaml:"order"`    // slot order: lower fills come first; ties go core, group order, name
	Slots       []SlotDecl `yaml:"slots"`    // extension points this component's templates offer (core's)
	Groups      []Group    `yaml:"groups"`   // groups declared here (core's: svcgen's own, in prompt order)

	// sources are the file systems holding the component's folder, lowest precedence first: the
	// embedded templates, then an overlay that may override or add files by path.
	sources []source
}

// source is one folder of a component's templates.
type source struct {
	fsys fs.FS
	// verified marks svcgen's own embedded templates, which its tests render for every stack
	// combination and hold to gofmt-clean output; render then only parses their Go output.
	verified bool
}

// Catalog is the set of components available to render, read from templates' metadata.
type Catalog struct {
	byName map[string]*Component
	// groups are the declared groups; groupFrom says where each was declared first (for
	// errors), groupOrder lists them in prompt order.
	groups     map[string]*Group
	groupFrom  map[string]string
	groupOrder []string
	// roots are the template trees the catalog was read from, lowest precedence first (the
	// embedded templates, then the overlay); Digest hashes them.
	roots  []fs.FS
	digest func() (string, error)
}

// LoadCatalog reads every component folder of base and, when given, of overlay. An overlay
// folder with the name of an embedded component overrides or adds files of that component; one
// with its own component.yaml and a new name adds a component.
func LoadCatalog(base fs.FS, overlay fs.FS) (*Catalog, error) {
	return loadCatalog(base, overlay, false)
}

func loadCatalog(base fs.FS, overlay fs.FS, baseVerified bool) (*Catalog, error) {
	c := &Catalog{byName: map[string]*Component{}, groups: map[string]*Group{}, groupFrom: map[string]string{}}
	c.digest = sync.OnceValues(c.computeDigest)
	for i, fsys := range []fs.FS{base, overlay} {
		if fsys == nil {
			continue
		}
		c.roots = append(c.roots, fsys)
		src := source{fsys: fsys, verified: i == 0 && baseVerified}
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			return nil, fmt.Errorf("reading templates: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			if err := c.addFolder(src, e.Name()); err != nil {
				return nil, err
			}
		}
	}
	if _, ok := c.byName[CoreComponent]; !ok {
		return nil, errors.New("templates have no core component")
	}
	for _, n := range slices.Concat([]string{CoreComponent}, c.Names()) {
		comp := c.byName[n]
		for _, g := range comp.Groups {
			if err := c.declareGroup(n+"/"+metaFile, g); err != nil {
				return nil, err
			}
		}
		if comp.GroupDecl.decl != nil {
			if err := c.declareGroup(n+"/"+metaFile, *comp.GroupDecl.decl); err != nil {
				return nil, err
			}
		}
	}
	if err := c.finishGroups(); err != nil {
		return nil, err
	}
	capabilities := map[string]bool{}
	slotOwner := map[string]string{}
	for _, n := range c.Names() {
		comp := c.byName[n]
		for _, p := range comp.Provides {
			capabilities[p] = true
		}
		for _, s := range comp.Slots {
			if prev, dup := slotOwner[s.Name]; dup {
				return nil, fmt.Errorf("slot %q is declared by both %s and %s", s.Name, prev, n)
			}
			if !slotNameRE.MatchString(s.Name) {
				return nil, fmt.Errorf("%s/%s: slot name %q is not valid: use lowercase words separated by dots (e.g. main.imports)", n, metaFile, s.Name)
			}
			slotOwner[s.Name] = n
		}
	}
	for _, comp := range c.byName {
		for _, r := range slices.Concat(comp.Requires, comp.Conflicts) {
			if _, ok := c.byName[r]; !ok && !capabilities[r] {
				return nil, fmt.Errorf("component %s names unknown component or capability %q in requires/conflicts", comp.Name, r)
			}
		}
	}
	return c, nil
}

func (c *Catalog) addFolder(src source, dir string) error {
	fsys, err := fs.Sub(src.fsys, dir)
	if err != nil {
		return err
	}
	sub := source{fsys: fsys, verified: src.verified}
	raw, err := fs.ReadFile(sub.fsys, metaFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		existing, ok := c.byName[dir]
		if !ok {
			return fmt.Errorf("template folder %s has no %s and is not a known component", dir, metaFile)
		}
		existing.sources = append(existing.sources, sub)
		return nil
	case err != nil:
		return err
	}
	var comp Component
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&comp); err != nil {
		return fmt.Errorf("%s/%s: %w", dir, metaFile, err)
	}
	if comp.Name != dir {
		return fmt.Errorf("%s/%s: name %q must equal the folder name", dir, metaFile, comp.Name)
	}
	comp.Group = comp.GroupDecl.name
	if comp.Name == CoreComponent && comp.Group != "" {
		return fmt.Errorf("%s/%s: core belongs to no group", dir, metaFile)
	}
	if comp.Name == None {
		return fmt.Errorf("%s: %q is reserved", dir, None)
	}
	if existing, ok := c.byName[dir]; ok {
		comp.sources = existing.sources // an overlay's metadata replaces, its files add
	}
	comp.sources = append(comp.sources, sub)
	c.byName[dir] = &comp
	return nil
}

// Component returns the named component.
func (c *Catalog) Component(name string) (*Component, bool) {
	comp, ok := c.byName[name]
	return comp, ok
}

// Names returns every component name, sorted.
func (c *Catalog) Names() []string {
	names := make([]string, 0, len(c.byName))
	for n := range c.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CheckRelations reports components whose requirements are not enabled or that conflict. A
// requirement or conflict may name a component or a capability (provides:), which any enabled
// component other than the one naming it satisfies.
func (c *Catalog) CheckRelations(enabled []string) error {
	var errs []error
	has := func(self, want string) bool {
		return slices.ContainsFunc(enabled, func(n string) bool {
			comp, ok := c.byName[n]
			return n == want || n != self && ok && slices.Contains(comp.Provides, want)
		})
	}
	for _, name := range enabled {
		comp := c.byName[name]
		for _, r := range comp.Requires {
			if !has(name, r) {
				errs = append(errs, fmt.Errorf("component %s requires %s", name, r))
			}
		}
		for _, x := range comp.Conflicts {
			if has(name, x) {
				errs = append(errs, fmt.Errorf("component %s conflicts with %s", name, x))
			}
		}
	}
	return errors.Join(errs...)
}

// slotNameRE is the form of slot names: lowercase words separated by dots.
var slotNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// files lists the component's template files (paths relative to its folder, slash-separated,
// sorted) with the source that wins for each: the last source that has the path.
func (comp *Component) files() ([]string, map[string]source, error) {
	owner := map[string]source{}
	for _, src := range comp.sources {
		err := fs.WalkDir(src.fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || p == metaFile {
				return nil
			}
			owner[p] = src
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("component %s: %w", comp.Name, err)
		}
	}
	paths := make([]string, 0, len(owner))
	for p := range owner {
		paths = append(paths, path.Clean(p))
	}
	sort.Strings(paths)
	return paths, owner, nil
}

// Provided reports whether an enabled component of s provides capability.
func (c *Catalog) Provided(s Spec, capability string) bool {
	return slices.ContainsFunc(c.Enabled(s), func(n string) bool {
		comp, ok := c.byName[n]
		return ok && slices.Contains(comp.Provides, capability)
	})
}
