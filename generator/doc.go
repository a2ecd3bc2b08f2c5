// Package generator turns a set of answers (a Spec) into the files of a Go service, writes them
// without ever leaving a half-written tree, and records what it wrote (the manifest,
// .svcgen.yaml) so later runs can tell its own output from the owners' edits.
//
// # The pipeline
//
// Every command runs the same stages; `new` is a regeneration against an empty manifest:
//
//	Spec → Validate → Render → plan → apply → record (tidy + manifest)
//
// The stages:
//
//   - Catalog (catalog.go, groups.go, load.go): the components read from the templates'
//     component.yaml files — embedded, overlaid by --templates DIR — and the groups of choices
//     they declare (groups are data: flags, prompts, answer files and the manifest all come from
//     them).
//   - Spec (spec.go, answers.go, change.go): name, module and the choice of every group; flat
//     YAML, the schema of answer files and of the manifest's answers. add/remove/set edit it.
//   - Render (render.go, slots.go): text/template over each enabled component's files. Core's
//     files offer named slots that components fill from their own partials (_*.tmpl), so core
//     never names a component; docs/templates.md is that contract.
//   - plan (planregen.go, base.go, gomod.go): for every path the render produces or the last
//     manifest lists, compare the render, the disk and the exact bytes svcgen wrote last time,
//     and decide create, update, merge (three-way), conflict, delete, keep or unchanged.
//   - apply (write.go): the one writer. In place for regeneration (every new content written
//     to a temporary file first, then renamed: all or nothing), or into a fresh staging
//     directory beside the target for `new` (moved into place in one rename).
//   - record (tidy.go, manifest.go): `go mod tidy` when go.mod or Go sources changed, then the
//     manifest, written last and atomically.
//
// New (new.go) and Regen (regen.go) are the two entry points; leftovers.go cleans up what an
// interrupted command left, upgrade.go and digest.go say how the templates changed since a
// service was generated, versions.go pins every module a generated service uses.
//
// Start reading at New, then planRegen, apply and record.
package generator
