//go:build !linux

package main

import "time"

// newTicker returns a function that waits for the next tick of a time.Ticker, and one
// that stops it: on systems without timerfd the runtime's timers set the granularity.
func newTicker(period time.Duration) (func() error, func(), error) {
	t := time.NewTicker(period)
	return func() error { <-t.C; return nil }, t.Stop, nil
}
