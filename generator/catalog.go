package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
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
	Name        string   `yaml:"name"`
	Group       string   `yaml:"group"` // "" for core
	Description string   `yaml:"description"`
	Default     bool     `yaml:"default"` // the group's choice under --yes
	Requires    []string `yaml:"requires"`
	Conflicts   []string `yaml:"conflicts"`
	Modules     []string `yaml:"modules"` // Go modules the generated service requires; versions come from Versions

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
	c := &Catalog{byName: map[string]*Component{}}
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
	for _, comp := range c.byName {
		for _, r := range slices.Concat(comp.Requires, comp.Conflicts) {
			if _, ok := c.byName[r]; !ok {
				return nil, fmt.Errorf("component %s names unknown component %q in requires/conflicts", comp.Name, r)
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
	if comp.Group != "" {
		if _, ok := GroupByName(comp.Group); !ok {
			return fmt.Errorf("%s/%s: unknown group %q", dir, metaFile, comp.Group)
		}
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
	if g, ok := GroupByName(group); ok && g.Optional {
		out = append(out, None)
	}
	return out
}

// Default returns the group's default choice: the component marked default, else the first
// component of a required group, else none.
func (c *Catalog) Default(group string) string {
	comps := c.InGroup(group)
	for _, comp := range comps {
		if comp.Default {
			return comp.Name
		}
	}
	if g, ok := GroupByName(group); ok && !g.Optional && len(comps) > 0 {
		return comps[0].Name
	}
	return None
}

// CheckRelations reports components whose requirements are not enabled or that conflict.
func (c *Catalog) CheckRelations(enabled []string) error {
	var errs []error
	for _, name := range enabled {
		comp := c.byName[name]
		for _, r := range comp.Requires {
			if !slices.Contains(enabled, r) {
				errs = append(errs, fmt.Errorf("component %s requires %s", name, r))
			}
		}
		for _, x := range comp.Conflicts {
			if slices.Contains(enabled, x) {
				errs = append(errs, fmt.Errorf("component %s conflicts with %s", name, x))
			}
		}
	}
	return errors.Join(errs...)
}

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
