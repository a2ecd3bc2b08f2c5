package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMigrateCommand is issue I's "NAME migrate up|status|down|up works on an empty database",
// driven through the built binary as an operator or a Kubernetes Job runs it: an
// echo+postgres+redis+prometheus service gets a fresh database of its own on DATABASE_URL's
// server; a migration changed after it was applied (its recorded checksum altered) is refused
// by up and flagged by status, naming the file; and the service run with MIGRATE_ON_START=false
// applies nothing, reports the pending migration on /readyz, and serves writes once
// `migrate up` has run beside it.
func TestMigrateCommand(t *testing.T) {
	const name = "migrate-svc"
	l := generateLive(t, "migrate command", name, "--framework", "echo", "--database", "postgres",
		"--cache", "redis", "--broker", "none", "--metrics", "prometheus")
	bin := filepath.Join(t.TempDir(), name)
	inService(t, l.Dir, nil, "go", "build", "-o", bin, "./cmd/"+name)
	dbURL := l.DatabaseURL
	svcEnv := l.env("RATE_LIMIT_RPS=0", "LOG_LEVEL=warn")
	migrate := func(wantCode int, args ...string) (stdout, stderr string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"migrate"}, args...)...)
		cmd.Env = append(os.Environ(), svcEnv...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != wantCode {
			t.Fatalf("%s migrate %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), code, wantCode, &out, &errOut)
		}
		return out.String(), errOut.String()
	}
	// statusOf maps each migration's name to its STATE column.
	statusOf := func(out string) map[string]string {
		t.Helper()
		states := map[string]string{}
		for line := range strings.Lines(out) {
			f := strings.Fields(line)
			if len(f) >= 3 && f[0] != "VERSION" {
				states[f[1]] = strings.Join(f[2:len(f)-1], " ")
			}
		}
		return states
	}
	sql := func(stmt string) {
		t.Helper()
		if out, err := exec.Command(l.Psql, dbURL, "-v", "ON_ERROR_STOP=1", "-qc", stmt).CombinedOutput(); err != nil {
			t.Fatalf("psql %q: %v: %s", stmt, err, out)
		}
	}
	all := []string{"0001_create_items", "0002_item_version", "0003_idempotency_keys"}

	// up on the empty database applies every migration, in order.
	out, _ := migrate(0, "up")
	if want := "applied " + strings.Join(all, "\napplied ") + "\n"; out != want {
		t.Errorf("migrate up on an empty database printed\n%s\nwant\n%s", out, want)
	}
	out, _ = migrate(0, "status")
	if st := statusOf(out); len(st) != 3 || st[all[0]] != "applied" || st[all[1]] != "applied" || st[all[2]] != "applied" {
		t.Errorf("status after up = %v, want all three applied:\n%s", st, out)
	}
	if !strings.Contains(out, time.Now().UTC().Format("2006-01-02T")) {
		t.Errorf("status does not show when the migrations were applied:\n%s", out)
	}
	// down rolls back one step, the newest.
	out, _ = migrate(0, "down")
	if out != "rolled back 0003_idempotency_keys\n" {
		t.Errorf("migrate down printed %q, want the newest migration rolled back", out)
	}
	out, _ = migrate(0, "status")
	if st := statusOf(out); st[all[0]] != "applied" || st[all[1]] != "applied" || st[all[2]] != "pending" {
		t.Errorf("status after down = %v, want 0003 pending and the rest applied:\n%s", st, out)
	}
	out, _ = migrate(0, "up")
	if out != "applied 0003_idempotency_keys\n" {
		t.Errorf("migrate up after down printed %q, want 0003 applied again", out)
	}
	if out, _ = migrate(0, "up"); !strings.Contains(out, "nothing to apply") {
		t.Errorf("migrate up with nothing pending printed %q", out)
	}
	// A command line it does not understand: usage naming the subcommands, exit 2.
	if _, errOut := migrate(2, "sideways"); !strings.Contains(errOut, "use up, down or status") || !strings.Contains(errOut, "usage:") {
		t.Errorf("migrate sideways: stderr %q, want the allowed subcommands and the usage", errOut)
	}

	// A migration changed after it was applied: its recorded checksum no longer matches.
	sql(`UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 2`)
	if _, errOut := migrate(1, "up"); !strings.Contains(errOut, "migration 0002_item_version.up.sql was changed after it was applied") {
		t.Errorf("migrate up with a changed migration: stderr %q, want it refused naming the file", errOut)
	}
	out, errOut := migrate(1, "status")
	if st := statusOf(out); !strings.Contains(st[all[1]], "CHANGED") || strings.Contains(st[all[0]], "CHANGED") {
		t.Errorf("status with a changed migration = %v, want 0002 flagged:\n%s", st, out)
	}
	if !strings.Contains(errOut, "0002_item_version.up.sql") {
		t.Errorf("status with a changed migration: stderr %q, want the file named", errOut)
	}
	file, err := os.ReadFile(filepath.Join(l.Dir, "internal/postgres/migrations/0002_item_version.up.sql"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(file)
	sql(`UPDATE schema_migrations SET checksum = '` + hex.EncodeToString(sum[:]) + `' WHERE version = 2`)
	migrate(0, "status")

	// A database that accepts connections and never answers: the command fails within the
	// connect timeout instead of hanging a release pipeline.
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent, until the test ends
		}
	}()
	cmd := exec.Command(bin, "migrate", "up")
	cmd.Env = append(os.Environ(), append(svcEnv, "DATABASE_URL=postgres://app:app@"+hung.Addr().String()+"/app?sslmode=disable", "DB_CONNECT_TIMEOUT=1s")...)
	began := time.Now()
	if out, err := cmd.CombinedOutput(); err == nil || time.Since(began) > 15*time.Second {
		t.Errorf("migrate up against a hung database = %v after %s, want a failure within 15s\n%s", err, time.Since(began).Round(time.Millisecond), out)
	}

	// Serving with MIGRATE_ON_START=false, one migration behind: it applies nothing and says
	// what is pending; `migrate up` beside it (the Job) makes it ready, and writes work.
	migrate(0, "down")
	s := startService(t, l.Dir, name, append(svcEnv, "MIGRATE_ON_START=false"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, body := s.do(t, "GET", "/readyz", "")
		if strings.Contains(body, "0003_idempotency_keys") && strings.Contains(body, "MIGRATE_ON_START=false") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not name the pending migration within 10s: %s\nlogs:\n%s", body, s.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _, body := s.do(t, "POST", "/v1/items", `{"name":"early","price":1}`); code != 503 {
		t.Errorf("POST before the schema is in place = %d %s, want 503", code, body)
	}
	if out, _ = migrate(0, "status"); statusOf(out)[all[2]] != "pending" {
		t.Errorf("the service applied a migration with MIGRATE_ON_START=false:\n%s", out)
	}
	migrate(0, "up")
	waitStorage(t, s)
	if code, _, body := s.do(t, "POST", "/v1/items", `{"name":"after the job","price":1}`); code != 201 {
		t.Errorf("POST once the schema is in place = %d %s, want 201\nlogs:\n%s", code, body, s.logs)
	}
}
