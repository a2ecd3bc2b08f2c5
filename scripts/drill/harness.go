package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// record is one request the drill made: when it started and ended and how it was answered.
type record struct {
	kind       string // get, post, slowpost, healthz, readyz, verify, ...
	method     string
	start, end time.Time
	status     int // 0: transport error
	err        string
	id         string // the item's id of a 201
	body       string // readyz only
}

func (r record) took() time.Duration { return r.end.Sub(r.start) }

type recorder struct {
	mu   sync.Mutex
	recs []record
}

func (r *recorder) add(rec record) record {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
	return rec
}

func (r *recorder) all() []record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]record(nil), r.recs...)
}

// service is a generated service's binary the drill starts, kills and restarts on one port (and
// one admin port, where /metrics is).
type service struct {
	name      string
	bin       string
	port      int
	adminPort int
	env       []string // added to the drill's environment
	log       string   // the service's stdout and stderr, appended across restarts
	pid       string   // file holding the current PID, for drill.sh's cleanup

	base   string
	admin  string
	cmd    *exec.Cmd
	exited chan error
}

var client = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// start runs the service and waits until ready(readyz status, body) holds (30 s at most).
func (s *service) start(ready func(code int, body string) bool) {
	s.base = "http://127.0.0.1:" + strconv.Itoa(s.port)
	if s.adminPort == 0 {
		s.adminPort = freePort()
	}
	s.admin = "http://127.0.0.1:" + strconv.Itoa(s.adminPort)
	out, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fatalf("%v", err)
	}
	defer out.Close()
	cmd := exec.Command(s.bin)
	cmd.Env = append(append(os.Environ(), s.env...), "PORT="+strconv.Itoa(s.port), "ADMIN_PORT="+strconv.Itoa(s.adminPort))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		fatalf("start %s: %v", s.name, err)
	}
	s.cmd, s.exited = cmd, make(chan error, 1)
	go func() { s.exited <- cmd.Wait() }()
	if s.pid != "" {
		_ = os.WriteFile(s.pid, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.do("start", "GET", "/readyz", nil, nil)
		if ready(r.status, r.body) {
			return
		}
		select {
		case err := <-s.exited:
			fatalf("%s exited while starting: %v (log: %s)", s.name, err, s.log)
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			fatalf("%s not ready after 30s: last /readyz %d %s (log: %s)", s.name, r.status, r.body, s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readyz200 is the readiness a service reaches once started (migrations applied).
func readyz200(code int, _ string) bool { return code == 200 }

// signal sends sig and waits for the exit, at most wait. A service still running then gets
// SIGQUIT, so the Go runtime writes every goroutine's stack to its log (where it hangs), and
// SIGKILL a second later.
func (s *service) signal(sig syscall.Signal, wait time.Duration) error {
	_ = s.cmd.Process.Signal(sig)
	select {
	case err := <-s.exited:
		return err
	case <-time.After(wait):
		_ = s.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-s.exited:
		case <-time.After(time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		return fmt.Errorf("did not exit within %s (goroutines in %s)", wait, filepath.Base(s.log))
	}
}

// do makes one request. The body is JSON; hdr adds headers (Idempotency-Key, If-Match, ...).
func (s *service) do(kind, method, path string, body io.Reader, hdr map[string]string) record {
	r := record{kind: kind, method: method, start: time.Now()}
	req, _ := http.NewRequest(method, s.base+path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		r.end, r.err = time.Now(), err.Error()
		return r
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.end, r.status = time.Now(), resp.StatusCode
	if kind == "readyz" || kind == "start" || method == "GET" && kind == "get" {
		r.body = string(b)
	}
	if resp.StatusCode == 201 {
		var it struct{ ID string }
		_ = json.Unmarshal(b, &it)
		r.id = it.ID
	}
	return r
}

// post creates one item.
func (s *service) post(kind string, n int) record {
	return s.do(kind, "POST", "/v1/items", strings.NewReader(fmt.Sprintf(`{"name":"drill %s %d","price":%d}`, kind, n, 1+n%1000)), nil)
}

// metrics scrapes the admin port's /metrics into "name{labels}" → value.
func (s *service) metrics() (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.admin+"/metrics", nil)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return parseMetrics(string(b)), nil
}

var sampleRE = regexp.MustCompile(`(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$`)

func parseMetrics(text string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range sampleRE.FindAllStringSubmatch(text, -1) {
		if v, err := strconv.ParseFloat(m[2], 64); err == nil {
			out[m[1]] = v
		}
	}
	return out
}

// breakerSeries is the metric of one dependency's breaker state (0 closed, 1 half-open, 2 open).
func breakerSeries(dep string) string { return `circuit_breaker_state{dependency="` + dep + `"}` }

// sampler scrapes /metrics every 100 ms until stopped, keeping every sample.
type sampler struct {
	mu      sync.Mutex
	samples []sample
	stop    context.CancelFunc
	done    sync.WaitGroup
}

type sample struct {
	t time.Time
	m map[string]float64
}

func startSampler(s *service) *sampler {
	ctx, cancel := context.WithCancel(context.Background())
	sm := &sampler{stop: cancel}
	sm.done.Go(func() {
		for ctx.Err() == nil {
			if m, err := s.metrics(); err == nil {
				sm.mu.Lock()
				sm.samples = append(sm.samples, sample{time.Now(), m})
				sm.mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return sm
}

func (sm *sampler) finish() []sample {
	sm.stop()
	sm.done.Wait()
	return sm.samples
}

// opened reports whether dep's breaker was seen open (2) between from and to.
func opened(samples []sample, dep string, from, to time.Time) bool {
	for _, s := range samples {
		if v, ok := s.m[breakerSeries(dep)]; ok && v == 2 && s.t.After(from) && s.t.Before(to) {
			return true
		}
	}
	return false
}

// closedAfter is how long after up dep's breaker was last seen to close (0) for good before end;
// -1 when it did not.
func closedAfter(samples []sample, dep string, up, end time.Time) time.Duration {
	closed := time.Duration(-1)
	for _, s := range samples {
		v, ok := s.m[breakerSeries(dep)]
		if !ok || !s.t.After(up) || s.t.After(end) {
			continue
		}
		switch {
		case v == 0 && closed < 0:
			closed = s.t.Sub(up)
		case v != 0:
			closed = -1 // reopened: wait for the final close
		}
	}
	return closed
}

// load runs workers that call step until stopped; step gets the worker and iteration numbers.
type load struct {
	stop context.CancelFunc
	wg   sync.WaitGroup
}

func startLoad(workers int, step func(w, n int)) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{stop: cancel}
	for w := range workers {
		l.wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				step(w, n)
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	return l
}

// finish stops starting new requests and waits for those in flight.
func (l *load) finish() {
	l.stop()
	l.wg.Wait()
}

// row is one line of the drill's table.
type row struct {
	check, bound, observed string
	ok                     bool
}

type table []row

func (t *table) add(check, bound, observed string, ok bool) {
	*t = append(*t, row{check, bound, observed, ok})
}

// print writes the table and reports whether every row passed.
func (t table) print(w io.Writer) bool {
	fmt.Fprintf(w, "%-52s %-34s %-52s %s\n", "check", "bound", "observed", "result")
	ok := true
	for _, r := range t {
		res := "PASS"
		if !r.ok {
			res, ok = "FAIL", false
		}
		fmt.Fprintf(w, "%-52s %-34s %-52s %s\n", r.check, r.bound, r.observed, res)
	}
	return ok
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

// checkStatus reads one dependency's status ("pass", "fail") from a readiness body.
func checkStatus(body, dep string) string {
	var rep struct {
		Checks map[string][]struct{ Status string } `json:"checks"`
	}
	if json.Unmarshal([]byte(body), &rep) != nil || len(rep.Checks[dep]) == 0 {
		return ""
	}
	return rep.Checks[dep][0].Status
}

func shell(cmd string) time.Time {
	c := exec.Command("bash", "-c", cmd)
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	if err := c.Run(); err != nil {
		fatalf("%s: %v", cmd, err)
	}
	return time.Now()
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "drill: "+format+"\n", args...)
	os.Exit(2)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "drill %s: "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}
