package generator

import (
	"fmt"
	"os"
	"sync"

	"github.com/svcgen/svcgen/templates"
)

// LoadTemplates returns the catalog of the embedded templates, overlaid by the folder overlayDir
// when it is not empty.
func LoadTemplates(overlayDir string) (*Catalog, error) {
	if overlayDir == "" {
		return embedded()
	}
	info, err := os.Stat(overlayDir)
	if err != nil {
		return nil, fmt.Errorf("--templates %s: %w", overlayDir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("--templates %s is not a directory", overlayDir)
	}
	return loadCatalog(templates.FS, os.DirFS(overlayDir), true)
}

// embedded is the catalog of the embedded templates, read once per process: every command
// needs it (help text, completion, the run itself) and it never changes.
var embedded = sync.OnceValues(func() (*Catalog, error) {
	return loadCatalog(templates.FS, nil, true)
})
