package main

import (
	"testing"
	"time"
)

// TestPaceReleasesEachRequestOnceWhenDue: every due time of the run comes once, in order,
// spaced by the interval, and none before it is due.
func TestPaceReleasesEachRequestOnceWhenDue(t *testing.T) {
	tick, stop, err := newTicker(pacePeriod)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	start := time.Now()
	end := start.Add(60 * time.Millisecond)
	const interval = 2 * time.Millisecond
	due := make(chan time.Time, 100)
	errc := make(chan error, 1)
	go func() { errc <- pace(start, end, interval, tick, due) }()
	n := 0
	for d := range due {
		if now := time.Now(); now.Before(d) {
			t.Fatalf("request %d released %v before it was due", n, d.Sub(now))
		}
		if want := start.Add(time.Duration(n) * interval); !d.Equal(want) {
			t.Fatalf("request %d due at %v, want %v", n, d.Sub(start), want.Sub(start))
		}
		n++
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if n != 30 {
		t.Fatalf("%d requests released, want 30", n)
	}
}

// TestTickerTicks: the ticker's waits end, and take about the period on average
// (a loose bound: a loaded machine delays a tick, it never brings one early).
func TestTickerTicks(t *testing.T) {
	tick, stop, err := newTicker(time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	start := time.Now()
	for range 20 {
		if err := tick(); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 19*time.Millisecond {
		t.Fatalf("20 ticks of 1 ms took %v", took)
	}
}
