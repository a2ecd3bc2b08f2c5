package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"syscall"
	"time"
)

// servers are the shell commands that stop, start, hang (SIGSTOP) and resume (SIGCONT) the
// PostgreSQL and Redis the services use; drill.sh owns them (and restores them on exit).
type servers struct {
	redisStop, redisStart, redisHang, redisResume string
	pgStop, pgStart, pgHang, pgResume             string
}

// outage drills the pg+redis service: load on item reads and writes, Redis stopped, then
// PostgreSQL, both brought back, then SIGTERM under load. Bounds: /healthz 200 throughout;
// /readyz 200 naming the dependency failing within 2 s of each stop, and 200 throughout until
// SIGTERM (readiness is the instance's own state); 503 within 1 s of SIGTERM; no request outlives REQUEST_TIMEOUT (+200 ms of client-side
// grace); each breaker opens and closes within 5 s of the return; no acknowledged write lost;
// SIGTERM drains with zero failed in-flight requests.
func outage(svc *service, srv servers, t *table) {
	var rec recorder
	svc.start(readyz200)

	// Seed items for the reads, then read each once to fill the cache.
	var ids []string
	for i := range 20 {
		r := rec.add(svc.post("seed", i))
		if r.status != 201 {
			fatalf("seed create = %d %s", r.status, r.err)
		}
		ids = append(ids, r.id)
	}
	for _, id := range ids {
		svc.do("get", "GET", "/v1/items/"+id, nil, nil)
	}

	sm := startSampler(svc)
	probes := startLoad(2, func(w, _ int) {
		p := []string{"healthz", "readyz"}[w]
		rec.add(svc.do(p, "GET", "/"+p, nil, nil))
		time.Sleep(50 * time.Millisecond)
	})
	// Load: workers reading known items (cache hits while Redis is up) and creating items.
	work := startLoad(6, func(w, n int) {
		if (n+w)%5 == 0 {
			rec.add(svc.post(fmt.Sprintf("post w%d", w), n))
		} else {
			rec.add(svc.do("get", "GET", "/v1/items/"+ids[rand.IntN(len(ids))], nil, nil))
		}
	})

	time.Sleep(3 * time.Second)
	logf("stopping Redis")
	redisDown := shell(srv.redisStop)
	time.Sleep(4 * time.Second)
	logf("stopping PostgreSQL")
	pgDown := shell(srv.pgStop)
	time.Sleep(5 * time.Second)
	logf("starting PostgreSQL")
	pgUp := shell(srv.pgStart)
	logf("starting Redis")
	redisUp := shell(srv.redisStart)
	time.Sleep(8 * time.Second)

	// SIGTERM under load, with slow writes certainly in flight.
	var slow sync.WaitGroup
	for i := range 4 {
		slow.Go(func() {
			body := fmt.Sprintf(`{"name":"drill slow %d","price":7}`, i)
			step := time.Second / time.Duration(len(body))
			rec.add(svc.do("slowpost", "POST", "/v1/items", &slowBody{data: []byte(body), step: step}, nil))
		})
	}
	time.Sleep(400 * time.Millisecond)
	sigterm := time.Now()
	work.stop() // workers start nothing new; what they sent is in flight
	logf("SIGTERM")
	exitErr := svc.signal(syscall.SIGTERM, 30*time.Second)
	exitedAt := time.Now()
	work.finish()
	slow.Wait()
	probes.finish()
	samples := sm.finish()
	logf("service exited: %v", exitErr)

	// Every acknowledged write, read back from a fresh process.
	svc.start(readyz200)
	all := rec.all()
	var acked, lost int
	var lostIDs []string
	for _, r := range all {
		if (r.kind == "seed" || r.kind == "post" || r.kind == "slowpost") && r.status == 201 {
			acked++
			if got := svc.do("verify", "GET", "/v1/items/"+r.id, nil, nil); got.status != 200 {
				lost++
				if len(lostIDs) < 5 {
					lostIDs = append(lostIDs, fmt.Sprintf("%s=%d", r.id, got.status))
				}
			}
		}
	}
	_ = svc.signal(syscall.SIGTERM, 30*time.Second)

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
	t.add("/healthz 200 throughout", "every probe 200", fmt.Sprintf("%d/%d 200", hz-hzBad, hz), hzBad == 0 && hz > 0)

	// /readyz 200, naming the dependency failing, within 2 s of each stop: an outage after start
	// is reported, not made the instance's readiness.
	for _, k := range []struct {
		dep  string
		down time.Time
	}{{"redis", redisDown}, {"postgres", pgDown}} {
		first := time.Duration(-1)
		for _, r := range all {
			if r.kind == "readyz" && r.start.After(k.down) && r.status == 200 && checkStatus(r.body, k.dep) == "fail" {
				if d := r.end.Sub(k.down); first < 0 || d < first {
					first = d
				}
			}
		}
		obs := "never"
		if first >= 0 {
			obs = ms(first)
		}
		t.add("/readyz 200 naming "+k.dep+" failing after its stop", "<= 2s", obs, first >= 0 && first <= 2*time.Second)
	}
	var rz, rzBad int
	var rzFirst string
	for _, r := range all {
		if r.kind == "readyz" && r.end.Before(sigterm) {
			rz++
			if r.status != 200 {
				rzBad++
				if rzFirst == "" {
					rzFirst = fmt.Sprintf(" (first: %d %s %.120s)", r.status, r.err, r.body)
				}
			}
		}
	}
	t.add("/readyz 200 through the outages", "every probe before SIGTERM 200", fmt.Sprintf("%d/%d 200%s", rz-rzBad, rz, rzFirst), rzBad == 0 && rz > 0)
	drainSeen := time.Duration(-1)
	for _, r := range all {
		if r.kind == "readyz" && r.start.After(sigterm) && r.status == 503 && checkStatus(r.body, "shutdown") == "fail" {
			if d := r.end.Sub(sigterm); drainSeen < 0 || d < drainSeen {
				drainSeen = d
			}
		}
	}
	drainObs := "never"
	if drainSeen >= 0 {
		drainObs = ms(drainSeen)
	}
	t.add("/readyz 503 after SIGTERM (draining)", "<= 1s", drainObs, drainSeen >= 0 && drainSeen <= time.Second)

	longest, kind := longestOf(all, func(record) bool { return true })
	t.add("longest request (any kind)", fmt.Sprintf("<= REQUEST_TIMEOUT %s + %s", reqTimeout, grace),
		fmt.Sprintf("%s (%s)", ms(longest), kind), longest <= reqTimeout+grace)

	// Breakers open during the outage and close within 5 s of the return.
	for _, k := range []struct {
		dep      string
		down, up time.Time
	}{{"redis", redisDown, redisUp}, {"postgres", pgDown, pgUp}} {
		open := opened(samples, k.dep, k.down, k.up)
		t.add(k.dep+" breaker opens (metric = 2)", "during the outage", yes(open), open)
		closed := closedAfter(samples, k.dep, k.up, sigterm)
		obs := "never"
		if closed >= 0 {
			obs = ms(closed)
		}
		t.add(k.dep+" breaker closes (metric = 0)", "<= 5s after return", obs, closed >= 0 && closed <= 5*time.Second)
	}

	t.add("acknowledged writes readable after recovery", "0 lost", fmt.Sprintf("%d lost of %d (201s) %v", lost, acked, lostIDs), lost == 0 && acked > 0)

	// SIGTERM drain: every request sent before the signal completes without a transport error or 5xx.
	var inflight, failed, slowOK int
	var firstErr string
	for _, r := range all {
		if !r.start.Before(sigterm) || r.end.Before(sigterm) || r.kind == "healthz" || r.kind == "readyz" {
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
	t.add("SIGTERM: in-flight requests failed", "0", fmt.Sprintf("%d of %d (%d slow writes 201)%s", failed, inflight, slowOK, firstErr), failed == 0 && slowOK == 4)
	exitObs := "exit 0"
	if exitErr != nil {
		exitObs = exitErr.Error()
	}
	t.add("SIGTERM: service exits cleanly", "exit 0 within 30s", fmt.Sprintf("%s after %s", exitObs, ms(exitedAt.Sub(sigterm))), exitErr == nil)

	var total, errs int
	for _, r := range all {
		if r.kind == "get" || r.kind == "post" {
			total++
			if r.status == 0 || r.status >= 500 {
				errs++
			}
		}
	}
	fmt.Printf("outage load: %d item requests (%d answered 5xx or failed, expected while dependencies are down)\n", total, errs)
}

// longestOf is the longest request of those keep selects, and its kind.
func longestOf(all []record, keep func(record) bool) (time.Duration, string) {
	var longest time.Duration
	var kind string
	for _, r := range all {
		if d := r.took(); keep(r) && d > longest {
			longest, kind = d, r.kind
		}
	}
	return longest, kind
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
