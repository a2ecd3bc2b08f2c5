package migrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// memory is a Driver over a map: the rules of the runner tested without a database
// (the database component's tests run the same rules against the real one).
type memory struct {
	records   map[int64]Record
	ran       []string // the SQL run, in order
	lockFails int      // sessions that fail with ErrLockTimeout before one succeeds
	sessions  int
}

func (d *memory) Session(ctx context.Context, fn func(context.Context, Session) error) error {
	d.sessions++
	if d.lockFails > 0 {
		d.lockFails--
		return fmt.Errorf("items: %w", ErrLockTimeout)
	}
	saved := maps.Clone(d.records) // a session is all or nothing
	if err := fn(ctx, d); err != nil {
		d.records = saved
		return err
	}
	return nil
}

func (d *memory) Applied(context.Context) ([]Record, error) {
	return slicesOf(d.records), nil
}

func (d *memory) Apply(_ context.Context, m Migration) error {
	if strings.Contains(m.Up, "FAIL") {
		return errors.New("syntax error")
	}
	d.ran = append(d.ran, m.Up)
	d.records[m.Version] = Record{Version: m.Version, Name: m.Name, Checksum: m.Checksum, AppliedAt: time.Now()}
	return nil
}

func (d *memory) Revert(_ context.Context, m Migration) error {
	d.ran = append(d.ran, m.Down)
	delete(d.records, m.Version)
	return nil
}

func (d *memory) Adopt(_ context.Context, m Migration) error {
	r := d.records[m.Version]
	r.Name, r.Checksum = m.Name, m.Checksum
	d.records[m.Version] = r
	return nil
}

func slicesOf(m map[int64]Record) []Record {
	var out []Record
	for _, r := range m {
		out = append(out, r)
	}
	return out
}

func files(pairs ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, name := range pairs {
		fsys["m/"+name+".up.sql"] = &fstest.MapFile{Data: []byte("up " + name)}
		fsys["m/"+name+".down.sql"] = &fstest.MapFile{Data: []byte("down " + name)}
	}
	return fsys
}

func runner(t *testing.T, d *memory, names ...string) *Runner {
	t.Helper()
	ms, err := Load(files(names...), "m")
	if err != nil {
		t.Fatal(err)
	}
	return New(d, ms, slog.New(slog.DiscardHandler), WithLockRetries(3, time.Millisecond))
}

func TestLoadSortsAndPairs(t *testing.T) {
	ms, err := Load(files("0010_c", "0002_b", "0001_a"), "m")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, fmt.Sprintf("%d:%s:%s:%s", m.Version, m.Name, m.Up, m.Down))
	}
	want := "1:0001_a:up 0001_a:down 0001_a 2:0002_b:up 0002_b:down 0002_b 10:0010_c:up 0010_c:down 0010_c"
	if strings.Join(got, " ") != want {
		t.Errorf("Load = %v, want %s", got, want)
	}
	if want := "811cd7f93376fdae7384d8f8f02b6afcd9b0481b156fd581172df9a2950a4e44"; ms[0].Checksum != want { // sha256sum of "up 0001_a"
		t.Errorf("checksum = %q, want the up file's SHA-256 %s", ms[0].Checksum, want)
	}
}

func TestLoadRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		fsys fstest.MapFS
		want string
	}{
		// 0002 and 02 are not neighbours by file name; sorted by version they are.
		"duplicate version": {files("0002_b", "0003_c", "02_x"), "migrations 0002_b.up.sql and 02_x.up.sql have the same version 2"},
		"no down":           {fstest.MapFS{"m/0001_a.up.sql": {Data: []byte("x")}}, "0001_a.up.sql has no 0001_a.down.sql"},
		"no up":             {fstest.MapFS{"m/0001_a.down.sql": {Data: []byte("x")}}, "0001_a.down.sql has no 0001_a.up.sql"},
		"bad name":          {fstest.MapFS{"m/create.up.sql": {Data: []byte("x")}}, "migration create.up.sql: name it NNNN_description.up.sql"},
		"no direction":      {fstest.MapFS{"m/0001_a.sql": {Data: []byte("x")}}, "migration 0001_a.sql: name it"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(tc.fsys, "m")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestUpDownUp(t *testing.T) {
	d := &memory{records: map[int64]Record{}}
	r := runner(t, d, "0001_a", "0002_b", "0003_c")
	ctx := context.Background()
	if got, err := r.Up(ctx); err != nil || len(got) != 3 {
		t.Fatalf("Up = %v, %v; want 3 applied", got, err)
	}
	if err := r.Check(ctx); err != nil {
		t.Errorf("Check after Up: %v", err)
	}
	if got, err := r.Up(ctx); err != nil || len(got) != 0 {
		t.Errorf("Up again = %v, %v; want nothing to do", got, err)
	}
	got, err := r.Down(ctx, 1)
	if err != nil || len(got) != 1 || got[0].Name != "0003_c" {
		t.Fatalf("Down 1 = %v, %v; want 0003_c", got, err)
	}
	if err := r.Check(ctx); err == nil || !strings.Contains(err.Error(), "pending: 0003_c") {
		t.Errorf("Check after Down = %v, want 0003_c pending", err)
	}
	st, err := r.Status(ctx)
	if err != nil || len(st) != 3 || !st[1].Applied || st[2].Applied {
		t.Errorf("Status = %+v, %v; want 0003_c alone pending", st, err)
	}
	if got, err := r.Down(ctx, 5); err != nil || len(got) != 2 || got[0].Name != "0002_b" {
		t.Errorf("Down 5 = %v, %v; want the two left, newest first", got, err)
	}
	if got, err := r.Up(ctx); err != nil || len(got) != 3 {
		t.Errorf("Up after rolling back all = %v, %v", got, err)
	}
	want := "up 0001_a|up 0002_b|up 0003_c|down 0003_c|down 0002_b|down 0001_a|up 0001_a|up 0002_b|up 0003_c"
	if strings.Join(d.ran, "|") != want {
		t.Errorf("ran %s\nwant %s", strings.Join(d.ran, "|"), want)
	}
}

func TestChangedMigrationIsRefused(t *testing.T) {
	d := &memory{records: map[int64]Record{}}
	r := runner(t, d, "0001_a", "0002_b")
	ctx := context.Background()
	if _, err := r.UpTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	rec := d.records[1]
	rec.Checksum = strings.Repeat("0", 64)
	d.records[1] = rec
	for name, call := range map[string]func() error{
		"up":     func() error { _, err := r.Up(ctx); return err },
		"down":   func() error { _, err := r.Down(ctx, 1); return err },
		"status": func() error { _, err := r.Status(ctx); return err },
		"check":  func() error { return r.Check(ctx) },
	} {
		var changed *ChangedError
		if err := call(); !errors.As(err, &changed) || !strings.Contains(err.Error(), "migration 0001_a.up.sql was changed") {
			t.Errorf("%s with a changed migration = %v, want an error naming 0001_a.up.sql", name, err)
		}
	}
	if _, ok := d.records[2]; ok {
		t.Error("Up applied 0002_b despite the changed 0001_a")
	}
	st, _ := r.Status(ctx)
	if !st[0].Changed || st[1].Changed {
		t.Errorf("Status = %+v, want 0001_a flagged changed", st)
	}
}

func TestRowsWithoutChecksumAreAdopted(t *testing.T) {
	// As an older runner left them: file names as names, no checksum.
	d := &memory{records: map[int64]Record{1: {Version: 1, Name: "0001_a.sql"}}}
	r := runner(t, d, "0001_a", "0002_b")
	ctx := context.Background()
	if st, err := r.Status(ctx); err != nil || !st[0].Applied || st[0].Changed {
		t.Fatalf("Status before adoption = %+v, %v; want 0001_a applied, not flagged", st, err)
	}
	if got, err := r.Up(ctx); err != nil || len(got) != 1 || got[0].Name != "0002_b" {
		t.Fatalf("Up = %v, %v; want 0002_b only", got, err)
	}
	if rec := d.records[1]; rec.Checksum != r.Migrations()[0].Checksum || rec.Name != "0001_a" {
		t.Errorf("record of 0001_a = %+v, want the file's checksum and name", rec)
	}
}

func TestFailedMigrationKeepsNothingOfItsSession(t *testing.T) {
	fsys := files("0001_a")
	fsys["m/0002_b.up.sql"] = &fstest.MapFile{Data: []byte("FAIL")}
	fsys["m/0002_b.down.sql"] = &fstest.MapFile{Data: []byte("x")}
	ms, err := Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	d := &memory{records: map[int64]Record{}}
	_, err = New(d, ms, slog.New(slog.DiscardHandler)).Up(context.Background())
	if err == nil || !strings.Contains(err.Error(), "migration 0002_b.up.sql: syntax error") {
		t.Errorf("Up = %v, want the failure naming 0002_b.up.sql", err)
	}
	if len(d.records) != 0 {
		t.Errorf("records after a failed session: %v", d.records)
	}
}

func TestLockTimeoutIsRetried(t *testing.T) {
	d := &memory{records: map[int64]Record{}, lockFails: 2}
	r := runner(t, d, "0001_a")
	if got, err := r.Up(context.Background()); err != nil || len(got) != 1 {
		t.Fatalf("Up after two lock timeouts = %v, %v", got, err)
	}
	if d.sessions != 3 {
		t.Errorf("%d sessions, want 3", d.sessions)
	}

	d = &memory{records: map[int64]Record{}, lockFails: 10}
	r = runner(t, d, "0001_a")
	if _, err := r.Up(context.Background()); !errors.Is(err, ErrLockTimeout) || d.sessions != 3 {
		t.Errorf("Up with the lock never free = %v after %d sessions, want ErrLockTimeout after 3", err, d.sessions)
	}
}

func TestDownRefusesAMigrationTheBinaryLacks(t *testing.T) {
	d := &memory{records: map[int64]Record{9: {Version: 9, Name: "0009_newer", Checksum: "x"}}}
	r := runner(t, d, "0001_a")
	_, err := r.Down(context.Background(), 1)
	if err == nil || !strings.Contains(err.Error(), "0009_newer") {
		t.Errorf("Down = %v, want a refusal naming 0009_newer", err)
	}
	st, _ := r.Status(context.Background())
	if len(st) != 2 || !st[1].Unknown || !st[1].Applied {
		t.Errorf("Status = %+v, want 0009_newer listed as applied and unknown", st)
	}
}
