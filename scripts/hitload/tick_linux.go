package main

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// newTicker returns a function that waits for the next tick of a timer firing every
// period, and one that stops it. The timer is a timerfd, read through the runtime's
// poller (os.NewFile on a non-blocking descriptor), so a tick wakes the reader when the
// kernel's high-resolution timer fires, not at the poller's next millisecond.
func newTicker(period time.Duration) (func() error, func(), error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, nil, err
	}
	spec := unix.NsecToTimespec(period.Nanoseconds())
	if err := unix.TimerfdSettime(fd, 0, &unix.ItimerSpec{Interval: spec, Value: spec}, nil); err != nil {
		unix.Close(fd)
		return nil, nil, err
	}
	f := os.NewFile(uintptr(fd), "timerfd")
	var expirations [8]byte
	tick := func() error {
		_, err := f.Read(expirations[:]) // the count of expirations since the last read
		return err
	}
	return tick, func() { f.Close() }, nil
}
