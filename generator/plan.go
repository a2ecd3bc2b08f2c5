package generator

import (
	"io/fs"
	"slices"
)

// Action is what a plan does to one path.
type Action string

// The actions a plan can take. Commands differ only in which of them they allow.
const (
	Create    Action = "create"    // absent on disk: written
	Overwrite Action = "overwrite" // present but not ours (new --force): replaced
	Update    Action = "update"    // ours and unedited: replaced by the new render
	Merge     Action = "merge"     // edited by its owners: three-way merged cleanly
	Conflict  Action = "conflict"  // could not be merged or is in the way: left for a person
	Delete    Action = "delete"    // no longer rendered and unedited: removed
	Keep      Action = "keep"      // no longer rendered but edited: kept and reported
	Unchanged Action = "unchanged" // already as it should be: not touched
)

// Change is the plan for one path.
type Change struct {
	Path      string `json:"path"`
	Component string `json:"component"`
	Action    Action `json:"action"`
	Reason    string `json:"reason,omitempty"`
	// Edited is set when the file's owners changed it since svcgen wrote it (regeneration only).
	Edited bool `json:"edited,omitempty"`
	// Base says where the base of a three-way merge came from (edited files only).
	Base BaseSource  `json:"base,omitempty"`
	base []byte      // the base's bytes, when Base found them
	Old  []byte      `json:"-"` // what is on disk now (nil when absent)
	New  []byte      `json:"-"` // what will be on disk afterwards (nil when deleted, or when a conflict leaves the file as it is)
	Mode fs.FileMode `json:"-"`
}

// Writes reports whether applying the change touches the disk. A conflict writes when it puts
// conflict markers into the file, and not when it leaves a file in the way as it is.
func (c Change) Writes() bool {
	switch c.Action {
	case Unchanged, Keep:
		return false
	case Conflict:
		return c.New != nil
	}
	return true
}

// Plan is the list of changes to a service directory, sorted by path, plus the full render the
// manifest is built from.
type Plan struct {
	Dir      string   `json:"dir"`
	Changes  []Change `json:"changes"`
	Rendered []File   `json:"-"`
}

// Count returns how many changes have action a.
func (p *Plan) Count(a Action) int {
	n := 0
	for _, c := range p.Changes {
		if c.Action == a {
			n++
		}
	}
	return n
}

// sortFiles orders files by path, the order everything is listed and written in.
func sortFiles(files []File) {
	slices.SortFunc(files, func(a, b File) int {
		switch {
		case a.Path < b.Path:
			return -1
		case a.Path > b.Path:
			return 1
		}
		return 0
	})
}
