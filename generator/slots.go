package generator

import (
	"bytes"
	"cmp"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// Slots let a component wire itself into files it does not own. Core declares named extension
// points (slots: in its component.yaml); a component fills them from its own partial files
// (_*.tmpl) with {{ define "<component>:<slot>" }}; a template renders every enabled
// component's fill of a slot with {{ slot "<slot>" . }}. docs/templates.md is the contract.

// SlotDecl is one declared extension point: a slot name such as main.imports and what a fill
// of it is for.
type SlotDecl struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
}

// maxIncludeDepth bounds slot and include calls nested in each other, so a fill that calls
// its own slot fails with an error instead of exhausting the stack.
const maxIncludeDepth = 64

// isPartial reports whether a template path (relative to its component folder) is a partial
// file: a base name starting with _ and ending in .tmpl. Partials define named templates and
// never render to a file of their own.
func isPartial(p string) bool {
	if strings.HasPrefix(p, resourceDir) {
		return false // a per-resource template (resource_data.go), whose name may start with __
	}
	base := path.Base(p)
	return strings.HasPrefix(base, "_") && strings.HasSuffix(base, ".tmpl")
}

// slotFuncs are the slot functions as the parser sees them; each render worker binds the real
// ones to its own template set (slotEngine.bind).
func slotFuncs() template.FuncMap {
	unbound := func(...any) (string, error) { return "", fmt.Errorf("slot functions are not bound") }
	return template.FuncMap{"slot": unbound, "slotted": unbound, "include": unbound}
}

// slotEngine is what one Render knows about slots: the declared names, the enabled components
// in slot order and the template set that holds their fills.
type slotEngine struct {
	declared map[string]bool
	order    []string           // enabled components in slot order
	base     *template.Template // the enabled components' partials; workers clone it
}

// newSlotEngine parses the partial files of the enabled components into one template set,
// checking that each defines only its own names (X:<declared slot> or X:_<helper>) and calls
// only declared slots.
func newSlotEngine(c *Catalog, comps []*Component, funcs template.FuncMap) (*slotEngine, error) {
	e := &slotEngine{declared: c.declaredSlots(), base: template.New("").Option("missingkey=error").Funcs(funcs)}
	for _, comp := range c.slotOrder(comps) {
		e.order = append(e.order, comp.Name)
	}
	for _, comp := range comps {
		paths, srcs, err := comp.files()
		if err != nil {
			return nil, err
		}
		defined := map[string]string{} // template name → the partial that defines it
		for _, p := range paths {
			if !isPartial(p) {
				continue
			}
			if err := e.addPartial(comp.Name, p, srcs[p], funcs, defined); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

func (e *slotEngine) addPartial(comp, p string, src source, funcs template.FuncMap, defined map[string]string) error {
	file := comp + "/" + p
	raw, err := fs.ReadFile(src.fsys, p)
	if err != nil {
		return err
	}
	t, err := template.New(file).Funcs(funcs).Parse(string(raw))
	if err != nil {
		return err // text/template names the file and line
	}
	for _, d := range t.Templates() {
		if d.Tree == nil {
			continue
		}
		name := d.Name()
		if name == file {
			if !parse.IsEmptyTree(d.Root) {
				return fmt.Errorf("template %s: a partial file holds only {{ define }} blocks; move the text outside them into a define", file)
			}
			continue
		}
		slot, ok := strings.CutPrefix(name, comp+":")
		switch {
		case !ok:
			return fmt.Errorf("template %s: defines %q: a partial of component %s may define only %s:<slot> and %s:_<helper>", file, name, comp, comp, comp)
		case slot == "":
			return fmt.Errorf("template %s: defines %q with no slot name", file, name)
		case !strings.HasPrefix(slot, "_") && !e.declared[slot]:
			return fmt.Errorf("template %s: fills undeclared slot %q (declare it under slots: in core/component.yaml)", file, slot)
		}
		if prev, dup := defined[name]; dup {
			return fmt.Errorf("template %s: %q is defined by %s too", file, name, prev)
		}
		defined[name] = file
		if err := e.checkCalls(file, d.Tree); err != nil {
			return err
		}
		if _, err := e.base.AddParseTree(name, d.Tree); err != nil {
			return fmt.Errorf("template %s: %w", file, err)
		}
	}
	return nil
}

// checkCalls fails on a slot or slotted call with a literal name that no component declares,
// wherever it stands in the template: a typo fails every render, not only the stacks whose
// branch reaches it.
func (e *slotEngine) checkCalls(file string, tree *parse.Tree) error {
	var bad error
	walkCalls(tree.Root, func(fn string, arg parse.Node) {
		s, ok := arg.(*parse.StringNode)
		if bad != nil || (fn != "slot" && fn != "slotted") || !ok || e.declared[s.Text] {
			return
		}
		loc, _ := tree.ErrorContext(arg)
		bad = fmt.Errorf("template %s: %s: calls undeclared slot %q (declare it under slots: in core/component.yaml)", file, loc, s.Text)
	})
	return bad
}

// callsSlot reports whether a template calls slot, so its Go output goes through go/format:
// fills are written without knowing their neighbours' alignment or import order.
func callsSlot(tree *parse.Tree) bool {
	found := false
	walkCalls(tree.Root, func(fn string, _ parse.Node) { found = found || fn == "slot" })
	return found
}

// walkCalls calls visit for every function call in a template tree whose first argument exists,
// with the function's name and that argument.
func walkCalls(n parse.Node, visit func(fn string, arg parse.Node)) {
	branch := func(b *parse.BranchNode) {
		walkCalls(b.Pipe, visit)
		walkCalls(b.List, visit)
		walkCalls(b.ElseList, visit)
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walkCalls(c, visit)
			}
		}
	case *parse.ActionNode:
		walkCalls(n.Pipe, visit)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				walkCalls(c, visit)
			}
		}
	case *parse.CommandNode:
		if id, ok := n.Args[0].(*parse.IdentifierNode); ok && len(n.Args) > 1 {
			visit(id.Ident, n.Args[1])
		}
		for _, a := range n.Args {
			walkCalls(a, visit)
		}
	case *parse.IfNode:
		branch(&n.BranchNode)
	case *parse.RangeNode:
		branch(&n.BranchNode)
	case *parse.WithNode:
		branch(&n.BranchNode)
	case *parse.TemplateNode:
		walkCalls(n.Pipe, visit)
	}
}

// bind clones the engine's set for one render worker and gives the clone slot, slotted and
// include functions that execute templates of that clone. A worker renders one template at a
// time, so the depth counter needs no lock.
func (e *slotEngine) bind() (*template.Template, error) {
	set, err := e.base.Clone()
	if err != nil {
		return nil, err
	}
	depth := 0
	include := func(name string, data any) (string, error) {
		if depth >= maxIncludeDepth {
			return "", fmt.Errorf("%q: slots and includes nested more than %d deep (a fill calling its own slot?)", name, maxIncludeDepth)
		}
		depth++
		defer func() { depth-- }()
		var buf bytes.Buffer
		if err := set.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	set.Funcs(template.FuncMap{
		"include": include,
		"slot": func(name string, data any) (string, error) {
			if !e.declared[name] {
				return "", fmt.Errorf("slot %q is not declared (declare it under slots: in core/component.yaml)", name)
			}
			var out strings.Builder
			for _, comp := range e.order {
				fill := comp + ":" + name
				if set.Lookup(fill) == nil {
					continue
				}
				s, err := include(fill, data)
				if err != nil {
					return "", err
				}
				out.WriteString(s)
			}
			return out.String(), nil
		},
		"slotted": func(name string) (bool, error) {
			if !e.declared[name] {
				return false, fmt.Errorf("slot %q is not declared (declare it under slots: in core/component.yaml)", name)
			}
			return slices.ContainsFunc(e.order, func(comp string) bool { return set.Lookup(comp+":"+name) != nil }), nil
		},
	})
	return set, nil
}

// Slots lists the slots the catalog's components declare, sorted by name.
func (c *Catalog) Slots() []SlotDecl {
	var out []SlotDecl
	for _, n := range c.Names() {
		out = append(out, c.byName[n].Slots...)
	}
	slices.SortFunc(out, func(a, b SlotDecl) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// declaredSlots is the set of slot names the catalog's components declare.
func (c *Catalog) declaredSlots() map[string]bool {
	out := map[string]bool{}
	for _, comp := range c.byName {
		for _, s := range comp.Slots {
			out[s.Name] = true
		}
	}
	return out
}

// slotOrder sorts components the way slot concatenates their fills: by order (lower first),
// then core, then by the catalog's group order, then by name.
func (c *Catalog) slotOrder(comps []*Component) []*Component {
	out := slices.Clone(comps)
	slices.SortStableFunc(out, func(a, b *Component) int {
		return cmp.Or(
			cmp.Compare(a.Order, b.Order),
			cmp.Compare(rankCore(a), rankCore(b)),
			cmp.Compare(c.groupIndex(a.Group), c.groupIndex(b.Group)),
			cmp.Compare(a.Name, b.Name),
		)
	})
	return out
}

func rankCore(c *Component) int {
	if c.Name == CoreComponent {
		return 0
	}
	return 1
}
