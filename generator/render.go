package generator

import (
	"bytes"
	"cmp"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// File is one rendered file: where it goes in the service, its bytes and the component that
// owns it.
type File struct {
	Path      string // slash-separated, relative to the service root
	Data      []byte
	Component string
	Mode      fs.FileMode
}

// Data is what a template sees as its dot. docs/templates.md documents every field.
type Data struct {
	Name             string
	Module           string
	With             map[string]bool   // every catalog component, true when enabled
	Provides         map[string]bool   // every capability a catalog component provides, true when an enabled one does
	Choice           map[string]string // every group's choice; a many group's choices comma-joined
	GoVersion        string
	Tools            ToolVersions
	Actions          ActionPins
	Images           ImageVersions
	Requires         []Module
	GeneratorVersion string
	// Resources are the spec's resources (resource.go), for the templates that list them all
	// (routes, main's wiring, the OpenAPI document).
	Resources []ResourceData
	// allResources adds the removed resources, whose migrations are still rendered.
	allResources []ResourceData
}

// nameToken is the path segment replaced by the service name (e.g. cmd/__name__/main.go.tmpl).
const nameToken = "__name__"

// funcMap is sprig's text function map without the functions that read the generating
// machine's environment: a template must never be able to leak its secrets into a service.
func funcMap() template.FuncMap {
	fm := sprig.TxtFuncMap()
	delete(fm, "env")
	delete(fm, "expandenv")
	fm["goident"] = goIdent
	for name, f := range slotFuncs() {
		fm[name] = f
	}
	return fm
}

// goIdent turns a service name into a Go identifier: orders-api → ordersapi.
func goIdent(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || b.Len() > 0 && r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "svc"
	}
	return b.String()
}

// newData builds the template data for a valid spec.
func newData(s Spec, c *Catalog) (Data, []*Component, error) {
	var comps []*Component
	with := map[string]bool{}
	for _, n := range c.Names() {
		with[n] = false
	}
	for _, n := range c.Enabled(s) {
		comp, ok := c.Component(n)
		if !ok {
			return Data{}, nil, fmt.Errorf("unknown component %q", n)
		}
		comps = append(comps, comp)
		with[n] = true
	}
	reqs, err := requirements(comps)
	if err != nil {
		return Data{}, nil, err
	}
	provides := map[string]bool{}
	for _, n := range c.Names() {
		comp, _ := c.Component(n)
		for _, p := range comp.Provides {
			provides[p] = provides[p] || with[n]
		}
	}
	choice := map[string]string{}
	for _, g := range c.groupOrder {
		choice[g] = cmp.Or(s.Get(g), None)
	}
	data := Data{
		Name: s.Name, Module: s.Module, With: with, Provides: provides, Choice: choice,
		GoVersion: GoVersion, Tools: Tools, Actions: Actions, Images: Images, Requires: reqs, GeneratorVersion: Version,
	}
	all := resourceData(data, s.Resources)
	if len(all) > 0 {
		data.Resources = all[0].Data.Resources
	}
	data.allResources = all
	return data, comps, nil
}

// Render turns a spec into the service's files, sorted by path. A .tmpl template that renders to
// only white space produces no file, so a file can exist only for some stacks. It fails, naming the template,
// when a template does not execute, renders invalid Go, or would write outside the service; two
// components rendering the same path is an error too.
func Render(s Spec, c *Catalog) ([]File, error) {
	data, comps, err := newData(s, c)
	if err != nil {
		return nil, err
	}
	// Collect every template first, then render them concurrently: go/format dominates the
	// cost, and files are independent. Results keep job order, so output stays deterministic.
	type job struct {
		comp   string
		path   string
		src    source
		data   any
		target string
	}
	var jobs []job
	for _, comp := range comps {
		paths, srcs, err := comp.files()
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			if isPartial(p) {
				continue
			}
			if rp, ok := strings.CutPrefix(p, resourceDir); ok {
				// Rendered once per resource, and a migration's file once per migration.
				for _, r := range data.allResources {
					if !strings.Contains(rp, migrationToken) {
						if r.Removed {
							continue
						}
						jobs = append(jobs, job{comp.Name, p, srcs[p], r, strings.ReplaceAll(rp, pkgToken, r.Pkg)})
						continue
					}
					for _, m := range r.Migrations {
						rm := r
						rm.Migration = m
						jobs = append(jobs, job{comp.Name, p, srcs[p], rm, strings.ReplaceAll(strings.ReplaceAll(rp, pkgToken, r.Pkg), migrationToken, m.File)})
					}
				}
				continue
			}
			jobs = append(jobs, job{comp.Name, p, srcs[p], data, p})
		}
	}
	slots, err := newSlotEngine(c, comps, funcMap())
	if err != nil {
		return nil, err
	}
	results := make([]File, len(jobs))
	errs := make([]error, len(jobs))
	inParallel(len(jobs), runtime.GOMAXPROCS(0), func() func(int) {
		// Templates made with set.New share set's functions; giving each its own copy of
		// sprig's ~200 functions was a third of render's allocations. Every worker clones the
		// set of partials once and binds its own slot functions to the clone, so parsing never
		// shares state across goroutines; names are unique.
		set, err := slots.bind()
		return func(i int) {
			if err != nil {
				errs[i] = err
				return
			}
			results[i], errs[i] = renderOne(set, slots, jobs[i].comp, jobs[i].path, jobs[i].src, jobs[i].data, jobs[i].target, data)
		}
	})

	var out []File
	owner := map[string]string{}
	for i, f := range results {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if f.Data == nil {
			continue // the template chose not to produce a file
		}
		if prev, dup := owner[f.Path]; dup {
			return nil, fmt.Errorf("%s: both components %s and %s render this path", f.Path, prev, jobs[i].comp)
		}
		owner[f.Path] = jobs[i].comp
		out = append(out, f)
	}
	sortFiles(out)
	return out, nil
}

func renderOne(set *template.Template, slots *slotEngine, component, src string, from source, dot any, dest string, data Data) (File, error) {
	name := component + "/" + src // how errors name the template
	raw, err := fs.ReadFile(from.fsys, src)
	if err != nil {
		return File{}, err
	}
	target, err := outputPath(dest, data.Name)
	if err != nil {
		return File{}, fmt.Errorf("template %s: %w", name, err)
	}
	body := raw
	// Go rendered with resources is formatted: their fields and wiring join aligned blocks.
	clean := from.verified && len(data.Resources) == 0
	if strings.HasSuffix(src, ".tmpl") {
		t, err := set.New(name).Parse(string(raw))
		if err != nil {
			return File{}, err // text/template names the template and line
		}
		if t.Tree != nil {
			if err := slots.checkCalls(name, t.Tree); err != nil {
				return File{}, err
			}
			clean = clean && !callsSlot(t.Tree)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, dot); err != nil {
			return File{}, err
		}
		body = buf.Bytes()
		if len(bytes.TrimSpace(body)) == 0 {
			// A template that renders to nothing (say, wrapped in {{ if .With.redis }}) produces no file.
			return File{Path: target, Component: component}, nil
		}
	}
	if strings.HasSuffix(target, ".go") {
		if body, err = formatGo(body, clean); err != nil {
			return File{}, fmt.Errorf("template %s renders invalid Go: %w", name, err)
		}
	}
	mode := fs.FileMode(0o644)
	if bytes.HasPrefix(body, []byte("#!")) {
		mode = 0o755
	}
	return File{Path: target, Data: body, Component: component, Mode: mode}, nil
}

// formatGo makes rendered Go gofmt-clean and rejects invalid Go. Printing is most of go/format's
// cost, so Go from svcgen's own templates (clean) is only parsed:
// TestEmbeddedTemplatesRenderGofmtClean renders every stack combination both ways and requires
// identical output, so for them the parse alone keeps both promises. Every overlay template is
// formatted.
func formatGo(src []byte, clean bool) ([]byte, error) {
	if !clean {
		return format.Source(src)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution); err != nil {
		return nil, err
	}
	return src, nil
}

// outputPath maps a template path to the path it renders to: the service name replaces
// __name__, a .tmpl suffix is dropped, and the result must stay inside the service.
func outputPath(src, name string) (string, error) {
	p := strings.ReplaceAll(src, nameToken, name)
	p = strings.TrimSuffix(p, ".tmpl")
	clean := path.Clean(p)
	if !filepath.IsLocal(filepath.FromSlash(clean)) || strings.Contains(clean, "\\") || clean == "." {
		return "", fmt.Errorf("path %q leaves the service directory", src)
	}
	return clean, nil
}
