package generator

import (
	"slices"
	"sort"
)

// Upgrade is what changed between the templates a service was last generated with and the
// ones rendering now, for the service's recorded answers: `svcgen regen` after installing a
// newer svcgen prints it before the plan.
type Upgrade struct {
	FromVersion, FromDigest string // as the manifest records them; FromDigest is empty in format 1
	ToVersion, ToDigest     string
	// Files are the files whose render changed, sorted by path.
	Files []TemplateChange
}

// TemplateChange is one file whose render changed: "changed", "new" (rendered now, not
// before) or "dropped" (rendered before, not now).
type TemplateChange struct {
	Path   string `json:"path"`
	Change string `json:"change"`
}

// PlanUpgrade compares the render of the recorded answers by c (rendered) with what the manifest
// says svcgen wrote for them. It returns nil when the templates are the same (equal digests),
// and when the manifest records no digest and no file renders differently: then there is
// nothing to tell. go.mod and go.sum are left out (tidy writes them, not the templates alone).
func PlanUpgrade(old *Manifest, c *Catalog, rendered []File) (*Upgrade, error) {
	digest, err := c.Digest()
	if err != nil {
		return nil, err
	}
	if old.TemplateDigest == digest {
		return nil, nil
	}
	u := &Upgrade{FromVersion: old.Generator, FromDigest: old.TemplateDigest, ToVersion: Version, ToDigest: digest}
	now := map[string]bool{}
	for _, f := range rendered {
		if slices.Contains(tidiedFiles, f.Path) {
			continue
		}
		now[f.Path] = true
		switch m, ok := old.Lookup(f.Path); {
		case !ok:
			u.Files = append(u.Files, TemplateChange{Path: f.Path, Change: "new"})
		case m.SHA256 != Hash(f.Data):
			u.Files = append(u.Files, TemplateChange{Path: f.Path, Change: "changed"})
		}
	}
	for _, m := range old.Files {
		if !now[m.Path] && !slices.Contains(tidiedFiles, m.Path) {
			u.Files = append(u.Files, TemplateChange{Path: m.Path, Change: "dropped"})
		}
	}
	if old.TemplateDigest == "" && len(u.Files) == 0 {
		return nil, nil
	}
	sort.Slice(u.Files, func(i, j int) bool { return u.Files[i].Path < u.Files[j].Path })
	return u, nil
}
