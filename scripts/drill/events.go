package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"drill/broker"
)

// Bounds of the events drill.
const (
	hungWrites     = 30               // POSTs while the broker hangs, each answered within writeBound
	writeBound     = time.Second      // nothing on a request path waits for the broker
	fillWrites     = 2000             // writes queued in the outbox while the broker hangs
	fillBudget     = 25 * time.Second // the fill stops here whatever it reached
	eventBound     = 30 * time.Second // an acknowledged write's event is on the topic within this
	pendingMetric  = "outbox_pending_events"
	hangDuration   = 5 * time.Second // how long PostgreSQL and Redis stay SIGSTOPped
	breakerCloseBy = 5 * time.Second
)

// dbReady is the readiness of a service whose broker may hang: PostgreSQL (migrated) and Redis
// pass; kafka may fail.
func dbReady(_ int, body string) bool {
	return checkStatus(body, "postgres") == "pass" && checkStatus(body, "redis") == "pass"
}

// events drills the full-stack service (pg+redis+kafka+prometheus) whose broker is b, hung at
// the start: writes while the broker hangs, the broker's return and the outbox drain, kill -9
// under load, then PostgreSQL and Redis hung by SIGSTOP.
func events(svc *service, b *broker.Broker, topic string, srv servers, t *table) {
	var rec recorder
	svc.start(dbReady)

	// 1. Writes while the broker accepts connections and never answers.
	logf("broker hung: %d concurrent POSTs", hungWrites)
	burst(svc, &rec, "hung", t, "broker hung: POST answers 201")
	logf("the hung broker holds %d connections of the service", b.Hung())

	// 2. The outbox fills while the broker still hangs.
	logf("broker hung: filling the outbox with %d writes (at most %s)", fillWrites, fillBudget)
	fillStart := time.Now()
	jobs := make(chan int)
	var fill sync.WaitGroup
	for range 8 {
		fill.Go(func() {
			for i := range jobs {
				rec.add(svc.post("fill", i))
			}
		})
	}
	budget := time.After(fillBudget)
queue:
	for i := range fillWrites {
		select {
		case jobs <- i:
		case <-budget:
			break queue
		}
	}
	close(jobs)
	fill.Wait()
	filled := acked(rec.all(), "fill")
	fillSlow, _ := longestOf(kindOf(rec.all(), "fill"), func(record) bool { return true })
	logf("filled: %d acknowledged in %s, slowest %s", len(filled), ms(time.Since(fillStart)), ms(fillSlow))

	// 3. The broker is real but swallows Produce: it answers metadata, never a Produce.
	b.SwallowProduce(true)
	if err := b.Serve(); err != nil {
		fatalf("%v", err)
	}
	logf("broker real (kfake on %s) but swallowing Produce: %d concurrent POSTs", b.Addr(), hungWrites)
	burst(svc, &rec, "swallowed", t, "broker swallows Produce: POST answers 201")
	time.Sleep(3 * time.Second) // the relay's attempts meet the swallowing broker

	// 4. Produce is answered again: time the outbox's drain.
	pending0, hasMetric := pending(svc)
	logf("broker answers Produce again; %s = %v", pendingMetric, pending0)
	b.SwallowProduce(false)
	released := time.Now()
	drained, firstSent := time.Duration(-1), time.Duration(-1)
	for hasMetric && time.Since(released) < eventBound {
		p, _ := pending(svc)
		if p < pending0 && firstSent < 0 {
			firstSent = time.Since(released)
		}
		if p == 0 {
			drained = time.Since(released)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	obs := "no " + pendingMetric + " on /metrics"
	if hasMetric {
		obs = fmt.Sprintf("%v pending at the switch; not drained in %s", pending0, eventBound)
	}
	rate := 0.0
	if drained >= 0 {
		if firstSent < 0 {
			firstSent = 0
		}
		if d := drained - firstSent; d > 0 {
			rate = pending0 / d.Seconds()
		}
		obs = fmt.Sprintf("%v events in %s (first sent after %s): %.0f events/s", pending0, ms(drained-firstSent), ms(firstSent), rate)
	}
	t.add("outbox drain after the broker returns", fmt.Sprintf("pending 0 within %s; > 0 events/s", eventBound), obs, drained >= 0 && rate > 0)

	want := ids(append(append(acked(rec.all(), "hung"), filled...), acked(rec.all(), "swallowed")...))
	got, missing := readKeys(b, topic, want, released.Add(eventBound))
	t.add("broker hung, swallowing, real: 201s have their event", fmt.Sprintf("0 missing within %s", eventBound),
		fmt.Sprintf("%d missing of %d %s", len(missing), len(want), headersNote(got)), len(missing) == 0 && len(want) > 0)

	// 5. kill -9 under load, and a restart.
	seeds := ids(acked(rec.all(), "hung"))
	if len(seeds) == 0 {
		seeds = []string{"00000000-0000-0000-0000-000000000000"}
	}
	work := startLoad(6, func(w, n int) {
		if (n+w)%3 == 0 {
			rec.add(svc.post("killed", w*100000+n))
		} else {
			svc.do("get", "GET", "/v1/items/"+seeds[rand.IntN(len(seeds))], nil, nil)
		}
	})
	time.Sleep(2 * time.Second)
	logf("kill -9 under load")
	_ = svc.signal(syscall.SIGKILL, 5*time.Second)
	killed := time.Now()
	svc.start(dbReady)
	logf("restarted in %s", ms(time.Since(killed)))
	time.Sleep(2 * time.Second)
	work.finish()
	want = ids(acked(rec.all(), "killed"))
	_, missing = readKeys(b, topic, want, time.Now().Add(eventBound))
	unreadable := unreadable(svc, want)
	t.add("kill -9 mid-load, restart: 201s have their event", fmt.Sprintf("0 missing within %s", eventBound),
		fmt.Sprintf("%d missing of %d", len(missing), len(want)), len(missing) == 0 && len(want) > 0)
	t.add("kill -9 mid-load, restart: 201s readable", "0 lost", fmt.Sprintf("%d lost of %d %s", len(unreadable), len(want), first(unreadable, 3)), len(unreadable) == 0 && len(want) > 0)

	// 6. PostgreSQL, then Redis, hung by SIGSTOP under load.
	for _, h := range []struct {
		dep, hang, resume string
	}{{"postgres", srv.pgHang, srv.pgResume}, {"redis", srv.redisHang, srv.redisResume}} {
		kind := "load-" + h.dep
		sm := startSampler(svc)
		work := startLoad(6, func(w, n int) {
			if (n+w)%5 == 0 {
				rec.add(svc.post(kind, w*100000+n))
			} else {
				rec.add(svc.do(kind, "GET", "/v1/items/"+seeds[rand.IntN(len(seeds))], nil, nil))
			}
		})
		time.Sleep(2 * time.Second)
		logf("SIGSTOP %s", h.dep)
		down := shell(h.hang)
		time.Sleep(hangDuration)
		logf("SIGCONT %s", h.dep)
		up := shell(h.resume)
		time.Sleep(breakerCloseBy + time.Second)
		work.finish()
		samples := sm.finish()

		all := kindOf(rec.all(), kind)
		longest, _ := longestOf(all, func(record) bool { return true })
		t.add(h.dep+" hung (SIGSTOP): longest request", fmt.Sprintf("<= REQUEST_TIMEOUT %s + %s", reqTimeout, grace),
			fmt.Sprintf("%s of %d requests", ms(longest), len(all)), longest <= reqTimeout+grace)
		open := opened(samples, h.dep, down, up.Add(time.Second))
		t.add(h.dep+" hung (SIGSTOP): breaker opens", "during the hang", yes(open), open)
		closed := closedAfter(samples, h.dep, up, time.Now())
		obs := "never"
		if closed >= 0 {
			obs = ms(closed)
		}
		t.add(h.dep+" hung (SIGSTOP): breaker closes", fmt.Sprintf("<= %s after SIGCONT", breakerCloseBy), obs, closed >= 0 && closed <= breakerCloseBy)
		if h.dep == "redis" {
			// Reads of stored items during the hang: the cache is bypassed, PostgreSQL answers.
			var gets, served int
			for _, r := range all {
				if r.method == "GET" && r.start.After(down) && r.start.Before(up) {
					gets++
					if r.status == 200 {
						served++
					}
				}
			}
			t.add("redis hung (SIGSTOP): reads served from PostgreSQL", "every GET 200", fmt.Sprintf("%d of %d", served, gets), gets > 0 && served == gets)
		}
	}

	// SIGTERM: the relay, the publisher and the consumer stop within the shutdown budget.
	shutdown, err := time.ParseDuration(os.Getenv("SHUTDOWN_TIMEOUT"))
	if err != nil {
		fatalf("SHUTDOWN_TIMEOUT must be set: %v", err)
	}
	sigterm := time.Now()
	exitErr := svc.signal(syscall.SIGTERM, 30*time.Second)
	took := time.Since(sigterm)
	obs = "exit 0"
	if exitErr != nil {
		obs = exitErr.Error()
	}
	t.add("events service: SIGTERM exits cleanly", fmt.Sprintf("exit 0 within SHUTDOWN_TIMEOUT %s + 1s", shutdown),
		fmt.Sprintf("%s after %s", obs, ms(took)), exitErr == nil && took <= shutdown+time.Second)
}

// burst makes hungWrites concurrent POSTs of kind and adds the row: every one 201 within
// writeBound.
func burst(svc *service, rec *recorder, kind string, t *table, check string) {
	var wg sync.WaitGroup
	for i := range hungWrites {
		wg.Go(func() { rec.add(svc.post(kind, i)) })
	}
	wg.Wait()
	var created, inTime int
	var slowest time.Duration
	for _, r := range kindOf(rec.all(), kind) {
		if r.status == 201 {
			created++
			if r.took() <= writeBound {
				inTime++
			}
		}
		slowest = max(slowest, r.took())
	}
	t.add(check, fmt.Sprintf("%d of %d within %s", hungWrites, hungWrites, writeBound),
		fmt.Sprintf("%d 201s, %d within %s; slowest %s", created, inTime, writeBound, ms(slowest)), inTime == hungWrites)
}

// pending is the outbox's pending events on /metrics (summed over series), and whether the
// service exports it at all.
func pending(svc *service) (float64, bool) {
	m, err := svc.metrics()
	if err != nil {
		return 0, false
	}
	sum, found := 0.0, false
	for k, v := range m {
		if k == pendingMetric || strings.HasPrefix(k, pendingMetric+"{") {
			sum, found = sum+v, true
		}
	}
	return sum, found
}

// readKeys reads the topic until every key of want is there or the deadline passes; it returns
// the records and the keys missing.
func readKeys(b *broker.Broker, topic string, want []string, deadline time.Time) ([]broker.Record, []string) {
	if len(want) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	recs, _ := broker.Read(ctx, b.Addr(), topic, want)
	return recs, broker.Missing(recs, want)
}

// headersNote describes the records' event headers: how many lack event_id or event_type.
func headersNote(recs []broker.Record) string {
	var noID, noType int
	for _, r := range recs {
		if r.EventID == "" {
			noID++
		}
		if r.EventType == "" {
			noType++
		}
	}
	return fmt.Sprintf("(%d records; %d without event_id, %d without event_type)", len(recs), noID, noType)
}

// unreadable GETs every id (8 at a time) and returns those not answered 200.
func unreadable(svc *service, want []string) []string {
	var mu sync.Mutex
	var bad []string
	next := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for id := range next {
				if r := svc.do("verify", "GET", "/v1/items/"+id, nil, nil); r.status != 200 {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("%s=%d", id, r.status))
					mu.Unlock()
				}
			}
		})
	}
	for _, id := range want {
		next <- id
	}
	close(next)
	wg.Wait()
	return bad
}

func kindOf(all []record, kind string) []record {
	var out []record
	for _, r := range all {
		if r.kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// acked is the 201s among the records of kind.
func acked(all []record, kind string) []record {
	var out []record
	for _, r := range kindOf(all, kind) {
		if r.status == 201 && r.id != "" {
			out = append(out, r)
		}
	}
	return out
}

func ids(recs []record) []string {
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.id)
	}
	return out
}

func first(s []string, n int) string {
	if len(s) == 0 {
		return ""
	}
	return fmt.Sprint(s[:min(n, len(s))])
}
