package generator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
)

// Digest identifies everything a render depends on besides the answers: every file of the
// template trees the catalog was read from (the embedded templates and the overlay, metadata
// included, each file under its tree's layer number and path) and the values templates see
// from svcgen itself (Version, GoVersion, the pinned module, tool, action and image versions). Two catalogs
// with the same digest render the same answers to the same bytes, so the manifest records it:
// `regen` compares it with today's to say whether, and how, the templates changed since the
// service was generated. The form is "sha256:" and 64 hex digits.
func (c *Catalog) Digest() (string, error) {
	return c.digest()
}

func (c *Catalog) computeDigest() (string, error) {
	h := sha256.New()
	field := func(parts ...string) {
		for _, p := range parts {
			h.Write([]byte(strconv.Itoa(len(p)) + ":" + p))
		}
	}
	field("svcgen", Version, "go", GoVersion, "go-release", Tools.Go, "golangci-lint", Tools.GolangciLint, "govulncheck", Tools.Govulncheck)
	field("actions", fmt.Sprint(Actions), "images", fmt.Sprint(Images))
	for _, mod := range slices.Sorted(maps.Keys(Versions)) {
		field("module", mod, Versions[mod])
	}
	for layer, root := range c.roots {
		err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || path.Dir(p) == "." {
				return err // files beside the component folders are no templates
			}
			data, err := fs.ReadFile(root, p)
			if err != nil {
				return err
			}
			field("file", strconv.Itoa(layer), p, string(data))
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("template digest: %w", err)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
