package e2e

// Issue L's dashboards and alerts (deploy/observability, with Prometheus chosen), checked with
// Prometheus' own tools: promtool accepts the rules and passes their unit tests, the PrometheusRule
// carries the same groups as the rules file, every expression of the rules and the dashboard
// parses with Prometheus' PromQL parser, and every metric they name is one a running service
// really exports (or a recording rule of the rules file).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

const (
	// promtoolVersion is the promtool that .ci/run installs: the Prometheus release whose module
	// builds with the Go release svcgen's tests run on.
	promtoolVersion = "v0.316.0"
	installPromtool = "go install -tags remove_all_sd github.com/prometheus/prometheus/cmd/promtool@" + promtoolVersion
)

// ruleFile is the part of a Prometheus rules file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record string `yaml:"record"`
			Alert  string `yaml:"alert"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID           string `json:"uid"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name, Type, Query string
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// grafanaVars stands in for the Grafana variables dashboard expressions use, so that what
// Grafana sends Prometheus can be parsed.
func grafanaVars(name string) *strings.Replacer {
	return strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$job", name)
}

// observability reads a generated service's deploy/observability: the rules file, the
// PrometheusRule's groups (as generic YAML, with the rules file's) and the dashboard.
func observability(t *testing.T, dir string) (rules ruleFile, rulesYAML, operatorYAML any, dash dashboard) {
	t.Helper()
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, "deploy", "observability", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	alerts := read("alerts.yaml")
	if err := yaml.Unmarshal(alerts, &rules); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	var plain map[string]any
	if err := yaml.Unmarshal(alerts, &plain); err != nil {
		t.Fatal(err)
	}
	var pr struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Spec       struct {
			Groups any `yaml:"groups"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(read("prometheusrule.yaml"), &pr); err != nil {
		t.Fatalf("prometheusrule.yaml: %v", err)
	}
	if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" {
		t.Errorf("prometheusrule.yaml is a %s %s, want a monitoring.coreos.com/v1 PrometheusRule", pr.APIVersion, pr.Kind)
	}
	if err := json.Unmarshal(read("dashboard.json"), &dash); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	return rules, plain["groups"], pr.Spec.Groups, dash
}

// metricNames parses expr with Prometheus' parser and returns the metric names it selects.
func metricNames(t *testing.T, where, expr string) []string {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %q does not parse: %v", where, expr, err)
		return nil
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	if len(names) == 0 && !strings.HasPrefix(expr, "vector(") {
		t.Errorf("%s: %q selects no metric", where, expr)
	}
	return names
}

// usedMetrics parses every expression of the rules and the dashboard and returns the metrics
// they select, each with where it is used, and the names the rules record.
func usedMetrics(t *testing.T, name string, rules ruleFile, dash dashboard) (used map[string]string, recorded map[string]bool) {
	t.Helper()
	used, recorded = map[string]string{}, map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
			where := fmt.Sprintf("alerts.yaml group %s rule %s%s", g.Name, r.Record, r.Alert)
			for _, m := range metricNames(t, where, r.Expr) {
				used[m] = where
			}
		}
	}
	vars := grafanaVars(name)
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			where := fmt.Sprintf("dashboard.json panel %q", p.Title)
			for _, m := range metricNames(t, where, vars.Replace(target.Expr)) {
				used[m] = where
			}
		}
	}
	return used, recorded
}

// TestObservabilityRulesAndDashboard generates services with Prometheus and checks their
// deploy/observability without running them: promtool check rules and promtool test rules (the
// generated alerts_test.yaml: a 20x burn pages, a healthy service does not) pass, the
// PrometheusRule carries exactly the rules file's groups, the dashboard has its variables and
// a panel per component the service has, and every expression parses.
func TestObservabilityRulesAndDashboard(t *testing.T) {
	promtool := requireTool(t, "promtool", installPromtool)
	for _, stack := range []struct {
		name   string
		args   []string
		panels []string // titles (prefixes) the dashboard must have
		absent []string // and must not
	}{
		{"obs-full", []string{"--framework", "gin", "--database", "postgres", "--cache", "redis", "--broker", "kafka"},
			[]string{"Database pool", "Cache reads", "Outbox: pending", "Outbox: age", "Circuit breakers"}, nil},
		{"obs-bare", []string{"--framework", "echo", "--database", "none", "--cache", "none", "--broker", "none"},
			nil, []string{"Database pool", "Cache reads", "Outbox", "Circuit breakers"}},
	} {
		t.Run(stack.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), stack.name)
			svcgen(t, append([]string{"new", stack.name, "--metrics", "prometheus", "--ci", "none", "--deploy", "none", "-o", dir}, stack.args...)...)
			obs := filepath.Join(dir, "deploy", "observability")
			if out, err := run(obs, promtool, "check", "rules", "alerts.yaml"); err != nil {
				t.Errorf("promtool check rules alerts.yaml: %v\n%s", err, out)
			}
			if out, err := run(obs, promtool, "test", "rules", "alerts_test.yaml"); err != nil {
				t.Errorf("promtool test rules alerts_test.yaml: %v\n%s", err, out)
			}

			rules, rulesGroups, operatorGroups, dash := observability(t, dir)
			if !reflect.DeepEqual(rulesGroups, operatorGroups) {
				t.Errorf("prometheusrule.yaml's spec.groups differ from alerts.yaml's groups")
			}
			alerts := map[string]bool{}
			for _, g := range rules.Groups {
				for _, r := range g.Rules {
					alerts[r.Alert] = true
				}
			}
			for _, want := range []string{"AvailabilityBudgetBurn", "LatencyBudgetBurn", "InstanceDown"} {
				if !alerts[want] {
					t.Errorf("alerts.yaml has no alert %s", want)
				}
			}
			_, recorded := usedMetrics(t, stack.name, rules, dash) // every expression parses
			for _, w := range []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"} {
				if !recorded["slo:sli_error:ratio_rate"+w] {
					t.Errorf("alerts.yaml records no slo:sli_error:ratio_rate%s", w)
				}
			}

			if dash.UID == "" || len(dash.UID) > 40 || !strings.Contains(dash.UID, stack.name) || dash.SchemaVersion < 39 {
				t.Errorf("dashboard uid %q, schemaVersion %d: want a uid of at most 40 characters from the service name, schemaVersion >= 39", dash.UID, dash.SchemaVersion)
			}
			vars := map[string]string{}
			for _, v := range dash.Templating.List {
				vars[v.Name] = v.Type + " " + v.Query
			}
			if vars["datasource"] != "datasource prometheus" || vars["job"] != "textbox "+stack.name {
				t.Errorf("dashboard variables %v: want datasource (a Prometheus data source) and job (the service name)", vars)
			}
			titles := make([]string, 0, len(dash.Panels))
			for _, p := range dash.Panels {
				titles = append(titles, p.Title)
			}
			has := func(prefix string) bool {
				for _, title := range titles {
					if strings.HasPrefix(title, prefix) {
						return true
					}
				}
				return false
			}
			for _, want := range append([]string{"Requests per second", "Error ratio", "Latency p50 / p90 / p99", "Goroutines", "Heap", "GC"}, stack.panels...) {
				if !has(want) {
					t.Errorf("dashboard has no panel %q: %q", want, titles)
				}
			}
			for _, not := range stack.absent {
				if has(not) {
					t.Errorf("dashboard has a panel %q for a component the service lacks", not)
				}
			}
		})
	}
}

// TestObservabilityNamesExportedMetrics runs a gin+postgres+redis+kafka+prometheus service against
// DATABASE_URL and REDIS_URL (no broker: the outbox waits, its metrics are there), drives a few
// requests, scrapes the admin port's /metrics and checks that every metric the dashboard and
// the rules select is in the scrape or recorded by the rules (up is Prometheus' own), and that
// the latency SLO's threshold is a bucket boundary of the request-duration histogram.
func TestObservabilityNamesExportedMetrics(t *testing.T) {
	const name = "obs-svc"
	l := generateLive(t, "metrics the dashboard names", name, "--framework", "gin", "--database", "postgres",
		"--cache", "redis", "--broker", "kafka", "--metrics", "prometheus")
	rules, _, _, dash := observability(t, l.Dir)
	used, recorded := usedMetrics(t, name, rules, dash)

	s := startService(t, l.Dir, name, l.env("KAFKA_BROKERS=127.0.0.1:1", "RATE_LIMIT_RPS=0", "LOG_LEVEL=warn"))
	waitStorage(t, s)
	code, _, body := s.do(t, "POST", "/v1/items", `{"name":"Widget","price":1}`)
	if code != 201 {
		t.Fatalf("POST /v1/items = %d %s\nlogs:\n%s", code, body, s.logs)
	}
	var item struct{ ID string }
	if err := json.Unmarshal([]byte(body), &item); err != nil {
		t.Fatal(err)
	}
	for range 3 { // a miss, then hits
		if code, _, body := s.do(t, "GET", "/v1/items/"+item.ID, ""); code != 200 {
			t.Fatalf("GET /v1/items/%s = %d %s", item.ID, code, body)
		}
	}
	s.do(t, "GET", "/v1/items/no-such-item", "")

	code, _, scrape := s.doAt(t, s.AdminURL, "GET", "/metrics", "")
	if code != 200 {
		t.Fatalf("GET %s/metrics = %d", s.AdminURL, code)
	}
	exported := map[string]bool{}
	for line := range strings.Lines(scrape) {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		exported[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
	}
	var missing []string
	for m, where := range used {
		if !exported[m] && !recorded[m] && m != "up" {
			missing = append(missing, m+" (in "+where+")")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the dashboard and rules name metrics the service does not export:\n  %s", strings.Join(missing, "\n  "))
	}
	// The latency SLO's threshold (le="..." in its recording rules) is a bucket boundary.
	thresholds := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if _, rest, ok := strings.Cut(r.Expr, `_bucket{`); ok {
				if _, le, ok := strings.Cut(rest, `le="`); ok {
					thresholds[le[:strings.IndexByte(le, '"')]] = true
				}
			}
		}
	}
	if len(thresholds) != 1 {
		t.Errorf("the latency rules read the buckets le=%v, want one threshold", thresholds)
	}
	for le := range thresholds {
		if !strings.Contains(scrape, `http_request_duration_seconds_bucket{method="GET",route="/v1/items/:id",le="`+le+`"}`) {
			t.Errorf("the latency SLO's threshold %s s is not a bucket boundary of http_request_duration_seconds", le)
		}
	}
	for _, want := range []string{
		`cache_requests_total{result="hit"} 2`,
		`cache_requests_total{result="miss"} 2`,
		"db_pool_max_connections ",
		"outbox_oldest_pending_event_age_seconds ",
		`circuit_breaker_state{dependency="postgres"} 0`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", scrape)
	}
}
