package main

import (
	"time"
)

// pacePeriod is how often the pacer releases the requests that have come due: far below
// the spacing a millisecond timer would give, and far above what waking the pacer costs.
const pacePeriod = 100 * time.Microsecond

// pace releases the due times of a constant rate, request i at start + i*interval until
// end, on due (closed at the end), waking every pacePeriod. A sleep of its own per request
// would not do: a Go program whose only P is idle wakes about a millisecond late from any
// timer (time.Sleep(50µs) takes 1.1 ms), so requests would leave in bursts of a
// millisecond's worth, a queue at the server that a constant rate is meant not to make.
// tick waits for the next period (a timerfd on Linux, read through the runtime's poller,
// which wakes at once when the timer fires).
func pace(start, end time.Time, interval time.Duration, tick func() error, due chan<- time.Time) error {
	defer close(due)
	for i := int64(0); ; {
		now := time.Now()
		for ; ; i++ {
			t := start.Add(time.Duration(i) * interval)
			if !t.Before(end) {
				return nil
			}
			if t.After(now) {
				break
			}
			due <- t
		}
		if err := tick(); err != nil {
			return err
		}
	}
}
