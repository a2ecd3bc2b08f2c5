package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/svcgen/svcgen/generator/merge"
)

// The planner: what `new` and every regeneration do to each path, decided from the new render,
// the disk and the manifest of the last generation, without writing anything.

// regenState is what the planner leaves for the apply step: the manifest entries of every path
// it decided (go.mod and go.sum are added after tidy), whether go.mod was part of the plan, and
// the changes to the stored bases (BaseDir).
type regenState struct {
	entries []ManifestFile
	goMod   bool
	bases   []Change
}

// PlanRegen plans bringing an existing service (in dir, generated as recorded in old) in step
// with the answers spec (the recorded ones for `svcgen regen`, changed ones for add, remove and
// set) without losing its owners' edits; it reads the disk and writes nothing. For every path
// the new render of spec (from c) produces or the manifest lists, it compares three versions:
//
//   - theirs: the new render of the answers;
//   - ours: the file on disk (in its LF form when every line ends in CRLF: see crlfOnly);
//   - base: the exact bytes svcgen wrote last time, from the first source that has them (see
//     BaseSource: the service's git repository, its stored copy, a re-render by today's
//     templates, the file's git history), each accepted only when its hash is the manifest's;
//
// and decides:
//
//   - absent on disk → Create;
//   - already equal to the render → Unchanged;
//   - on disk but not in the manifest → a file of the owners is in the way: Conflict, left as it
//     is (Overwrite with Force);
//   - unedited since generation (its hash is the manifest's) → Update;
//   - edited → three-way merge of base, ours and theirs: Merge when clean (Unchanged when the
//     merge is the file as it is), Conflict with git-style markers written into the file when
//     both sides changed the same lines, and Conflict (markers around every difference) when
//     no source has the base — never a guess. Change.Base says which source gave it;
//   - in the manifest but no longer rendered → Delete when unedited, Keep (and report) when
//     edited; a kept file is no longer listed in the manifest: it is now the owners' own.
//
// A CRLF file is written back CRLF. go.mod follows regenGoMod's rule and go.sum is what `go mod
// tidy` writes. Files that are neither rendered nor in the manifest are the owners' and never
// looked at.
//
// The manifest records, for every generated file, the hash of the render — not of a merged file
// — so a file its owners edited stays "edited" and its edits survive every later regeneration.
func PlanRegen(c *Catalog, old *Manifest, spec Spec, dir string, opts PlanOptions) (*Plan, error) {
	p, _, err := planRegen(c, old, spec, dir, opts)
	return p, err
}

func planRegen(c *Catalog, old *Manifest, spec Spec, dir string, opts PlanOptions) (*Plan, *regenState, error) {
	for _, name := range opts.Only {
		if !slices.Contains(c.Enabled(spec), name) {
			return nil, nil, fmt.Errorf("component %q is not part of this service: it has %s", name, strings.Join(c.Enabled(spec), ", "))
		}
	}
	files, err := Render(spec, c)
	if err != nil {
		return nil, nil, fmt.Errorf("render: %w", err)
	}
	theirs := byPath(files)
	// The re-render: the recorded answers rendered by the current templates. When that fails
	// (say a recorded component is gone from the catalog) it is no source of bases.
	baseCatalog := c
	if opts.Base != nil {
		baseCatalog = opts.Base
	}
	var rerender map[string]File
	if len(old.Files) > 0 { // nothing was generated before `new`
		if baseFiles, err := Render(old.Answers, baseCatalog); err == nil {
			rerender = byPath(baseFiles)
		}
	}
	var root *os.Root // nil: nothing on disk yet (`new` into an absent or empty target)
	if dir != "" {
		if root, err = os.OpenRoot(dir); err != nil {
			return nil, nil, err
		}
		defer root.Close()
	}
	bases := newBaseFinder(root, dir, rerender)

	included := func(component string) bool {
		return len(opts.Only) == 0 || slices.Contains(opts.Only, component)
	}
	plan := &Plan{Dir: dir, Rendered: files}
	state := &regenState{}
	for _, path := range regenPaths(files, old) {
		t, rendered := theirs[path]
		m, inManifest := old.Lookup(path)
		component := m.Component
		if rendered {
			component = t.Component
		}
		if !included(component) {
			if inManifest {
				state.entries = append(state.entries, m)
			}
			continue
		}
		ch, err := planPath(root, path, t, rendered, m, inManifest, bases, opts.Force)
		if err != nil {
			return nil, nil, err
		}
		ch.Component = component
		if rendered && recordsRender(ch) {
			state.entries = append(state.entries, entryFor(path, t.Component, t.Data))
		}
		plan.Changes = append(plan.Changes, ch)
	}
	if t, ok := theirs["go.mod"]; ok && included(t.Component) {
		ch, err := planGoMod(root, t, old, rerender, opts.Force)
		if err != nil {
			return nil, nil, err
		}
		plan.Changes = append(plan.Changes, ch)
		state.goMod = true
	}
	sort.Slice(plan.Changes, func(i, j int) bool { return plan.Changes[i].Path < plan.Changes[j].Path })
	if state.bases, err = planBases(root, plan, theirs, state.entries); err != nil {
		return nil, nil, err
	}
	return plan, state, nil
}

// planBases plans the stored bases (BaseDir) after the plan. A file the manifest will list
// whose content on disk will differ from its render (an edited, merged or conflicting file)
// needs a copy of the render when nothing else has it: when the render is not the base just
// found (which came from the repository or a copy), because the templates changed. Once made,
// the copy follows the render for as long as the file differs from it. Every other copy is
// deleted, except those of paths the plan left alone (the components `regen COMPONENT` did not
// name). So a regeneration of an edited service whose templates did not change writes nothing.
func planBases(root *os.Root, plan *Plan, theirs map[string]File, entries []ManifestFile) ([]Change, error) {
	have, err := storedBases(root)
	if err != nil {
		return nil, err
	}
	want := map[string][]byte{}
	planned := map[string]bool{}
	for _, c := range plan.Changes {
		planned[c.Path] = true
		t, rendered := theirs[c.Path]
		if !rendered || !recordsRender(c) || slices.Contains(tidiedFiles, c.Path) {
			continue
		}
		after := c.Old
		if c.Writes() {
			after = c.New
		}
		if bytes.Equal(toLF(after), t.Data) {
			continue
		}
		if _, stored := have[c.Path]; stored || !bytes.Equal(c.base, t.Data) {
			want[c.Path] = t.Data
		}
	}
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.Path] = true
	}
	var out []Change
	for _, p := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[p]; !ok && (planned[p] || !listed[p]) {
			out = append(out, Change{Path: BaseDir + "/" + p, Action: Delete, Old: have[p]})
		}
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		old, ok := have[p]
		switch {
		case !ok:
			out = append(out, Change{Path: BaseDir + "/" + p, Action: Create, New: want[p], Mode: 0o644})
		case !bytes.Equal(old, want[p]):
			out = append(out, Change{Path: BaseDir + "/" + p, Action: Update, Old: old, New: want[p], Mode: 0o644})
		}
	}
	return out, nil
}

// storedBases reads every copy under BaseDir, by the path of the file it is the base of.
func storedBases(root *os.Root) (map[string][]byte, error) {
	out := map[string][]byte{}
	if root == nil {
		return out, nil
	}
	err := fs.WalkDir(root.FS(), BaseDir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist) && p == BaseDir:
			return fs.SkipAll
		case err != nil:
			return err
		case !d.Type().IsRegular() || tempRE.MatchString(d.Name()):
			return nil
		}
		data, err := root.ReadFile(filepath.FromSlash(p))
		if err != nil {
			return err
		}
		out[strings.TrimPrefix(p, BaseDir+"/")] = data
		return nil
	})
	return out, err
}

// regenPaths lists, sorted, every path the render produces or the manifest lists, except the
// files tidy owns and the manifest itself.
func regenPaths(files []File, old *Manifest) []string {
	seen := map[string]bool{ManifestName: true}
	for _, name := range tidiedFiles {
		seen[name] = true
	}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, f := range files {
		add(f.Path)
	}
	for _, f := range old.Files {
		add(f.Path)
	}
	sort.Strings(out)
	return out
}

// recordsRender reports whether after the change the manifest lists the path with the hash of
// its render: it does unless the path is deleted, kept as the owners' own, or a file of the
// owners stays in its way.
func recordsRender(c Change) bool {
	switch c.Action {
	case Delete, Keep:
		return false
	case Conflict:
		return c.New != nil
	}
	return true
}

// planPath decides one path other than go.mod and go.sum.
func planPath(root *os.Root, path string, t File, rendered bool, m ManifestFile, inManifest bool, bases *baseFinder, force bool) (Change, error) {
	ch := Change{Path: path}
	if root == nil {
		ch.Action, ch.New, ch.Mode = Create, t.Data, t.Mode
		return ch, nil
	}
	if info, err := root.Stat(filepath.FromSlash(path)); err == nil && info.IsDir() {
		ch.Action, ch.Reason = Conflict, "a directory is in the way"
		return ch, nil
	}
	disk, exists, err := readLocal(root, path)
	if err != nil {
		return ch, fmt.Errorf("%s: %w", path, err)
	}
	ch.Old = disk
	// ours is the disk in LF; eol gives a result the disk's line ends back.
	ours, eol := disk, func(b []byte) []byte { return b }
	if crlfOnly(disk) {
		ours, eol = toLF(disk), toCRLF
	}
	edited := exists && (!inManifest || Hash(disk) != m.SHA256 && Hash(ours) != m.SHA256)
	ch.Edited = exists && inManifest && edited
	if !rendered {
		switch {
		case !exists:
			ch.Action, ch.Reason = Unchanged, "no longer generated, and already gone"
		case edited:
			ch.Action, ch.Reason = Keep, "no longer generated, but edited: kept as yours"
		default:
			ch.Action, ch.Reason = Delete, "no longer generated"
		}
		return ch, nil
	}
	ch.Mode = t.Mode
	switch {
	case !exists:
		ch.Action, ch.New = Create, t.Data
	case bytes.Equal(disk, t.Data) || bytes.Equal(ours, t.Data):
		ch.Action, ch.New = Unchanged, disk
	case !inManifest && force:
		ch.Action, ch.New, ch.Reason = Overwrite, t.Data, "a file svcgen did not write was in the way (--force)"
	case !inManifest:
		ch.Action, ch.Reason = Conflict, "a file svcgen did not write is in the way: move it, or pass --force to replace it"
	case !edited:
		ch.Action, ch.New = Update, eol(t.Data)
	default:
		if info, err := root.Stat(filepath.FromSlash(path)); err == nil {
			ch.Mode = info.Mode().Perm() // the owners' file keeps its mode
		}
		base, source := bases.find(path, m)
		ch.Base, ch.base = source, base
		if source == BaseNone {
			r := merge.Merge(nil, ours, t.Data, conflictLabels)
			ch.Action, ch.New = Conflict, eol(r.Bytes)
			ch.Reason = "edited, and neither the repository, nor a stored copy, nor today's templates have the bytes svcgen wrote, so there is no base to merge from: every difference is marked (base: none)"
			return ch, nil
		}
		r := merge.Merge(base, ours, t.Data, conflictLabels)
		switch {
		case !r.Clean():
			ch.Action, ch.New = Conflict, eol(r.Bytes)
			ch.Reason = fmt.Sprintf("your edits and svcgen's changes overlap: %d conflict%s marked (base: %s)", r.Conflicts, plural(r.Conflicts), source)
		case bytes.Equal(r.Bytes, ours):
			ch.Action, ch.New, ch.Reason = Unchanged, disk, "edited; svcgen has nothing new for it"
		default:
			ch.Action, ch.New, ch.Reason = Merge, eol(r.Bytes), fmt.Sprintf("your edits merged with svcgen's changes (base: %s)", source)
		}
	}
	return ch, nil
}

// planGoMod decides go.mod by regenGoMod's rule.
func planGoMod(root *os.Root, t File, old *Manifest, rerender map[string]File, force bool) (Change, error) {
	ch := Change{Path: t.Path, Component: t.Component, Mode: t.Mode}
	disk, exists, err := readLocal(root, t.Path)
	if err != nil {
		return ch, fmt.Errorf("%s: %w", t.Path, err)
	}
	if !exists {
		ch.Action, ch.New = Create, t.Data
		return ch, nil
	}
	ch.Old = disk
	m, inManifest := old.Lookup(t.Path)
	if !inManifest { // a go.mod svcgen did not write is in the way: as any other file (planPath)
		ch, err := planPath(root, t.Path, t, true, m, false, nil, force)
		ch.Component = t.Component
		return ch, err
	}
	ch.Edited = Hash(disk) != m.SHA256
	var baseMod []byte
	if b, ok := rerender[t.Path]; ok {
		baseMod = b.Data // only its requirements are read: what tidy may have dropped
	}
	out, changed, err := regenGoMod(disk, baseMod, t.Data)
	switch {
	case err != nil:
		ch.Action, ch.Reason = Conflict, fmt.Sprintf("cannot update it: %v", err)
	case !changed:
		ch.Action, ch.New = Unchanged, disk
	case ch.Edited:
		ch.Action, ch.New, ch.Reason = Merge, out, "your requirements kept; `go mod tidy` follows"
	default:
		ch.Action, ch.New, ch.Reason = Update, out, "`go mod tidy` follows"
	}
	return ch, nil
}

func byPath(files []File) map[string]File {
	m := make(map[string]File, len(files))
	for _, f := range files {
		m[f.Path] = f
	}
	return m
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
