package generator

import (
	"fmt"
	"sort"
)

// GoVersion is the language version every generated go.mod declares.
const GoVersion = "1.26"

// Versions pins every Go module a generated service may require. It is the one table to change
// when a dependency moves: components name modules in their metadata and never carry versions.
// Majors are chosen for maintenance and security (Echo v5: v4 has spoofing advisories with no v4
// fix). Some entries are not imported directly but raise a transitive module to a release that
// fixes a known advisory; a component lists them like any other module and `go mod tidy` keeps
// them as indirect requirements.
var Versions = map[string]string{
	"github.com/gin-gonic/gin":            "v1.12.0",
	"github.com/labstack/echo/v5":         "v5.4.4",
	"github.com/go-chi/chi/v5":            "v5.5.0",
	"golang.org/x/time":                   "v0.16.0",
	"github.com/jackc/pgx/v5":             "v5.12.0",
	"github.com/redis/go-redis/v9":        "v9.23.0",
	"github.com/twmb/franz-go":            "v1.22.3",
	"github.com/twmb/franz-go/pkg/kfake":  "v0.0.0-20260918054303-01f206a7e32c",
	"github.com/prometheus/client_golang": "v1.25.0",
	"github.com/sony/gobreaker/v2":        "v2.4.0",
	"github.com/google/uuid":              "v1.6.0",
	"github.com/quic-go/quic-go":          "v0.65.0",
	"golang.org/x/net":                    "v0.62.0",
	"golang.org/x/crypto":                 "v0.59.0",
	"github.com/getkin/kin-openapi":       "v0.153.0",
	// Test-only modules: JSON Schema validation and YAML (both already in kin-openapi's
	// module graph) and goroutine-leak checks.
	"github.com/santhosh-tekuri/jsonschema/v6": "v6.0.3",
	"go.yaml.in/yaml/v4":                       "v4.0.0",
	"go.uber.org/goleak":                       "v1.3.0",
}

// ToolVersions are the versions of the tools a generated service's CI runs.
type ToolVersions struct {
	GolangciLint string // github.com/golangci/golangci-lint/v2
	Govulncheck  string // golang.org/x/vuln
}

// Tools pins the tools of generated CI configurations, as Versions pins modules. .ci/run
// installs the same golangci-lint, so svcgen's tests lint with what generated CI runs.
var Tools = ToolVersions{
	GolangciLint: "v2.15.0",
	Govulncheck:  "v1.9.0",
}

// Module is one requirement line of a generated go.mod.
type Module struct {
	Path    string
	Version string
}

// requirements resolves the modules of the enabled components against Versions, sorted by path.
// A module missing from the table is an error: a version must never be guessed.
func requirements(comps []*Component) ([]Module, error) {
	seen := map[string]bool{}
	var out []Module
	for _, comp := range comps {
		for _, m := range comp.Modules {
			if seen[m] {
				continue
			}
			seen[m] = true
			v, ok := Versions[m]
			if !ok {
				return nil, fmt.Errorf("component %s requires module %s, which has no pinned version in generator.Versions", comp.Name, m)
			}
			out = append(out, Module{Path: m, Version: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}
