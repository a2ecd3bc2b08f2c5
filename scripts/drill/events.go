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
	restartToStop  = 6 * time.Second // from a restart after kill -9 to SIGTERM
)

// dbReady is the readiness of a service whose broker may hang: PostgreSQL (migrated) and Redis
// pass; kafka may fail.
func dbReady(_ int, body string) bool {
	return checkStatus(body, "postgres") == "pass" && checkStatus(body, "redis") == "pass"
}

// eventsDrill is the state the phases of the events drill share.
type eventsDrill struct {
	svc   *service
	b     *broker.Broker
	topic string
	rec   recorder
	t     *table
}

// events drills the full-stack service (pg+redis+kafka+prometheus) whose broker is b, hung at
// the start: writes while the broker hangs, then while it swallows Produce; the outbox's drain
// once it answers; kill -9 under load; PostgreSQL and Redis hung by SIGSTOP; SIGTERM.
func events(svc *service, b *broker.Broker, topic string, srv servers, t *table) {
	d := &eventsDrill{svc: svc, b: b, topic: topic, t: t}
	svc.start(dbReady)

	logf("broker hung: %d concurrent POSTs", hungWrites)
	d.burst("hung", "broker hung: POST answers 201")
	logf("the hung broker holds %d connections of the service", b.Hung())
	d.fill()

	// The broker becomes real but swallows Produce: it answers metadata, never a Produce.
	b.SwallowProduce(true)
	if err := b.Serve(); err != nil {
		fatalf("%v", err)
	}
	logf("broker real (kfake on %s) but swallowing Produce: %d concurrent POSTs", b.Addr(), hungWrites)
	d.burst("swallowed", "broker swallows Produce: POST answers 201")
	time.Sleep(3 * time.Second) // the relay's attempts meet the swallowing broker

	released := d.drain()
	d.checkEvents("broker hung, swallowing, real: 201s have their event", released, "hung", "fill", "swallowed")

	seeds := ids(acked(d.rec.all(), "hung"))
	if len(seeds) == 0 {
		seeds = []string{"00000000-0000-0000-0000-000000000000"}
	}
	d.killUnderLoad(seeds)
	// From here on the consumer runs too (it is off by default), a settled member of its group
	// by the time of the last kill -9.
	svc.env = append(svc.env, "KAFKA_CONSUMER_ENABLED=true")
	_ = svc.signal(syscall.SIGTERM, 30*time.Second)
	svc.start(dbReady)
	d.hang("postgres", srv.pgHang, srv.pgResume, seeds, nil)
	d.hang("redis", srv.redisHang, srv.redisResume, seeds, d.writesWhileRedisHangs())
	d.checkEvents("SIGSTOP phases: 201s have their event", time.Now(), "load-postgres", "load-redis")

	// A crash-restarted service stopped soon after, as a rollout does: its consumer group still
	// counts the killed process as a member (until its session times out), so a JoinGroup is
	// pending when SIGTERM comes.
	logf("kill -9, restart, SIGTERM %s later", restartToStop)
	_ = svc.signal(syscall.SIGKILL, 5*time.Second)
	svc.start(dbReady)
	time.Sleep(restartToStop)
	d.sigterm()
}

// burst makes hungWrites concurrent POSTs of kind and adds the row: every one 201 within
// writeBound.
func (d *eventsDrill) burst(kind, check string) {
	var wg sync.WaitGroup
	for i := range hungWrites {
		wg.Go(func() { d.rec.add(d.svc.post(kind, i)) })
	}
	wg.Wait()
	var created, inTime int
	var slowest time.Duration
	for _, r := range kindOf(d.rec.all(), kind) {
		if r.status == 201 {
			created++
			if r.took() <= writeBound {
				inTime++
			}
		}
		slowest = max(slowest, r.took())
	}
	d.t.add(check, fmt.Sprintf("%d of %d within %s", hungWrites, hungWrites, writeBound),
		fmt.Sprintf("%d 201s, %d within %s; slowest %s", created, inTime, writeBound, ms(slowest)), inTime == hungWrites)
}

// fill makes fillWrites POSTs, 8 at a time, within fillBudget: the outbox's backlog.
func (d *eventsDrill) fill() {
	logf("broker hung: filling the outbox with %d writes (at most %s)", fillWrites, fillBudget)
	start := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range jobs {
				d.rec.add(d.svc.post("fill", i))
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
	wg.Wait()
	slowest, _ := longestOf(kindOf(d.rec.all(), "fill"), func(record) bool { return true })
	logf("filled: %d acknowledged in %s, slowest %s", len(acked(d.rec.all(), "fill")), ms(time.Since(start)), ms(slowest))
}

// drain lets the broker answer Produce again and times the outbox's backlog out: the relay's
// publish throughput, from the Produce requests the broker answers (the records of the backlog
// over the time from the first request to the one that completed it), and the time until
// outbox_pending_events is 0 on /metrics. It returns when the broker was released.
func (d *eventsDrill) drain() time.Time {
	backlog, hasMetric := pending(d.svc)
	logf("broker answers Produce again; %s = %v", pendingMetric, backlog)
	d.b.ResetProduced()
	d.b.SwallowProduce(false)
	released := time.Now()
	var sent broker.Produced
	drained := time.Duration(-1)
	for hasMetric && time.Since(released) < eventBound {
		if p := d.b.Produced(); sent.Records == 0 && p.Records >= int(backlog) {
			sent = p
		}
		if p, _ := pending(d.svc); p == 0 && sent.Records > 0 {
			drained = time.Since(released)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	obs := "no " + pendingMetric + " on /metrics"
	rate := 0.0
	switch {
	case hasMetric && drained < 0:
		p := d.b.Produced()
		obs = fmt.Sprintf("%v pending at the release; %d records produced, pending not 0 in %s", backlog, p.Records, eventBound)
	case hasMetric:
		if took := sent.Last.Sub(sent.First); took > 0 {
			rate = float64(sent.Records) / took.Seconds()
		}
		obs = fmt.Sprintf("%d events in %s (first after %s): %.0f events/s; pending 0 after %s (>= %.0f/s)",
			sent.Records, ms(sent.Last.Sub(sent.First)), ms(sent.First.Sub(released)), rate, ms(drained), backlog/drained.Seconds())
	}
	d.t.add("outbox drain after the broker returns", fmt.Sprintf("pending 0 within %s; > 0 events/s", eventBound), obs, drained >= 0 && rate > 0)
	return released
}

// checkEvents adds the row: every 201 of the kinds is a record key on the topic within
// eventBound of since.
func (d *eventsDrill) checkEvents(check string, since time.Time, kinds ...string) {
	var want []string
	for _, k := range kinds {
		want = append(want, ids(acked(d.rec.all(), k))...)
	}
	got, missing := readKeys(d.b, d.topic, want, since.Add(eventBound))
	d.t.add(check, fmt.Sprintf("0 missing within %s", eventBound),
		fmt.Sprintf("%d missing of %d %s", len(missing), len(want), headersNote(got)), len(missing) == 0 && len(want) > 0)
}

// killUnderLoad sends SIGKILL to the service while it takes writes and reads, starts it again,
// and checks that every 201 has its event and is readable.
func (d *eventsDrill) killUnderLoad(seeds []string) {
	work := startLoad(6, func(w, n int) {
		if (n+w)%3 == 0 {
			d.rec.add(d.svc.post("killed", w*100000+n))
		} else {
			d.svc.do("get", "GET", "/v1/items/"+seeds[rand.IntN(len(seeds))], nil, nil)
		}
	})
	time.Sleep(2 * time.Second)
	logf("kill -9 under load")
	_ = d.svc.signal(syscall.SIGKILL, 5*time.Second)
	killed := time.Now()
	d.svc.start(dbReady)
	logf("restarted in %s", ms(time.Since(killed)))
	time.Sleep(2 * time.Second)
	work.finish()
	d.checkEvents("kill -9 mid-load, restart: 201s have their event", time.Now(), "killed")
	want := ids(acked(d.rec.all(), "killed"))
	bad := unreadable(d.svc, want)
	d.t.add("kill -9 mid-load, restart: 201s readable", "0 lost", fmt.Sprintf("%d lost of %d %s", len(bad), len(want), first(bad, 3)), len(bad) == 0 && len(want) > 0)
}

// hang SIGSTOPs dep for hangDuration under load, then SIGCONTs it: every request ends within
// REQUEST_TIMEOUT + grace, the breaker opens and closes again; with Redis hung, reads are
// served from PostgreSQL. during, when not nil, runs one second into the hang; the check it
// returns runs, and adds its row, after the others.
func (d *eventsDrill) hang(dep, hang, resume string, seeds []string, during func() func()) {
	kind := "load-" + dep
	sm := startSampler(d.svc)
	work := startLoad(6, func(w, n int) {
		if (n+w)%5 == 0 {
			d.rec.add(d.svc.post(kind, w*100000+n))
		} else {
			d.rec.add(d.svc.do(kind, "GET", "/v1/items/"+seeds[rand.IntN(len(seeds))], nil, nil))
		}
	})
	time.Sleep(2 * time.Second)
	logf("SIGSTOP %s", dep)
	down := shell(hang)
	var after func()
	if during != nil {
		time.Sleep(time.Second) // the breaker has opened
		after = during()
	}
	time.Sleep(time.Until(down.Add(hangDuration)))
	logf("SIGCONT %s", dep)
	up := shell(resume)
	time.Sleep(breakerCloseBy + time.Second)
	work.finish()
	samples := sm.finish()
	if after != nil {
		defer after()
	}

	all := kindOf(d.rec.all(), kind)
	longest, _ := longestOf(all, func(record) bool { return true })
	d.t.add(dep+" hung (SIGSTOP): longest request", fmt.Sprintf("<= REQUEST_TIMEOUT %s + %s", reqTimeout, grace),
		fmt.Sprintf("%s of %d requests", ms(longest), len(all)), longest <= reqTimeout+grace)
	open := opened(samples, dep, down, up.Add(time.Second))
	d.t.add(dep+" hung (SIGSTOP): breaker opens", "during the hang", yes(open), open)
	closed := closedAfter(samples, dep, up, time.Now())
	obs := "never"
	if closed >= 0 {
		obs = ms(closed)
	}
	d.t.add(dep+" hung (SIGSTOP): breaker closes", fmt.Sprintf("<= %s after SIGCONT", breakerCloseBy), obs, closed >= 0 && closed <= breakerCloseBy)
	if dep != "redis" {
		return
	}
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
	d.t.add("redis hung (SIGSTOP): reads served from PostgreSQL", "every GET 200", fmt.Sprintf("%d of %d", served, gets), gets > 0 && served == gets)
}

// writesWhileRedisHangs prepares two cached items; the function it returns, run while Redis
// hangs, renames one and deletes the other (PostgreSQL takes both, the cache cannot be told),
// and returns the check to run once Redis is back: the reads see the rename and the delete,
// not the entries cached before.
func (d *eventsDrill) writesWhileRedisHangs() func() func() {
	var renamed, deleted string
	for i, id := range []*string{&renamed, &deleted} {
		r := d.svc.post("cached", i)
		if r.status != 201 {
			fatalf("create = %d %s", r.status, r.err)
		}
		*id = r.id
		for range 2 {
			d.svc.do("get", "GET", "/v1/items/"+r.id, nil, nil) // a miss that fills, then a hit
		}
	}
	return func() func() {
		put := d.svc.do("put", "PUT", "/v1/items/"+renamed, strings.NewReader(`{"name":"renamed while redis hung","price":2}`), nil)
		del := d.svc.do("delete", "DELETE", "/v1/items/"+deleted, nil, nil)
		logf("while Redis hangs: PUT %d, DELETE %d", put.status, del.status)
		return func() {
			got := d.svc.do("get", "GET", "/v1/items/"+renamed, nil, nil)
			gone := d.svc.do("get", "GET", "/v1/items/"+deleted, nil, nil)
			fresh := strings.Contains(got.body, "renamed while redis hung")
			d.t.add("redis hung: PUT/DELETE, then reads after it returns", "PUT 200 then new name; DELETE 204 then 404",
				fmt.Sprintf("PUT %d, GET %d new name %v; DELETE %d, GET %d", put.status, got.status, fresh, del.status, gone.status),
				put.status == 200 && got.status == 200 && fresh && del.status == 204 && gone.status == 404)
		}
	}
}

// sigterm stops the service: the relay, the publisher and the consumer stop within the
// shutdown budget (SHUTDOWN_TIMEOUT, then 1 s for the process to exit).
func (d *eventsDrill) sigterm() {
	shutdown, err := time.ParseDuration(os.Getenv("SHUTDOWN_TIMEOUT"))
	if err != nil {
		fatalf("SHUTDOWN_TIMEOUT must be set: %v", err)
	}
	start := time.Now()
	exitErr := d.svc.signal(syscall.SIGTERM, 30*time.Second)
	took := time.Since(start)
	obs := "exit 0"
	if exitErr != nil {
		obs = exitErr.Error()
	}
	d.t.add("kill -9, restart, SIGTERM: exits cleanly", fmt.Sprintf("exit 0 within SHUTDOWN_TIMEOUT %s + 1s", shutdown),
		fmt.Sprintf("%s after %s", obs, ms(took)), exitErr == nil && took <= shutdown+time.Second)
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
