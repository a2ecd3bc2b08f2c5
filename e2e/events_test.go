package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestServiceKeepsItsDataPromises is issue H's "Done when", on a generated
// gin+postgres+redis+kafka+prometheus service run as a binary:
//   - its broker a listener that accepts TCP and never answers, 30 POSTs each answer 201 within 1 s
//     (nothing on a request path waits for the broker);
//   - the broker becomes a real one (kfake, same port) while writes go on, the service is killed
//     with SIGKILL and started again: every id that got a 201 is a record key on the topic;
//   - Idempotency-Key: a replay gives the same id, the key with another body 422 (or 409);
//   - If-Match: a stale ETag gets 412, the current one 200;
//   - an item deleted while GETs race the DELETE is 404 afterwards (no stale cache fill).
//
// The Kafka is scripts/drill's broker program (its own module, so svcgen's go.mod needs no Kafka
// client); the service gets a database of its own on DATABASE_URL's server and a Redis key prefix
// of its own.
func TestServiceKeepsItsDataPromises(t *testing.T) {
	l := generateLive(t, "data promises", "promise-svc", "--framework", "gin", "--database", "postgres",
		"--cache", "redis", "--broker", "kafka", "--metrics", "prometheus")
	stage := stager(t)
	drill := buildDrill(t)
	stage("generated; go test -race of the service")
	// The service's generated tests, against the same servers: nothing may be skipped.
	testNothingSkipped(t, l.Dir, l.servers())

	b := startBroker(t, drill)
	topic := "promise-" + strings.ToLower(rand.Text()) + ".items"
	svcEnv := l.env("KAFKA_BROKERS="+b.addr, "KAFKA_TOPIC="+topic, "RATE_LIMIT_RPS=0", "LOG_LEVEL=warn")
	s := startService(t, l.Dir, l.Name, svcEnv)
	waitStorage(t, s)
	var acked ackedIDs

	stage("broker hung: 30 POSTs")
	// 1. The broker hangs: every write is still answered at once.
	for i := range 30 {
		r := call(s.URL, "POST", "/v1/items", fmt.Sprintf(`{"name":"hung %d","price":%d}`, i, 100+i), nil)
		if r.status != 201 || r.took > time.Second {
			t.Errorf("POST %d with the broker hung = %d in %s (%v), want 201 within 1s", i+1, r.status, r.took.Round(time.Millisecond), r.err)
		}
		acked.add(r)
	}
	if t.Failed() {
		t.Logf("service log (last lines):\n%s", tail(s.logs.String(), 20))
	}

	stage("under load: broker real, kill -9, restart")
	// 2. Under load: the broker becomes real, then the service is killed and started again.
	ctx, stopLoad := context.WithCancel(context.Background())
	var load sync.WaitGroup
	base := s.URL // the restarted service listens on the same port
	for w := range 4 {
		load.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				acked.add(call(base, "POST", "/v1/items", fmt.Sprintf(`{"name":"load %d-%d","price":1}`, w, n), nil))
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(time.Second)
	b.serve(t)
	time.Sleep(time.Second)
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()
	s = restartService(t, s, svcEnv)
	waitStorage(t, s)
	time.Sleep(2 * time.Second)
	stopLoad()
	load.Wait()

	stage("reading the topic back")
	ids := acked.list()
	if len(ids) <= 30 {
		t.Fatalf("only %d writes acknowledged in all: the load got no 201 (service log, last lines:\n%s)", len(ids), tail(s.logs.String(), 20))
	}
	out, err := b.records(topic, ids, 60*time.Second)
	if err != nil {
		t.Errorf("not every acknowledged write has its event on %s (%d acknowledged): %v\n%s\nservice log (last lines):\n%s", topic, len(ids), err, out, tail(s.logs.String(), 20))
	} else {
		t.Logf("%d acknowledged writes, each a record key on %s", len(ids), topic)
	}

	stage("Idempotency-Key, If-Match, delete races")
	// 3. Idempotency-Key: a replay is the first response; the key with another body is refused.
	key := map[string]string{"Idempotency-Key": "e2e-" + rand.Text()}
	first := call(s.URL, "POST", "/v1/items", `{"name":"once","price":10}`, key)
	replay := call(s.URL, "POST", "/v1/items", `{"name":"once","price":10}`, key)
	if first.status != 201 || first.id == "" {
		t.Fatalf("POST with an Idempotency-Key = %d %s", first.status, first.body)
	}
	if replay.status != 201 || replay.id != first.id {
		t.Errorf("replayed POST = %d id %q, want 201 with the first id %q", replay.status, replay.id, first.id)
	}
	if other := call(s.URL, "POST", "/v1/items", `{"name":"twice","price":11}`, key); other.status != 422 && other.status != 409 {
		t.Errorf("reused Idempotency-Key with another body = %d %s, want 422 (or 409)", other.status, other.body)
	}

	// 4. If-Match: a stale ETag loses, the current one wins.
	ifMatch(t, s.URL, "/v1/items/"+first.id)

	// 5. Reads racing a delete never leave the item readable afterwards: on a cached item (the
	// delete must invalidate it) and on an uncached one (a read that missed before the delete
	// must not fill the cache after it).
	for round := range 30 {
		c := call(s.URL, "POST", "/v1/items", fmt.Sprintf(`{"name":"doomed %d","price":5}`, round), nil)
		if c.status != 201 {
			t.Fatalf("round %d: create = %d %s", round, c.status, c.body)
		}
		path := "/v1/items/" + c.id
		if round%2 == 0 {
			call(s.URL, "GET", path, "", nil) // a cached copy to go stale
		}
		start := make(chan struct{})
		deleted := make(chan struct{})
		var readers sync.WaitGroup
		for range 6 {
			readers.Go(func() {
				<-start
				for {
					call(s.URL, "GET", path, "", nil)
					select {
					case <-deleted:
						return
					default:
					}
				}
			})
		}
		close(start)
		del := call(s.URL, "DELETE", path, "", nil)
		time.Sleep(50 * time.Millisecond) // reads that started before the delete finish after it
		close(deleted)
		readers.Wait()
		if del.status != 204 {
			t.Fatalf("round %d: DELETE = %d %s", round, del.status, del.body)
		}
		for i := range 2 {
			if r := call(s.URL, "GET", path, "", nil); r.status != 404 {
				t.Errorf("round %d: GET %d after the delete = %d %s, want 404", round, i+1, r.status, r.body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// result is one request's outcome.
type result struct {
	status int
	header http.Header
	body   string
	id     string // the item's id in a 2xx body
	took   time.Duration
	err    error
}

// call makes one request with a 10 s bound; a transport error is a result with status 0.
func call(base, method, path, body string, hdr map[string]string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		return result{err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return result{took: time.Since(start), err: err}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, header: resp.Header, body: string(data), took: time.Since(start)}
	if resp.StatusCode/100 == 2 {
		var it struct{ ID string }
		_ = json.Unmarshal(data, &it)
		r.id = it.ID
	}
	return r
}

// ackedIDs collects the ids of the writes answered 201, from several goroutines.
type ackedIDs struct {
	mu  sync.Mutex
	ids []string
}

func (a *ackedIDs) add(r result) {
	if r.status != 201 || r.id == "" {
		return
	}
	a.mu.Lock()
	a.ids = append(a.ids, r.id)
	a.mu.Unlock()
}

func (a *ackedIDs) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.ids...)
}

// waitStorage polls /readyz until PostgreSQL (migrated) and Redis pass; the broker may not.
func waitStorage(t *testing.T, s *runningService) {
	t.Helper()
	waitChecks(t, s, "postgres", "redis")
}

// restartService starts the binary of s (which has exited) again on the same ports.
func restartService(t *testing.T, s *runningService, env []string) *runningService {
	t.Helper()
	cmd := exec.Command(s.Bin)
	cmd.Env = append(os.Environ(), append([]string{fmt.Sprintf("PORT=%d", s.Port), fmt.Sprintf("ADMIN_PORT=%d", s.AdminPort)}, env...)...)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s2 := &runningService{URL: s.URL, Port: s.Port, AdminURL: s.AdminURL, AdminPort: s.AdminPort, Bin: s.Bin, cmd: cmd, logs: s.logs}
	t.Cleanup(func() { s2.stop(t) })
	return s2
}

// buildDrill builds scripts/drill, whose broker and records commands are the test's Kafka.
func buildDrill(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "drill")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "scripts", "drill")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building scripts/drill: %v\n%s", err, out)
	}
	return bin
}

// drillBroker is `drill broker`: a port that hangs, then serves kfake.
type drillBroker struct {
	bin, addr string
	cmd       *exec.Cmd
	lines     *bufio.Scanner
}

func startBroker(t *testing.T, bin string) *drillBroker {
	t.Helper()
	cmd := exec.Command(bin, "broker", "-port", "0", "-exit-on-eof")
	stdin, err := cmd.StdinPipe() // closed when the test process ends: the broker exits with it
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		stdin.Close()
		_ = cmd.Wait()
	})
	b := &drillBroker{bin: bin, cmd: cmd, lines: bufio.NewScanner(stdout)}
	b.addr = b.expect(t, "hung")
	return b
}

// expect reads the broker's next line, "WORD ADDR", and returns ADDR.
func (b *drillBroker) expect(t *testing.T, word string) string {
	t.Helper()
	if !b.lines.Scan() {
		t.Fatalf("drill broker said nothing (%v), want %q", b.lines.Err(), word)
	}
	w, addr, _ := strings.Cut(b.lines.Text(), " ")
	if w != word {
		t.Fatalf("drill broker said %q, want %q", b.lines.Text(), word)
	}
	return addr
}

// serve makes the hung port a real Kafka and waits until it is one.
func (b *drillBroker) serve(t *testing.T) {
	t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	b.expect(t, "serving")
}

// records reads topic until every key of want is a record key, at most timeout.
func (b *drillBroker) records(topic string, want []string, timeout time.Duration) (string, error) {
	cmd := exec.Command(b.bin, "records", "-brokers", b.addr, "-topic", topic, "-want", "-", "-timeout", timeout.String())
	cmd.Stdin = strings.NewReader(strings.Join(want, "\n"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil {
		return stderr.String(), err
	}
	return "", nil
}

// createDatabase creates a database of the test's own on the server of serverURL, dropped at
// cleanup, and returns its URL.
func createDatabase(t *testing.T, psql, serverURL string) string {
	t.Helper()
	name := "e2e_" + strings.ToLower(rand.Text())
	run := func(sql string) error {
		out, err := exec.Command(psql, serverURL, "-v", "ON_ERROR_STOP=1", "-qc", sql).CombinedOutput()
		if err != nil {
			return fmt.Errorf("psql %q: %v: %s", sql, err, out)
		}
		return nil
	}
	if err := run("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := run("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// testNothingSkipped runs the service's tests with -race against the servers in env and fails
// when one of them skipped: the Done-when of issue H asks for every one to run.
func testNothingSkipped(t *testing.T, dir string, env []string) {
	t.Helper()
	cmd := exec.Command("go", "test", "-race", "-count=1", "-v", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test in the generated service: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, "--- SKIP") {
			t.Errorf("a generated test skipped with the servers up: %s", strings.TrimSpace(line))
		}
	}
}

// tail is the last n lines of a log.
func tail(log string, n int) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// ifMatch checks optimistic concurrency on one item: PUT with the current ETag is 200 with a new
// ETag, PUT with the replaced one is 412, PUT with the new one is 200.
func ifMatch(t *testing.T, base, item string) {
	t.Helper()
	got := call(base, "GET", item, "", nil)
	etag := got.header.Get("ETag")
	if got.status != 200 || etag == "" {
		t.Errorf("GET %s = %d, ETag %q; want 200 with an ETag", item, got.status, etag)
		return
	}
	upd := call(base, "PUT", item, `{"name":"once, renamed","price":12}`, map[string]string{"If-Match": etag})
	if upd.status != 200 || upd.header.Get("ETag") == "" || upd.header.Get("ETag") == etag {
		t.Errorf("PUT with the current If-Match = %d, ETag %q (was %q); want 200 and a new ETag", upd.status, upd.header.Get("ETag"), etag)
		return
	}
	if stale := call(base, "PUT", item, `{"name":"lost update","price":13}`, map[string]string{"If-Match": etag}); stale.status != 412 {
		t.Errorf("PUT with a stale If-Match = %d %s, want 412", stale.status, stale.body)
	}
	if cur := call(base, "PUT", item, `{"name":"once, again","price":14}`, map[string]string{"If-Match": upd.header.Get("ETag")}); cur.status != 200 {
		t.Errorf("PUT with the current If-Match = %d %s, want 200", cur.status, cur.body)
	}
}
