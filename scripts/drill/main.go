// Command drill is the load generator and referee of scripts/drill.sh. It starts a generated
// service (pg+redis+prometheus), loads item reads and writes, stops Redis, then PostgreSQL, brings
// both back, then sends SIGTERM under load; it records every request's start, end and status and
// prints a table of the bounds it checks. It exits 1 when a bound fails.
//
// It is a module of its own so that svcgen's `go build ./...` and `go vet ./...` leave it out;
// it uses the standard library only. The service reads its settings (REQUEST_TIMEOUT, breakers,
// DATABASE_URL, REDIS_URL, ...) from the environment drill.sh gives this program.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

type record struct {
	kind       string // get, post, slowpost, healthz, readyz
	start, end time.Time
	status     int // 0: transport error
	err        string
	id         string
	body       string // readyz only
}

type recorder struct {
	mu   sync.Mutex
	recs []record
}

func (r *recorder) add(rec record) {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
}

func (r *recorder) all() []record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]record(nil), r.recs...)
}

type sample struct {
	t     time.Time
	state map[string]float64
}

var (
	bin        = flag.String("bin", "", "service binary")
	port       = flag.Int("port", 18090, "service port")
	redisStop  = flag.String("redis-stop", "", "shell command that stops Redis")
	redisStart = flag.String("redis-start", "", "shell command that starts Redis and waits for it")
	pgStop     = flag.String("pg-stop", "", "shell command that stops PostgreSQL")
	pgStart    = flag.String("pg-start", "", "shell command that starts PostgreSQL and waits for it")
	pidFile    = flag.String("pidfile", "", "where to write the service's PID (for the caller's cleanup)")
	logFile    = flag.String("log", "", "service log file")
)

var (
	base       string
	client     = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	rec        recorder
	reqTimeout time.Duration
)

func main() {
	flag.Parse()
	base = "http://127.0.0.1:" + strconv.Itoa(*port)
	var err error
	if reqTimeout, err = time.ParseDuration(os.Getenv("REQUEST_TIMEOUT")); err != nil {
		fatalf("REQUEST_TIMEOUT must be set: %v", err)
	}
	os.Exit(run())
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "drill: "+format+"\n", args...)
	os.Exit(2)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "drill %s: "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

func shell(cmd string) time.Time {
	c := exec.Command("bash", "-c", cmd)
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	if err := c.Run(); err != nil {
		fatalf("%s: %v", cmd, err)
	}
	return time.Now()
}

func startService() *exec.Cmd {
	out, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fatalf("%v", err)
	}
	cmd := exec.Command(*bin)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(*port))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		fatalf("start service: %v", err)
	}
	if *pidFile != "" {
		_ = os.WriteFile(*pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := client.Get(base + "/readyz"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			fatalf("service not ready after 30s (log: %s)", *logFile)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func do(kind, method, path string, body io.Reader) record {
	r := record{kind: kind, start: time.Now()}
	req, _ := http.NewRequest(method, base+path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		r.end, r.err = time.Now(), err.Error()
		return r
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.end, r.status = time.Now(), resp.StatusCode
	if kind == "readyz" {
		r.body = string(b)
	}
	if resp.StatusCode == 201 {
		var it struct{ ID string }
		_ = json.Unmarshal(b, &it)
		r.id = it.ID
	}
	return r
}

// slowBody sends an item body one byte every step, so the request is in flight for a while.
type slowBody struct {
	data []byte
	step time.Duration
}

func (s *slowBody) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.step)
	p[0] = s.data[0]
	s.data = s.data[1:]
	return 1, nil
}

var stateRE = regexp.MustCompile(`(?m)^circuit_breaker_state\{dependency="(\w+)"\} (\S+)$`)

func run() int {
	svc := startService()
	exited := make(chan error, 1)
	go func() { exited <- svc.Wait() }()
	defer func() { _ = svc.Process.Kill() }()

	// Seed items for the reads.
	var ids []string
	for i := range 20 {
		r := do("post", "POST", "/v1/items", bytes.NewBufferString(fmt.Sprintf(`{"name":"drill seed %d","price":%d}`, i, 100+i)))
		if r.status != 201 {
			fatalf("seed create = %d %s", r.status, r.err)
		}
		rec.add(r)
		ids = append(ids, r.id)
	}
	for _, id := range ids { // fill the cache
		do("get", "GET", "/v1/items/"+id, nil)
	}

	ctx, stopLoad := context.WithCancel(context.Background())
	var probes, load sync.WaitGroup
	probeCtx, stopProbes := context.WithCancel(context.Background())
	var samplesMu sync.Mutex
	var samples []sample

	// Probes: /healthz and /readyz every 50 ms, /metrics every 100 ms.
	for _, p := range []string{"healthz", "readyz"} {
		probes.Go(func() {
			for probeCtx.Err() == nil {
				rec.add(do(p, "GET", "/"+p, nil))
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	probes.Go(func() {
		for probeCtx.Err() == nil {
			resp, err := client.Get(base + "/metrics")
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				s := sample{t: time.Now(), state: map[string]float64{}}
				for _, m := range stateRE.FindAllStringSubmatch(string(b), -1) {
					v, _ := strconv.ParseFloat(m[2], 64)
					s.state[m[1]] = v
				}
				samplesMu.Lock()
				samples = append(samples, s)
				samplesMu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	// Load: workers reading known items (cache hits while Redis is up) and creating items.
	for w := range 6 {
		load.Go(func() {
			n := 0
			for ctx.Err() == nil {
				n++
				if (n+w)%5 == 0 {
					rec.add(do("post", "POST", "/v1/items", bytes.NewBufferString(fmt.Sprintf(`{"name":"drill w%d n%d","price":1}`, w, n))))
				} else {
					rec.add(do("get", "GET", "/v1/items/"+ids[rand.IntN(len(ids))], nil))
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}

	time.Sleep(3 * time.Second)
	logf("stopping Redis")
	redisDown := shell(*redisStop)
	time.Sleep(4 * time.Second)
	logf("stopping PostgreSQL")
	pgDown := shell(*pgStop)
	time.Sleep(5 * time.Second)
	logf("starting PostgreSQL")
	pgUp := shell(*pgStart)
	logf("starting Redis")
	redisUp := shell(*redisStart)
	time.Sleep(8 * time.Second)

	// SIGTERM under load, with slow writes certainly in flight.
	var slow sync.WaitGroup
	for i := range 4 {
		slow.Go(func() {
			body := fmt.Sprintf(`{"name":"drill slow %d","price":7}`, i)
			step := time.Second / time.Duration(len(body))
			r := do("slowpost", "POST", "/v1/items", &slowBody{data: []byte(body), step: step})
			rec.add(r)
		})
	}
	time.Sleep(400 * time.Millisecond)
	sigterm := time.Now()
	stopLoad() // workers start nothing new; what they sent is in flight
	logf("SIGTERM")
	_ = svc.Process.Signal(syscall.SIGTERM)
	var exitErr error
	select {
	case exitErr = <-exited:
	case <-time.After(30 * time.Second):
		exitErr = fmt.Errorf("did not exit within 30s")
	}
	exitedAt := time.Now()
	load.Wait()
	slow.Wait()
	stopProbes()
	probes.Wait()
	logf("service exited: %v", exitErr)

	// Every acknowledged write, read back from a fresh process.
	svc2 := startService()
	all := rec.all()
	var acked, lost int
	var lostIDs []string
	for _, r := range all {
		if (r.kind == "post" || r.kind == "slowpost") && r.status == 201 {
			acked++
			got := do("verify", "GET", "/v1/items/"+r.id, nil)
			if got.status != 200 {
				lost++
				if len(lostIDs) < 5 {
					lostIDs = append(lostIDs, fmt.Sprintf("%s=%d", r.id, got.status))
				}
			}
		}
	}
	_ = svc2.Process.Signal(syscall.SIGTERM)
	_ = svc2.Wait()

	return report(all, samples, redisDown, redisUp, pgDown, pgUp, sigterm, exitedAt, exitErr, acked, lost, lostIDs)
}

type row struct {
	check, bound, observed string
	ok                     bool
}

func report(all []record, samples []sample, redisDown, redisUp, pgDown, pgUp, sigterm, exitedAt time.Time, exitErr error, acked, lost int, lostIDs []string) int {
	var rows []row
	add := func(check, bound, observed string, ok bool) { rows = append(rows, row{check, bound, observed, ok}) }

	// /healthz 200 throughout (until SIGTERM).
	var hz, hzBad int
	for _, r := range all {
		if r.kind == "healthz" && r.start.Before(sigterm) {
			hz++
			if r.status != 200 {
				hzBad++
			}
		}
	}
	add("/healthz 200 throughout", "every probe 200", fmt.Sprintf("%d/%d 200", hz-hzBad, hz), hzBad == 0 && hz > 0)

	// /readyz 503, naming the dependency, within 2 s of each kill.
	for _, k := range []struct {
		dep  string
		down time.Time
	}{{"redis", redisDown}, {"postgres", pgDown}} {
		first := time.Duration(-1)
		for _, r := range all {
			if r.kind == "readyz" && r.start.After(k.down) && r.status == 503 && depFails(r.body, k.dep) {
				if d := r.end.Sub(k.down); first < 0 || d < first {
					first = d
				}
			}
		}
		obs := "never"
		if first >= 0 {
			obs = first.Round(time.Millisecond).String()
		}
		add("/readyz 503 after "+k.dep+" stop", "<= 2s", obs, first >= 0 && first <= 2*time.Second)
	}

	// No request outlives the request timeout.
	grace := 200 * time.Millisecond
	var longest time.Duration
	var longestKind string
	for _, r := range all {
		if d := r.end.Sub(r.start); d > longest {
			longest, longestKind = d, r.kind
		}
	}
	add("longest request (any kind)", fmt.Sprintf("<= REQUEST_TIMEOUT %s + %s", reqTimeout, grace),
		fmt.Sprintf("%s (%s)", longest.Round(time.Millisecond), longestKind), longest <= reqTimeout+grace)

	// Breakers open during the outage and close within 5 s of the return.
	for _, k := range []struct {
		dep      string
		down, up time.Time
	}{{"redis", redisDown, redisUp}, {"postgres", pgDown, pgUp}} {
		opened := false
		closed := time.Duration(-1)
		for _, s := range samples {
			v, ok := s.state[k.dep]
			if !ok {
				continue
			}
			if s.t.After(k.down) && s.t.Before(k.up) && v == 2 {
				opened = true
			}
			if s.t.After(k.up) && closed < 0 && v == 0 {
				closed = s.t.Sub(k.up)
			}
			if s.t.After(k.up) && closed >= 0 && v != 0 && s.t.Before(sigterm) {
				closed = -1 // reopened: wait for the final close
			}
		}
		add(k.dep+" breaker opens (metric = 2)", "during the outage", yes(opened), opened)
		obs := "never"
		if closed >= 0 {
			obs = closed.Round(time.Millisecond).String()
		}
		add(k.dep+" breaker closes (metric = 0)", "<= 5s after return", obs, closed >= 0 && closed <= 5*time.Second)
	}

	add("acknowledged writes readable after recovery", "0 lost", fmt.Sprintf("%d lost of %d (201s) %v", lost, acked, lostIDs), lost == 0 && acked > 0)

	// SIGTERM drain: every request sent before the signal completes without a transport error or 5xx.
	var inflight, failed, slowOK int
	var firstErr string
	for _, r := range all {
		if r.kind == "verify" || !r.start.Before(sigterm) || r.end.Before(sigterm) {
			continue
		}
		if r.kind == "healthz" || r.kind == "readyz" {
			continue // probes keep running after the signal; they are not load
		}
		inflight++
		if r.status == 0 || r.status >= 500 {
			failed++
			if firstErr == "" {
				firstErr = fmt.Sprintf(" (first: %s %d %s)", r.kind, r.status, r.err)
			}
		} else if r.kind == "slowpost" && r.status == 201 {
			slowOK++
		}
	}
	add("SIGTERM: in-flight requests failed", "0", fmt.Sprintf("%d of %d (%d slow writes 201)%s", failed, inflight, slowOK, firstErr), failed == 0 && slowOK == 4)
	exitObs := "exit 0"
	if exitErr != nil {
		exitObs = exitErr.Error()
	}
	add("SIGTERM: service exits cleanly", "exit 0 within 30s", fmt.Sprintf("%s after %s", exitObs, exitedAt.Sub(sigterm).Round(time.Millisecond)), exitErr == nil)

	var total, errs int
	for _, r := range all {
		if r.kind == "get" || r.kind == "post" {
			total++
			if r.status == 0 || r.status >= 500 {
				errs++
			}
		}
	}
	fmt.Printf("load: %d item requests (%d answered 5xx or failed, expected while dependencies are down)\n\n", total, errs)
	fmt.Printf("%-45s %-32s %-44s %s\n", "check", "bound", "observed", "result")
	code := 0
	for _, r := range rows {
		res := "PASS"
		if !r.ok {
			res, code = "FAIL", 1
		}
		fmt.Printf("%-45s %-32s %-44s %s\n", r.check, r.bound, r.observed, res)
	}
	return code
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// depFails reports whether a readiness body lists dep as failing.
func depFails(body, dep string) bool {
	var rep struct {
		Checks map[string][]struct{ Status string } `json:"checks"`
	}
	if json.Unmarshal([]byte(body), &rep) != nil {
		return false
	}
	c := rep.Checks[dep]
	return len(c) > 0 && c[0].Status == "fail"
}
