package e2e

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMySQLStacks is issue M's `--database mysql` row: generated gin+mysql+redis+kafka+prometheus
// and echo+mysql (no cache, no broker)+prometheus services build, vet and pass `go test -race`
// against MariaDB with CI=true and nothing skipped; run as binaries on a database of their own,
// they serve CRUD with ETags, report mysql in /readyz and on /metrics, and (with Kafka, the drill
// broker's kfake) publish every write: outbox_pending_events drains to 0 and each item is a record
// key on the topic.
func TestMySQLStacks(t *testing.T) {
	if testing.Short() {
		t.Skip("mysql stacks: skipped with -short")
	}
	env := integrationEnv(t, "mysql") // fails under CI=true without the servers
	if os.Getenv("MYSQL_URL") == "" || os.Getenv("REDIS_URL") == "" {
		t.Skip("mysql stacks: MYSQL_URL and REDIS_URL are not both set; start the servers with scripts/services.sh")
	}
	client := requireTool(t, "mariadb", "apt-get install -y mariadb-client")
	for _, stack := range []struct {
		framework, cache, broker string
	}{
		{"gin", "redis", "kafka"},
		{"echo", "none", "none"},
	} {
		t.Run(stack.framework+"-mysql-"+stack.cache+"-"+stack.broker, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "my-svc")
			svcgen(t, "new", "my-svc", "--module", "example.com/my-svc", "--framework", stack.framework,
				"--database", "mysql", "--cache", stack.cache, "--broker", stack.broker, "--metrics", "prometheus",
				"--tracing", "none", "--ci", "github", "--deploy", "kubernetes", "-o", dir)
			inService(t, dir, nil, "go", "build", "./...")
			inService(t, dir, nil, "go", "vet", "./...")
			testNothingSkipped(t, dir, append([]string{"CI=true"}, env...))

			svcEnv := []string{"DATABASE_URL=" + createMySQLDatabase(t, client, os.Getenv("MYSQL_URL")), "RATE_LIMIT_RPS=0", "LOG_LEVEL=warn"}
			if stack.cache == "redis" {
				svcEnv = append(svcEnv, "REDIS_URL="+os.Getenv("REDIS_URL"), "REDIS_KEY_PREFIX=e2e-"+strings.ToLower(rand.Text())+":")
			}
			var b *drillBroker
			topic := "mysql-" + strings.ToLower(rand.Text()) + ".items"
			if stack.broker == "kafka" {
				b = startBroker(t, buildDrill(t))
				b.serve(t)
				svcEnv = append(svcEnv, "KAFKA_BROKERS="+b.addr, "KAFKA_TOPIC="+topic)
			}
			s := startService(t, dir, "my-svc", svcEnv)
			waitReady(t, s)
			if r := call(s.URL, "GET", "/readyz", "", nil); !strings.Contains(r.body, `"mysql"`) {
				t.Errorf("/readyz = %s, want the mysql check named", r.body)
			}

			ids := itemsCRUD(t, s.URL)

			_, _, metrics := s.doAt(t, s.AdminURL, "GET", "/metrics", "")
			for _, want := range []string{`circuit_breaker_state{dependency="mysql"} 0`, "db_pool_max_connections 10", "db_pool_acquired_connections "} {
				if !strings.Contains(metrics, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
			if b == nil {
				return
			}
			// Every write's event leaves the outbox: the backlog drains to 0 and each item is a record key.
			deadline := time.Now().Add(30 * time.Second)
			for {
				_, _, metrics := s.doAt(t, s.AdminURL, "GET", "/metrics", "")
				if strings.Contains(metrics, "\noutbox_pending_events 0\n") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("outbox_pending_events did not drain to 0 within 30s:\n%s\nservice log:\n%s", grepLines(metrics, "outbox_"), tail(s.logs.String(), 20))
				}
				time.Sleep(200 * time.Millisecond)
			}
			if out, err := b.records(topic, ids, 30*time.Second); err != nil {
				t.Errorf("not every write has its event on %s: %v\n%s", topic, err, out)
			}
		})
	}
}

// itemsCRUD creates three items, reads, lists, updates one with its ETag (a stale ETag gets 412)
// and deletes one; it returns the ids written.
func itemsCRUD(t *testing.T, base string) []string {
	t.Helper()
	var ids []string
	for i := range 3 {
		r := call(base, "POST", "/v1/items", fmt.Sprintf(`{"name":"mysql pen %d","price":%d}`, i, 100+i), nil)
		if r.status != 201 || r.id == "" {
			t.Fatalf("POST %d = %d %s", i, r.status, r.body)
		}
		ids = append(ids, r.id)
	}
	item := "/v1/items/" + ids[0]
	got := call(base, "GET", item, "", nil)
	if got.status != 200 || !strings.Contains(got.body, "mysql pen 0") || got.header.Get("ETag") == "" {
		t.Fatalf("GET %s = %d %s (ETag %q)", item, got.status, got.body, got.header.Get("ETag"))
	}
	if list := call(base, "GET", "/v1/items?limit=2", "", nil); list.status != 200 || strings.Count(list.body, `"id"`) != 2 {
		t.Errorf("GET /v1/items?limit=2 = %d %s, want a page of 2", list.status, list.body)
	}
	etag := got.header.Get("ETag")
	put := call(base, "PUT", item, `{"name":"renamed pen","price":300}`, map[string]string{"If-Match": etag})
	if put.status != 200 || !strings.Contains(put.body, "renamed pen") || put.header.Get("ETag") == etag {
		t.Fatalf("PUT with the current ETag = %d %s", put.status, put.body)
	}
	if stale := call(base, "PUT", item, `{"name":"lost","price":1}`, map[string]string{"If-Match": etag}); stale.status != 412 {
		t.Errorf("PUT with a stale ETag = %d %s, want 412", stale.status, stale.body)
	}
	if del := call(base, "DELETE", "/v1/items/"+ids[1], "", nil); del.status != 204 {
		t.Fatalf("DELETE = %d %s", del.status, del.body)
	}
	if gone := call(base, "GET", "/v1/items/"+ids[1], "", nil); gone.status != 404 {
		t.Errorf("GET of a deleted item = %d, want 404", gone.status)
	}
	return ids
}

// createMySQLDatabase creates a database of the test's own on the server of serverURL
// (mysql://user:pass@host:port/db), dropped at cleanup, and returns its URL.
func createMySQLDatabase(t *testing.T, client, serverURL string) string {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	name := "e2e_" + strings.ToLower(rand.Text())
	pass, _ := u.User.Password()
	run := func(sql string) error {
		cmd := exec.Command(client, "-h", u.Hostname(), "-P", u.Port(), "-u", u.User.Username(), "--protocol=tcp", "-e", sql)
		cmd.Env = append(os.Environ(), "MYSQL_PWD="+pass)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s -e %q: %v: %s", client, sql, err, out)
		}
		return nil
	}
	if err := run("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := run("DROP DATABASE " + name); err != nil {
			t.Error(err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
