package e2e

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestResourceDoneWhen runs issue O's "Done when" as written: in a gin+postgres+redis+kafka
// service, `add resource order` with three fields and `add resource customer --from
// customer.yaml` give a service that builds, passes `go test -race` against the real PostgreSQL
// and Redis, serves CRUD on /v1/orders and /v1/customers with 400 on a bad enum, documents both
// in OpenAPI and passes `regen --check`; `set resource order` with one more field adds a new
// migration (none rewritten), merges the owner's edit in the order handler and builds; `remove
// resource customer` removes its unedited files.
func TestResourceDoneWhen(t *testing.T) {
	if testing.Short() {
		t.Skip("resources: skipped with -short")
	}
	env := integrationEnv(t) // fails under CI=true without the servers
	if len(env) < 2 {
		t.Skip("resources: DATABASE_URL and REDIS_URL are not both set; start the servers with scripts/services.sh")
	}
	psql := requireTool(t, "psql", "apt-get install -y postgresql-client")
	dir := filepath.Join(t.TempDir(), "shop")
	svcgen(t, "new", "shop", "--module", "example.com/shop", "--framework", "gin",
		"--database", "postgres", "--cache", "redis", "--broker", "kafka", "--metrics", "prometheus",
		"--ci", "none", "--deploy", "none", "-o", dir)
	git := func(args ...string) { t.Helper(); inService(t, dir, nil, "git", args...) }
	git("init", "-q")
	git("add", "-A")
	git("-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "commit", "-qm", "generated")
	commit := func(msg string) {
		t.Helper()
		git("add", "-A")
		git("-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "commit", "-qm", msg)
	}

	// Bad input: an error naming the field and the allowed values, and nothing written.
	for _, bad := range [][]string{
		{"add", "resource", "order", "--field", "total:money"},
		{"add", "resource", "order", "--field", "total:int64:positive"},
		{"add", "resource", "order", "--field", "total:int64", "--field", "total:string"},
		{"add", "resource", "select", "--field", "total:int64"},
		{"add", "resource", "value", "--field", "total:int64"},
	} {
		out, err := svcgenResult(append(bad, "-C", dir)...)
		if err == nil {
			t.Errorf("svcgen %s succeeded:\n%s", strings.Join(bad, " "), out)
		}
		t.Logf("svcgen %s: %s", strings.Join(bad, " "), strings.TrimSpace(out))
	}
	if out, _ := exec.Command("git", "-C", dir, "status", "--porcelain").CombinedOutput(); len(out) > 0 {
		t.Fatalf("a refused add resource wrote files:\n%s", out)
	}

	svcgen(t, "add", "resource", "order", "--field", "customer:string:required", "--field", "total:int64:min=0",
		"--field", "status:enum(new|paid|shipped)", "-C", dir)
	customer := filepath.Join(t.TempDir(), "customer.yaml")
	if err := os.WriteFile(customer, []byte(`name: customer
fields:
  - name: email
    type: string
    required: true
    unique: true
    maxlen: 200
  - name: tier
    type: enum
    values: [free, pro]
    default: free
  - {name: credit, type: decimal, min: 0}
  - {name: active, type: bool, default: "true"}
  - {name: account_id, type: uuid}
  - {name: born_at, type: time}
  - {name: visits, type: int}
  - {name: notes, type: text}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	svcgen(t, "add", "resource", "customer", "--from", customer, "-C", dir)
	commit("resources")

	testEnv := append([]string{"CI=true"}, env...)
	checkService(t, dir, testEnv) // build, vet, go test -race against the real servers

	openapi := string(readFile(t, dir, "api/openapi.yaml"))
	for _, want := range []string{"/v1/orders:", "/v1/orders/{id}:", "/v1/customers:", "/v1/customers/{id}:", "OrderInput:", "CustomerInput:"} {
		if !strings.Contains(openapi, want) {
			t.Errorf("api/openapi.yaml lacks %s", want)
		}
	}

	// Serve: a database of its own, so the resources' migrations meet no other test's.
	dbURL := createDatabase(t, psql, os.Getenv("DATABASE_URL"))
	prefix := "e2e-" + strings.ToLower(rand.Text()) + ":"
	redisURL := os.Getenv("REDIS_URL")
	t.Cleanup(func() {
		redisDo(t, redisURL, "EVAL", "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0", "0", prefix+"*")
	})
	s := startService(t, dir, "shop", []string{"DATABASE_URL=" + dbURL, "REDIS_URL=" + redisURL,
		"REDIS_KEY_PREFIX=" + prefix, fmt.Sprintf("KAFKA_BROKERS=127.0.0.1:%d", freePort(t))})
	waitReady(t, s)
	crud(t, s, "/v1/orders", `{"customer":"ada","total":1200,"status":"new"}`, `{"customer":"ada","total":1500,"status":"paid"}`, "status=paid")
	crud(t, s, "/v1/customers", `{"email":"ada@example.com","credit":500,"account_id":"0190c5a4-0000-7000-8000-000000000001"}`,
		`{"email":"ada@example.com","tier":"pro","born_at":"1990-12-10T00:00:00Z"}`, "tier=pro")
	for path, body := range map[string]string{
		"/v1/orders":    `{"customer":"ada","total":1,"status":"lost"}`,
		"/v1/customers": `{"email":"bob@example.com","tier":"gold"}`,
	} {
		code, ctype, resp := s.do(t, "POST", path, body)
		if code != 400 || ctype != "application/problem+json" || !strings.Contains(resp, `"errors"`) {
			t.Errorf("POST %s with a bad enum = %d %s %s, want 400 problem+json with field errors", path, code, ctype, resp)
		}
	}
	dup := call(s.URL, "POST", "/v1/customers", `{"email":"dup@example.com"}`, map[string]string{"Idempotency-Key": "e2e-1"})
	if dup.status != 201 {
		t.Fatalf("POST customer = %d %s", dup.status, dup.body)
	}
	if again := call(s.URL, "POST", "/v1/customers", `{"email":"dup@example.com"}`, map[string]string{"Idempotency-Key": "e2e-1"}); again.status != 201 || again.id != dup.id || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry with the Idempotency-Key = %d %s, want the first answer replayed", again.status, again.body)
	}
	// Reads go through the cache: the first fills it.
	if code, _, body := s.do(t, "GET", "/v1/customers/"+dup.id, ""); code != 200 {
		t.Fatalf("GET customer = %d %s", code, body)
	}
	if got := redisDo(t, redisURL, "EXISTS", prefix+"customers:"+dup.id); got != ":1" {
		t.Errorf("EXISTS %scustomers:%s = %s, want :1 (the read was not cached)", prefix, dup.id, got)
	}
	if code, _, body := s.do(t, "POST", "/v1/customers", `{"email":"dup@example.com"}`); code != 409 {
		t.Errorf("POST customer with a taken email = %d %s, want 409", code, body)
	}
	s.stop(t)

	if out := svcgen(t, "regen", "--check", "-C", dir); !strings.Contains(out, "in step") {
		t.Errorf("regen --check: %s", out)
	}

	// set resource: a new migration, none rewritten, the owner's edit merged.
	migrations := migrationFiles(t, dir)
	handler := filepath.Join(dir, "internal/server/orders.go")
	src := string(readFile(t, dir, "internal/server/orders.go"))
	const edit = "\t// Owner's note: orders are read far more often than written.\n"
	anchor := "func (h orderHandlers) get(w http.ResponseWriter, r *http.Request) {\n"
	if !strings.Contains(src, anchor) {
		t.Fatalf("internal/server/orders.go has no %q", anchor)
	}
	if err := os.WriteFile(handler, []byte(strings.Replace(src, anchor, anchor+edit, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	commit("owner's edit")
	out := svcgen(t, "set", "resource", "order", "--field", "customer:string:required", "--field", "total:int64:min=0",
		"--field", "status:enum(new|paid|shipped)", "--field", "note:text:maxlen=500", "-C", dir)
	if !strings.Contains(out, "merge     internal/server/orders.go") {
		t.Errorf("set resource did not merge the edited handler:\n%s", out)
	}
	after := migrationFiles(t, dir)
	for name, data := range migrations {
		if after[name] != data {
			t.Errorf("set resource rewrote or removed %s", name)
		}
	}
	var added []string
	for name := range after {
		if _, ok := migrations[name]; !ok {
			added = append(added, name)
		}
	}
	if len(added) != 2 || !strings.Contains(after["0103_alter_orders.up.sql"], "ALTER TABLE orders ADD COLUMN note text") {
		t.Errorf("set resource added migrations %v, want 0103_alter_orders.up.sql and .down.sql adding note", added)
	}
	merged := string(readFile(t, dir, "internal/server/orders.go"))
	if !strings.Contains(merged, edit) || !strings.Contains(merged, `json:"note"`) || strings.Contains(merged, "<<<<<<<") {
		t.Errorf("the merged handler lacks the owner's edit or the new field:\n%s", merged)
	}
	inService(t, dir, nil, "go", "build", "./...")
	inService(t, dir, nil, "go", "vet", "./...")
	inService(t, dir, testEnv, "go", "test", "-race", "-count=1", "./internal/postgres/", "./internal/server/")
	commit("order.note")

	// remove resource: its unedited files go; its migrations stay (a database applied them).
	out = svcgen(t, "remove", "resource", "customer", "-C", dir)
	for _, p := range []string{"internal/customers/customers.go", "internal/server/customers.go", "internal/postgres/customers.go", "internal/postgres/customers_test.go"} {
		if _, err := os.Stat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("remove resource customer left %s (%v)\n%s", p, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "internal/postgres/migrations/0102_create_customers.up.sql")); err != nil {
		t.Errorf("remove resource customer took back an applied migration: %v", err)
	}
	if strings.Contains(string(readFile(t, dir, "api/openapi.yaml")), "/v1/customers") {
		t.Error("api/openapi.yaml still describes /v1/customers")
	}
	inService(t, dir, nil, "go", "build", "./...")
	inService(t, dir, nil, "go", "vet", "./...")
	if out := svcgen(t, "regen", "--check", "-C", dir); !strings.Contains(out, "in step") {
		t.Errorf("regen --check after remove: %s", out)
	}
}

// crud creates, reads, lists (also filtered), updates with If-Match and deletes one resource.
func crud(t *testing.T, s *runningService, path, create, update, filter string) {
	t.Helper()
	r := call(s.URL, "POST", path, create, nil)
	if r.status != 201 || r.id == "" || r.header.Get("ETag") != `"1"` {
		t.Fatalf("POST %s = %d %s %v", path, r.status, r.body, r.err)
	}
	one := path + "/" + r.id
	if code, _, body := s.do(t, "GET", one, ""); code != 200 || !strings.Contains(body, r.id) {
		t.Errorf("GET %s = %d %s", one, code, body)
	}
	u := call(s.URL, "PUT", one, update, map[string]string{"If-Match": `"1"`})
	if u.status != 200 || u.header.Get("ETag") != `"2"` {
		t.Errorf("PUT %s = %d %s", one, u.status, u.body)
	}
	if stale := call(s.URL, "PUT", one, update, map[string]string{"If-Match": `"1"`}); stale.status != 412 {
		t.Errorf("PUT %s with a stale If-Match = %d %s", one, stale.status, stale.body)
	}
	code, _, body := s.do(t, "GET", path+"?limit=10&"+filter, "")
	var page struct {
		Items []struct{ ID string } `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &page); code != 200 || err != nil || len(page.Items) != 1 || page.Items[0].ID != r.id {
		t.Errorf("GET %s?%s = %d %s", path, filter, code, body)
	}
	if d := call(s.URL, "DELETE", one, "", map[string]string{"If-Match": `"2"`}); d.status != 204 {
		t.Errorf("DELETE %s = %d %s", one, d.status, d.body)
	}
	if code, _, body := s.do(t, "GET", one, ""); code != 404 {
		t.Errorf("GET %s after DELETE = %d %s", one, code, body)
	}
}

// migrationFiles reads the service's PostgreSQL migrations by name.
func migrationFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "internal/postgres/migrations"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		out[e.Name()] = string(readFile(t, dir, "internal/postgres/migrations/"+e.Name()))
	}
	return out
}
