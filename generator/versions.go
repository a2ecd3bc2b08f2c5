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
	"github.com/gin-gonic/gin":       "v1.12.0",
	"github.com/labstack/echo/v5":    "v5.4.4",
	"github.com/go-chi/chi/v5":       "v5.5.0",
	"golang.org/x/time":              "v0.16.0",
	"github.com/jackc/pgx/v5":        "v5.12.0",
	"github.com/go-sql-driver/mysql": "v1.10.1",
	"github.com/redis/go-redis/v9":   "v9.23.0",
	// gomemcache has no releases; the newest commit of its master branch.
	"github.com/bradfitz/gomemcache":      "v0.0.0-20260422231931-4d751bb6e37c",
	"github.com/twmb/franz-go":            "v1.22.3",
	"github.com/twmb/franz-go/pkg/kfake":  "v0.0.0-20260918054303-01f206a7e32c",
	"github.com/rabbitmq/amqp091-go":      "v1.16.0",
	"github.com/prometheus/client_golang": "v1.25.0",
	"github.com/sony/gobreaker/v2":        "v2.4.0",
	"github.com/google/uuid":              "v1.6.0",
	"github.com/quic-go/quic-go":          "v0.65.0",
	"golang.org/x/net":                    "v0.62.0",
	"golang.org/x/crypto":                 "v0.59.0",
	"github.com/getkin/kin-openapi":       "v0.153.0",
	// OpenID Connect discovery and token verification, and the JOSE library under it (raised
	// above go-oidc's minimum to the release with every known advisory fixed).
	"github.com/coreos/go-oidc/v3":  "v3.21.0",
	"github.com/go-jose/go-jose/v4": "v4.1.9",
	// NATS JetStream client (its jetstream package), and its compression module raised above
	// GO-2026-6865 (not imported directly).
	"github.com/nats-io/nats.go":    "v1.55.0",
	"github.com/klauspost/compress": "v1.20.4",
	// OpenTelemetry: API, SDK and the OTLP trace exporters move together.
	"go.opentelemetry.io/otel":                                        "v1.47.0",
	"go.opentelemetry.io/otel/trace":                                  "v1.47.0",
	"go.opentelemetry.io/otel/sdk":                                    "v1.47.0",
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp": "v1.47.0",
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc": "v1.47.0",
	// Test-only modules: JSON Schema validation and YAML (both already in kin-openapi's
	// module graph) and goroutine-leak checks.
	"github.com/santhosh-tekuri/jsonschema/v6": "v6.0.3",
	"go.yaml.in/yaml/v4":                       "v4.0.0",
	"go.uber.org/goleak":                       "v1.3.0",
}

// ToolVersions are the versions of the tools a generated service's CI runs.
type ToolVersions struct {
	// Go is the Go release CI runs: GoVersion's newest patch release (golang.org/toolchain's
	// newest go1.26.x on the module proxy). go.mod's go line is the language version (go mod
	// tidy writes 1.26.0), and setup-go given go-version-file would install exactly that patch
	// release, without the security fixes since. The golang image (Images.Go) has the same
	// release: the Docker official images publish every Go patch release.
	Go           string
	GolangciLint string // github.com/golangci/golangci-lint/v2
	Govulncheck  string // golang.org/x/vuln
}

// Tools pins the tools of generated CI configurations, as Versions pins modules. .ci/run
// installs the same golangci-lint, so svcgen's tests lint with what generated CI runs.
var Tools = ToolVersions{
	Go:           "1.26.11",
	GolangciLint: "v2.15.0",
	Govulncheck:  "v1.9.0",
}

// PinnedAction is a GitHub Action pinned to a commit: a tag can be moved to other code, a commit
// cannot. Commit is the 40-hex commit the tag Version points at, read from the action's own
// repository (git rev-parse VERSION^{commit}), never guessed.
type PinnedAction struct {
	Repo    string // owner/name
	Version string // the release tag the commit is
	Commit  string
}

// String is what a workflow's uses: says: the repository at the commit, the version in a
// comment, which Dependabot reads and updates together with the commit.
func (a PinnedAction) String() string { return a.Repo + "@" + a.Commit + " # " + a.Version }

// ActionPins are the actions generated GitHub workflows use.
type ActionPins struct {
	Checkout     PinnedAction
	SetupGo      PinnedAction
	GolangciLint PinnedAction
	SetupBuildx  PinnedAction
	BuildPush    PinnedAction
}

// Actions pins every action of every generated workflow (ci.yml and svcgen-upgrade.yml), as
// Versions pins modules: one table, so the workflows never disagree.
var Actions = ActionPins{
	Checkout:     PinnedAction{"actions/checkout", "v7.0.1", "3d3c42e5aac5ba805825da76410c181273ba90b1"},
	SetupGo:      PinnedAction{"actions/setup-go", "v7.0.0", "b7ad1dad31e06c5925ef5d2fc7ad053ef454303e"},
	GolangciLint: PinnedAction{"golangci/golangci-lint-action", "v9.3.0", "ba0d7d2ec06a0ea1cb5fa41b2e4a3ab91d21278a"},
	SetupBuildx:  PinnedAction{"docker/setup-buildx-action", "v4.3.0", "37fe631027851001ddb9b187196cc803df7f5f0e"},
	BuildPush:    PinnedAction{"docker/build-push-action", "v7.3.0", "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a"},
}

// ImageVersions are container images of generated CI and docker-compose files.
type ImageVersions struct {
	Go         string // the CI image that vets and tests: Tools.Go
	Postgres   string
	MySQL      string // the MySQL server of compose and CI (the SQL also targets MariaDB 10.6+)
	Redis      string
	RabbitMQ   string // with the management UI (port 15672) for local use
	Memcached  string
	NATS       string // the alpine variant: its shell runs the health check
	Docker     string // the docker CLI that builds the image in GitLab CI
	DockerDind string // the Docker engine it talks to
}

// Images pins the container images generated CI (GitLab's jobs and both systems' service
// containers) and docker-compose.yml run, to exact releases: a moving tag such as postgres:17
// changes what a green pipeline means from one day to the next. The tags are those the Docker
// official images publish (docker-library/official-images, library/<image>); Dependabot
// (GitHub) or Renovate (GitLab) proposes updates. Docker 28 is no longer published (its last
// release was 28.5.2), so the docker CLI and engine are 29.
var Images = ImageVersions{
	Go:         "golang:" + Tools.Go,
	Postgres:   "postgres:17.11",
	MySQL:      "mysql:8.4.11",
	Redis:      "redis:7.4.11",
	RabbitMQ:   "rabbitmq:4.3.5-management",
	Memcached:  "memcached:1.6.41",
	NATS:       "nats:2.15.3-alpine",
	Docker:     "docker:29.7.2",
	DockerDind: "docker:29.7.2-dind",
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
