package generator

import (
	"fmt"
	"go/version"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// regenGoMod computes the go.mod that regeneration writes before `go mod tidy` runs, from the
// go.mod on disk, the one the recorded answers render (base, nil when unknown) and the one the
// new answers render. It reports whether the result differs from disk; when it does not, go.mod
// is left alone and tidy need not run for its sake.
//
// go.mod cannot be merged like the other files: `go mod tidy` rewrites it, so the manifest
// records it as tidy left it and no render ever equals that. The rule instead:
//
//   - go.mod is the owners' file with the generator's requirements merged in. Regeneration starts
//     from the go.mod on disk, so every require, replace, exclude, retract, tool, godebug and
//     toolchain line the owners added stays, comments included;
//   - the module path is set from the answers, and the go directive is raised to the generated
//     one when it is lower (an owner's higher go version stays);
//   - every module the new render requires is required at the higher of its pinned version
//     (generator.Versions) and the version on disk, so an owner's upgrade stays and a pin the
//     generator raised for a fix applies. A module the base render required too but that is not
//     on disk is not added back: tidy dropped it because nothing needs it (or its owners removed
//     it), and adding it again would make every regeneration rewrite go.mod and run tidy;
//   - requirements the render no longer has (a removed component's modules) are left in place:
//     `go mod tidy`, which always runs after go.mod changes, drops them when nothing imports
//     them any more, and keeps them when something still does (for instance a file of the
//     removed component its owners edited, which regeneration keeps).
//
// go.sum is whatever `go mod tidy` writes; regeneration never renders or merges it. A go.mod on
// disk that does not parse is an error (the plan reports it as a conflict).
func regenGoMod(disk, base, rendered []byte) (out []byte, changed bool, err error) {
	r, err := modfile.Parse("go.mod (rendered)", rendered, nil)
	if err != nil {
		return nil, false, fmt.Errorf("rendered go.mod: %w", err)
	}
	wasRequired := map[string]bool{}
	if base != nil {
		if b, err := modfile.Parse("go.mod (base)", base, nil); err == nil {
			for _, req := range b.Require {
				wasRequired[req.Mod.Path] = true
			}
		}
	}
	d, err := modfile.Parse("go.mod", disk, nil)
	if err != nil {
		return nil, false, err
	}
	if r.Module != nil && (d.Module == nil || d.Module.Mod.Path != r.Module.Mod.Path) {
		if err := d.AddModuleStmt(r.Module.Mod.Path); err != nil {
			return nil, false, err
		}
		changed = true
	}
	if r.Go != nil && (d.Go == nil || version.Compare("go"+d.Go.Version, "go"+r.Go.Version) < 0) {
		if err := d.AddGoStmt(r.Go.Version); err != nil {
			return nil, false, err
		}
		changed = true
	}
	have := map[string]string{}
	for _, req := range d.Require {
		if v, ok := have[req.Mod.Path]; !ok || semver.Compare(req.Mod.Version, v) > 0 {
			have[req.Mod.Path] = req.Mod.Version
		}
	}
	for _, req := range r.Require {
		v, ok := have[req.Mod.Path]
		switch {
		case !ok && wasRequired[req.Mod.Path]:
			// tidy dropped it, or the owners did: leave it out
		case !ok:
			d.AddNewRequire(req.Mod.Path, req.Mod.Version, false)
			changed = true
		case semver.Compare(v, req.Mod.Version) < 0:
			if err := d.AddRequire(req.Mod.Path, req.Mod.Version); err != nil {
				return nil, false, err
			}
			changed = true
		}
	}
	if !changed {
		return disk, false, nil
	}
	d.SortBlocks()
	d.Cleanup()
	out, err = d.Format()
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}
