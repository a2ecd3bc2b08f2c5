// Command hitload is the load generator of scripts/bench-service.sh and
// scripts/bench-tracing.sh: -c connections sending GET -url (or, with -body, a POST of that
// file's JSON) for -d, in one of two modes:
//
//   - closed loop (the default): each connection sends again as soon as the last answer is
//     read. Constant concurrency: the server's peak throughput is what it measures.
//   - constant rate (-rate R): request i is due at start + i/R, whatever the answers before it
//     did; a pacer releases it then (pace.go, to within 0.1 ms) and a free connection sends it
//     (at once if it is already late). Latency is counted
//     from when a request is sent, as vegeta counts it: on a machine the client shares, a
//     count from when it was due charges the client's own late wake-ups (timers, scheduling)
//     to the server, queued behind every connection.
//
// Usage:
//
//	hitload -url URL [-c 32] [-d 5s] [-rate R] [-body FILE]
//
// It prints one line, "requests N rps R p50_ms A p99_ms B errors E late L": E counts
// transport errors and answers other than 2xx, which the figures leave out; L (constant rate
// only) counts requests sent more than a millisecond after they were due (every connection
// was waiting for an answer, or the client woke late): the rate was not quite held.
//
// It exists because a load generator shares the machine with the server it measures: this
// one speaks HTTP/1.1 itself over one keep-alive connection per -c (conn.go: one write of a
// prepared request, the response read and skipped without a header map) and keeps nothing
// per request but a latency. vegeta's results pipeline encodes and decodes every response's
// headers and body, and net/http's client, which hitload used before, spent 30–37 µs of CPU
// per read hit against this one's 19–21: CPU the server and its dependencies need.

package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "", "the URL to send to")
	conns := flag.Int("c", 32, "connections, each with one request in flight")
	dur := flag.Duration("d", 5*time.Second, "how long to send")
	rate := flag.Float64("rate", 0, "requests per second (0: closed loop)")
	bodyFile := flag.String("body", "", "POST this file as application/json instead of GET")
	flag.Parse()
	if *url == "" || *conns < 1 || *rate < 0 {
		fmt.Fprintln(os.Stderr, "hitload: -url is required, -c at least 1, -rate not negative")
		os.Exit(2)
	}
	var body []byte
	if *bodyFile != "" {
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "hitload:", err)
			os.Exit(2)
		}
		body = b
	}
	req, err := newRequest(*url, body)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hitload:", err)
		os.Exit(2)
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errors    int
		late      int
		wg        sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(*dur)
	var due chan time.Time // constant rate: the due time of each request, from the pacer
	if *rate > 0 {
		tick, stop, err := newTicker(pacePeriod)
		if err != nil {
			fmt.Fprintln(os.Stderr, "hitload: pacer:", err)
			os.Exit(2)
		}
		defer stop()
		due = make(chan time.Time, 1<<16)
		interval := time.Duration(float64(time.Second) / *rate)
		go func() {
			if err := pace(start, end, interval, tick, due); err != nil {
				fmt.Fprintln(os.Stderr, "hitload: pacer:", err)
				os.Exit(1)
			}
		}()
	}
	for range *conns {
		wg.Go(func() {
			var mine []time.Duration
			bad, behind := 0, 0
			c := &conn{req: req, deadline: end.Add(10 * time.Second)}
			defer c.close()
			for {
				t0 := time.Now()
				if due != nil {
					t, ok := <-due
					if !ok {
						break
					}
					if t0 = time.Now(); t0.Sub(t) > time.Millisecond {
						behind++
					}
				} else if !t0.Before(end) {
					break
				}
				if ok, _ := c.do(); !ok {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			errors += bad
			late += behind
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1000
	}
	fmt.Printf("requests %d rps %.0f p50_ms %.3f p99_ms %.3f errors %d late %d\n",
		len(latencies), float64(len(latencies))/elapsed.Seconds(), pct(0.50), pct(0.99), errors, late)
}
