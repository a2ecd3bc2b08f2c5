package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/svcgen/svcgen/generator"
)

// TestMemcachedService is issue M's row for --cache memcached: a service with Memcached in front
// of item reads (echo+postgres+memcached+kafka+prometheus, and gin with Memcached alone) builds,
// vets and passes `go test -race` with CI=true against the real Memcached and PostgreSQL with
// nothing skipped; run, it serves CRUD, a second GET of an item is a cache hit (its entry is in
// Memcached, and with Prometheus cache_requests_total counts the hit), a write deletes the entry
// so the next read sees it, and with Kafka the outbox drains (outbox_pending_events 0).
func TestMemcachedService(t *testing.T) {
	for _, row := range []struct{ framework, database, broker, metrics string }{
		{"echo", "postgres", "kafka", "prometheus"},
		{"gin", "none", "none", "none"},
	} {
		name := strings.Join([]string{row.framework, row.database, "memcached", row.broker, row.metrics}, "-")
		t.Run(name, func(t *testing.T) {
			l := generateLive(t, "memcached", "mc-svc", "--framework", row.framework, "--database", row.database,
				"--cache", "memcached", "--broker", row.broker, "--metrics", row.metrics)
			servers := os.Getenv("MEMCACHED_SERVERS")
			if servers == "" { // integrationEnv, under CI=true, has failed the test already
				t.Skip("memcached: MEMCACHED_SERVERS is not set; start the servers with scripts/services.sh")
			}
			dir := l.Dir
			inService(t, dir, nil, "go", "build", "./...")
			inService(t, dir, nil, "go", "vet", "./...")

			env := []string{"MEMCACHED_SERVERS=" + servers}
			if row.database == "postgres" {
				env = append(env, "DATABASE_URL="+l.DatabaseURL)
			}
			// With CI=true a generated integration test that skips fails the run; and none may skip.
			testNothingSkipped(t, dir, append([]string{"CI=true"}, env...))

			prefix := "e2e-" + strings.ToLower(rand.Text()) + ":"
			svcEnv := append([]string{"MEMCACHED_KEY_PREFIX=" + prefix, "RATE_LIMIT_RPS=0", "LOG_LEVEL=warn"}, env...)
			if row.broker == "kafka" {
				b := startBroker(t, buildDrill(t))
				b.serve(t)
				svcEnv = append(svcEnv, "KAFKA_BROKERS="+b.addr, "KAFKA_TOPIC=mc-"+strings.ToLower(rand.Text())+".items")
			}
			s := startService(t, dir, "mc-svc", svcEnv)
			waitReady(t, s)
			if code, _, body := s.do(t, "GET", "/readyz", ""); code != 200 || !strings.Contains(body, `"memcached"`) {
				t.Errorf("/readyz = %d %s, want 200 naming memcached", code, body)
			}
			metrics := func() string {
				t.Helper()
				code, _, body := s.doAt(t, s.AdminURL, "GET", "/metrics", "")
				if code != 200 {
					t.Fatalf("/metrics = %d", code)
				}
				return body
			}
			cacheReads := func(result string) int {
				t.Helper()
				if row.metrics != "prometheus" {
					return -1
				}
				return int(seriesValue(t, metrics(), `cache_requests_total{result="`+result+`"}`))
			}

			code, _, body := s.do(t, "POST", "/v1/items", `{"name":"cached pen","price":250}`)
			if code != 201 {
				t.Fatalf("create = %d %s", code, body)
			}
			var item struct{ ID string }
			if err := json.Unmarshal([]byte(body), &item); err != nil || item.ID == "" {
				t.Fatalf("create body %s: %v", body, err)
			}
			key := prefix + "items:" + item.ID
			hits, misses := cacheReads("hit"), cacheReads("miss")
			for i := range 2 {
				if code, _, body := s.do(t, "GET", "/v1/items/"+item.ID, ""); code != 200 || !strings.Contains(body, "cached pen") {
					t.Fatalf("get %d = %d %s", i+1, code, body)
				}
			}
			// The first read filled the cache; the second was served from it.
			if got := memcachedGet(t, servers, key); !strings.Contains(got, "cached pen") {
				t.Fatalf("Memcached holds %q under %s, want the item (the read was not cached)", got, key)
			}
			if row.metrics == "prometheus" {
				if h, m := cacheReads("hit")-hits, cacheReads("miss")-misses; h != 1 || m != 1 {
					t.Errorf("two GETs counted %d hits and %d misses in cache_requests_total, want 1 and 1", h, m)
				}
				out := metrics()
				for _, want := range []string{
					`circuit_breaker_state{dependency="memcached"} 0`,
					`cache_requests_total{result="error"} 0`,
				} {
					if !strings.Contains(out, want) {
						t.Errorf("/metrics lacks %s", want)
					}
				}
			}

			// A write deletes the entry: the next read is a miss that sees the new state.
			if code, _, body := s.do(t, "PUT", "/v1/items/"+item.ID, `{"name":"renamed pen","price":300}`); code != 200 {
				t.Fatalf("update = %d %s", code, body)
			}
			if got := memcachedGet(t, servers, key); got != "" {
				t.Errorf("Memcached still holds %q under %s after the update, want it deleted", got, key)
			}
			misses = cacheReads("miss")
			if code, _, body := s.do(t, "GET", "/v1/items/"+item.ID, ""); code != 200 || !strings.Contains(body, "renamed pen") {
				t.Fatalf("get after update = %d %s, want the new name", code, body)
			}
			if row.metrics == "prometheus" && cacheReads("miss")-misses != 1 {
				t.Error("the read after the update was not a cache miss")
			}
			if code, _, body := s.do(t, "GET", "/v1/items", ""); code != 200 || !strings.Contains(body, "renamed pen") {
				t.Errorf("list = %d %s", code, body)
			}
			if code, _, body := s.do(t, "DELETE", "/v1/items/"+item.ID, ""); code != 204 {
				t.Fatalf("delete = %d %s", code, body)
			}
			if code, _, body := s.do(t, "GET", "/v1/items/"+item.ID, ""); code != 404 {
				t.Errorf("get after delete = %d %s, want 404", code, body)
			}

			if row.database == "none" {
				// A Memcached that hangs (accepts connections, never answers): the service
				// still serves every request at once, and /readyz reports the cache failing.
				s.stop(t)
				hung := hungListener(t)
				s := startService(t, dir, "mc-svc", append(svcEnv, "MEMCACHED_SERVERS="+hung, "MEMCACHED_TIMEOUT=100ms"))
				for i := range 5 {
					start := time.Now()
					code, _, body := s.do(t, "POST", "/v1/items", fmt.Sprintf(`{"name":"hung %d","price":1}`, i))
					var it struct{ ID string }
					_ = json.Unmarshal([]byte(body), &it)
					if code != 201 {
						t.Fatalf("create with Memcached hung = %d %s", code, body)
					}
					if code, _, body := s.do(t, "GET", "/v1/items/"+it.ID, ""); code != 200 {
						t.Fatalf("get with Memcached hung = %d %s", code, body)
					}
					if took := time.Since(start); took > 2*time.Second {
						t.Errorf("create and get %d with Memcached hung took %s, want the cache's bounded timeout", i+1, took)
					}
				}
				code, _, body := s.do(t, "GET", "/readyz", "")
				var rep struct {
					Checks map[string][]struct{ Status string } `json:"checks"`
				}
				if err := json.Unmarshal([]byte(body), &rep); err != nil || code != 200 ||
					len(rep.Checks["memcached"]) == 0 || rep.Checks["memcached"][0].Status != "fail" {
					t.Errorf("/readyz with Memcached hung = %d %s, want 200 reporting memcached failing", code, body)
				}
			}

			if row.broker == "kafka" && row.metrics == "prometheus" {
				waitMetric(t, s, "outbox_pending_events", "0", func(v float64) bool { return v == 0 })
			}
		})
	}
}

// memcachedGet reads key from the first server of servers ("" when absent). It speaks just
// enough of Memcached's text protocol for the checks here, so the harness needs no client module.
func memcachedGet(t *testing.T, servers, key string) string {
	t.Helper()
	addr := strings.TrimSpace(strings.Split(servers, ",")[0])
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("memcached %s: %v", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(conn, "get %s\r\n", key); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if line == "END\r\n" {
		return ""
	}
	f := strings.Fields(line) // VALUE <key> <flags> <bytes>
	if len(f) != 4 || f[0] != "VALUE" {
		t.Fatalf("memcached get %s: %q", key, line)
	}
	n, err := strconv.Atoi(f[3])
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

// TestMemcachedDeliveryFiles checks Memcached's wiring in the files that run a service with it,
// with the real validators: a pinned compose service with a health check the app waits for, the
// CI test job's service container (GitHub and GitLab) with MEMCACHED_SERVERS pointing at it, and
// MEMCACHED_SERVERS in the Kubernetes ConfigMap (it carries no secret).
func TestMemcachedDeliveryFiles(t *testing.T) {
	for _, ci := range []string{"github", "gitlab"} {
		t.Run(ci, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "mc-deliver")
			svcgen(t, "new", "mc-deliver", "--module", "example.com/mc-deliver", "--framework", "echo",
				"--database", "postgres", "--cache", "memcached", "--broker", "kafka", "--metrics", "prometheus",
				"--ci", ci, "--deploy", "kubernetes", "-o", dir, "--no-tidy")

			if err := composeConfigErr(t, dir, "docker-compose.yml"); err != nil {
				t.Error(err)
			}
			var compose struct {
				Services map[string]struct {
					Image       string            `yaml:"image"`
					Environment map[string]string `yaml:"environment"`
					DependsOn   map[string]struct {
						Condition string `yaml:"condition"`
					} `yaml:"depends_on"`
					Healthcheck struct {
						Test []string `yaml:"test"`
					} `yaml:"healthcheck"`
				} `yaml:"services"`
			}
			if err := yaml.Unmarshal(readFile(t, dir, "docker-compose.yml"), &compose); err != nil {
				t.Fatal(err)
			}
			mc, app := compose.Services["memcached"], compose.Services["mc-deliver"]
			if mc.Image != generator.Images.Memcached || len(mc.Healthcheck.Test) == 0 {
				t.Errorf("compose memcached = %+v, want image %s with a healthcheck", mc, generator.Images.Memcached)
			}
			if app.Environment["MEMCACHED_SERVERS"] != "memcached:11211" || app.DependsOn["memcached"].Condition != "service_healthy" {
				t.Errorf("compose service: MEMCACHED_SERVERS %q, depends_on %+v; want memcached:11211, waiting for it healthy",
					app.Environment["MEMCACHED_SERVERS"], app.DependsOn)
			}

			switch ci {
			case "github":
				file := filepath.Join(dir, ".github", "workflows", "ci.yml")
				if err := actionlintErr(t, file); err != nil {
					t.Error(err)
				}
				var wf struct {
					Jobs map[string]struct {
						Env      map[string]string `yaml:"env"`
						Services map[string]struct {
							Image   string `yaml:"image"`
							Options string `yaml:"options"`
						} `yaml:"services"`
					} `yaml:"jobs"`
				}
				if err := yaml.Unmarshal(readFile(t, dir, ".github/workflows/ci.yml"), &wf); err != nil {
					t.Fatal(err)
				}
				test := wf.Jobs["test"]
				if svc := test.Services["memcached"]; svc.Image != generator.Images.Memcached || !strings.Contains(svc.Options, "--health-cmd") {
					t.Errorf("test job: memcached service %+v, want image %s with a health check", svc, generator.Images.Memcached)
				}
				if got := test.Env["MEMCACHED_SERVERS"]; got != "localhost:11211" {
					t.Errorf("test job: MEMCACHED_SERVERS = %q, want localhost:11211", got)
				}
			case "gitlab":
				data := readFile(t, dir, ".gitlab-ci.yml")
				if err := gitlabSchemaErr(gitlabSchema(t), data); err != nil {
					t.Errorf(".gitlab-ci.yml does not match GitLab's CI schema: %v", err)
				}
				if !strings.Contains(string(data), "alias: memcached") || !strings.Contains(string(data), "MEMCACHED_SERVERS: memcached:11211") {
					t.Errorf(".gitlab-ci.yml lacks the memcached service or MEMCACHED_SERVERS:\n%s", data)
				}
			}

			out, err := kustomizeBuild(t, filepath.Join(dir, "deploy", "k8s"))
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`(?m)^  MEMCACHED_SERVERS: memcached:11211$`).Match(out) {
				t.Errorf("the ConfigMap kustomize builds lacks MEMCACHED_SERVERS:\n%s", out)
			}
		})
	}
}
