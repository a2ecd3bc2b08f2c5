// Command hitload is the load generator of scripts/bench-tracing.sh: a closed loop of -c
// connections, each sending GET -url again as soon as the last answer is read, for -d. Constant
// concurrency, not a constant rate: the server's throughput is what it measures.
//
//	hitload -url URL [-c 32] [-d 5s]
//
// It prints one line, "requests N rps R p50_ms A p99_ms B errors E": E counts transport errors
// and answers other than 200, which the figures leave out.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "", "the URL to GET")
	conns := flag.Int("c", 32, "connections, each with one request in flight")
	dur := flag.Duration("d", 5*time.Second, "how long to send")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "hitload: -url is required")
		os.Exit(2)
	}
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: *conns,
			MaxConnsPerHost:     *conns,
			DisableCompression:  true,
		},
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errors    int
		wg        sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(*dur)
	for range *conns {
		wg.Go(func() {
			var mine []time.Duration
			bad := 0
			for time.Now().Before(end) {
				t0 := time.Now()
				resp, err := client.Get(*url)
				if err != nil {
					bad++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			errors += bad
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
	fmt.Printf("requests %d rps %.0f p50_ms %.3f p99_ms %.3f errors %d\n",
		len(latencies), float64(len(latencies))/elapsed.Seconds(), pct(0.50), pct(0.99), errors)
}
