package generator

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // git's blob ids are SHA-1; they name objects, they secure nothing here
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// ManifestName is the manifest's file name at the root of a generated service.
const ManifestName = ".svcgen.yaml"

// ManifestFormat is the version of the manifest's schema that svcgen writes; bump it when the
// schema changes so older generators refuse newer manifests instead of misreading them.
//
//   - 1 (svcgen 0.1.0): answers, the overlay, and per file its component and SHA-256.
//   - 2: adds the template set's digest and, per file, the git blob id of the bytes written.
//
// Every format svcgen ever wrote stays readable (readableFormats; testdata/manifests holds one
// of each, and TestReadManifestEveryReleasedFormat reads them).
const ManifestFormat = 2

// readableFormats are the manifest formats this svcgen reads.
var readableFormats = []int{1, 2}

// Version is this generator's release. It is recorded in manifests and so kept as a constant
// (not taken from VCS stamps) to keep output identical across builds of the same release.
const Version = "0.1.0"

// Manifest records what the generator wrote into a service, so that later runs can tell the
// owners' edits from its own output.
type Manifest struct {
	Format    int    `yaml:"format"`
	Generator string `yaml:"generator"`
	// TemplateDigest identifies the exact template set the files were rendered from
	// (Catalog.Digest): two builds can share a version number, never a digest. Empty in
	// manifests of format 1.
	TemplateDigest string `yaml:"template_digest,omitempty"`
	Answers        Spec   `yaml:"answers"`
	// Templates is the --templates overlay directory the service was generated with, if any,
	// relative to the service directory when it can be (RecordOverlay). Every regeneration
	// command renders with LoadTemplates(OverlayDir(dir, manifest)), so the base render and the
	// new one come from the same templates as the service did.
	Templates string         `yaml:"templates,omitempty"`
	Files     []ManifestFile `yaml:"files"`
}

// ManifestFile is one generated file: its owning component and the SHA-256 of the bytes the
// generator wrote (for go.mod and go.sum, the bytes after `go mod tidy`). For a file whose
// owners' edits were merged, "the bytes written" are the render, not the merged file: they are
// the base of the next merge. Blob is the git blob id of the same bytes (`git hash-object`), so
// regeneration can read them back from the service's repository (see findBase); empty in
// manifests of format 1.
type ManifestFile struct {
	Path      string `yaml:"path"`
	Component string `yaml:"component"`
	SHA256    string `yaml:"sha256"`
	Blob      string `yaml:"blob,omitempty"`
}

// entryFor is the manifest entry of a file svcgen wrote.
func entryFor(path, component string, data []byte) ManifestFile {
	return ManifestFile{Path: path, Component: component, SHA256: Hash(data), Blob: GitBlobID(data)}
}

// GitBlobID returns the id git gives data as a blob, as `git hash-object` computes it.
func GitBlobID(data []byte) string {
	h := sha1.New() //nolint:gosec // see the import
	h.Write([]byte("blob " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// Hash returns the hex SHA-256 of data, as the manifest records it.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// NewManifest records files as written.
func NewManifest(s Spec, digest, templates string, files []File) *Manifest {
	m := &Manifest{Format: ManifestFormat, Generator: Version, TemplateDigest: digest, Answers: s, Templates: templates}
	for _, f := range files {
		m.Files = append(m.Files, entryFor(f.Path, f.Component, f.Data))
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	return m
}

// Lookup returns the entry for path.
func (m *Manifest) Lookup(path string) (ManifestFile, bool) {
	i := sort.Search(len(m.Files), func(i int) bool { return m.Files[i].Path >= path })
	if i < len(m.Files) && m.Files[i].Path == path {
		return m.Files[i], true
	}
	return ManifestFile{}, false
}

// Marshal encodes the manifest as YAML with a header saying what the file is.
func (m *Manifest) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# Written by svcgen: the answers this service was generated from and a hash of every\n")
	buf.WriteString("# file it wrote, so `svcgen regen` can keep your edits. Commit it; don't edit the hashes.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// recorded returns answers as a manifest records them: an optional group whose key is missing is
// none (the manifest was written before the group existed, and the service has none of it).
func (s Spec) recorded() Spec {
	for _, g := range Groups {
		if f := s.Field(g.Name); g.Optional && *f == "" {
			*f = None
		}
	}
	return s
}

// ReadManifest reads the manifest of the service in dir, of any format svcgen ever wrote. An
// optional group whose key is missing reads as none: a manifest written before the group existed
// says nothing about it, and a service that never had the group has none of it.
func ReadManifest(dir string) (*Manifest, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s has no %s: run this inside a service generated by svcgen, or pass -C DIR", dir, ManifestName)
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestName), err)
	}
	if !slices.Contains(readableFormats, m.Format) {
		return nil, fmt.Errorf("%s: format %d is not supported by svcgen %s (it reads formats %v): install a newer svcgen", ManifestName, m.Format, Version, readableFormats)
	}
	m.Answers = m.Answers.recorded()
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	return &m, nil
}
