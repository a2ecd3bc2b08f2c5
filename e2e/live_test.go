package e2e

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// liveService is a generated service that runs against servers of its own: a fresh database on
// DATABASE_URL's PostgreSQL server and a Redis key prefix, both removed at cleanup, so tests of
// several services can share the servers at once.
type liveService struct {
	Dir, Name   string
	DatabaseURL string // the service's own database
	RedisURL    string
	RedisPrefix string // REDIS_KEY_PREFIX: its keys are deleted at cleanup
	Psql        string // the psql client's path, for SQL a test runs itself
}

// generateLive generates service name with the stack flags given (framework, database, cache,
// ...; CI and deploy files are left out) into a temp dir, after the checks every test of a
// running service makes: skipped with -short; without DATABASE_URL and REDIS_URL skipped, or
// failed under CI=true. what names the test in the skip message.
func generateLive(t *testing.T, what, name string, flags ...string) liveService {
	t.Helper()
	if testing.Short() {
		t.Skip(what + ": skipped with -short")
	}
	integrationEnv(t) // fails under CI=true without the servers
	if os.Getenv("DATABASE_URL") == "" || os.Getenv("REDIS_URL") == "" {
		t.Skip(what + ": DATABASE_URL and REDIS_URL are not both set; start the servers with scripts/services.sh")
	}
	psql := requireTool(t, "psql", "apt-get install -y postgresql-client")
	l := liveService{Dir: filepath.Join(t.TempDir(), name), Name: name, RedisURL: os.Getenv("REDIS_URL"), Psql: psql}
	args := append([]string{"new", name, "--module", "example.com/" + name}, flags...)
	svcgen(t, append(args, "--ci", "none", "--deploy", "none", "-o", l.Dir)...)
	l.DatabaseURL = createDatabase(t, psql, os.Getenv("DATABASE_URL"))
	l.RedisPrefix = "e2e-" + strings.ToLower(rand.Text()) + ":"
	t.Cleanup(func() {
		redisDo(t, l.RedisURL, "EVAL", "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0", "0", l.RedisPrefix+"*")
	})
	return l
}

// servers is the environment that points the service at its database and Redis prefix.
func (l liveService) servers() []string {
	return []string{"DATABASE_URL=" + l.DatabaseURL, "REDIS_URL=" + l.RedisURL, "REDIS_KEY_PREFIX=" + l.RedisPrefix}
}

// env is servers() followed by the settings given.
func (l liveService) env(settings ...string) []string {
	return append(l.servers(), settings...)
}

// stager returns a logger of a long test's stages with the time since it began, so a slow
// CI log shows where the time went.
func stager(t *testing.T) func(what string) {
	began := time.Now()
	return func(what string) { t.Logf("%6s %s", time.Since(began).Round(time.Second), what) }
}

// seriesRE matches one series (name and labels as the exposition writes them) of a Prometheus
// text scrape and captures its value.
func seriesRE(series string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
}

// hasSeries tells whether a scrape has the series.
func hasSeries(body, series string) bool { return seriesRE(series).MatchString(body) }

// seriesValue is the value of the series in a scrape; the test fails when it is missing.
func seriesValue(t *testing.T, body, series string) float64 {
	t.Helper()
	m := seriesRE(series).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics lacks %s", series)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s = %q: %v", series, m[1], err)
	}
	return v
}

// hungListener is a dependency that hangs, the way a stopped or overloaded server does: it
// listens on a loopback port, accepts connections, reads everything and never answers. It
// returns its address.
func hungListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(io.Discard, c) }) // read everything, answer nothing
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// waitChecks polls /readyz until the checks named pass.
func waitChecks(t *testing.T, s *runningService, deps ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := call(s.URL, "GET", "/readyz", "", nil)
		var rep struct {
			Checks map[string][]struct{ Status string } `json:"checks"`
		}
		_ = json.Unmarshal([]byte(r.body), &rep)
		ready := true
		for _, d := range deps {
			ready = ready && len(rep.Checks[d]) > 0 && rep.Checks[d][0].Status == "pass"
		}
		if ready {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %s after 30s, want %v passing\nlogs:\n%s", r.status, r.body, deps, s.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
