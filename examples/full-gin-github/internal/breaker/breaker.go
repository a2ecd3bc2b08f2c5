// Package breaker puts a circuit breaker (sony/gobreaker v2) in front of each
// outbound dependency.
//
// Without one, a dependency that is down or slow makes every request wait for its
// own timeout, ties up goroutines and connections, and keeps hammering the
// dependency while it tries to recover. A breaker counts consecutive failures; past
// a threshold it opens and fails calls at once (the HTTP layer answers 503, the
// cache is bypassed), then after a pause lets a few trial calls through
// (half-open) and closes again when they succeed. Recovery needs no restart.
package breaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sony/gobreaker/v2"
)

// ErrOpen is returned, without calling the dependency, while the breaker is open
// or while a half-open breaker already has its trial calls in flight.
var ErrOpen = errors.New("circuit breaker open")

// Settings configure one breaker. The zero value is not useful; config.Load fills
// them from the environment with defaults.
type Settings struct {
	// Failures is how many consecutive failed calls open the breaker.
	Failures uint32
	// OpenTimeout is how long the breaker stays open before letting trial calls through.
	OpenTimeout time.Duration
	// HalfOpenRequests is how many trial calls a half-open breaker lets through; when
	// all of them succeed it closes, when one fails it opens again.
	HalfOpenRequests uint32
}

// Breaker guards calls to one dependency. It is safe for concurrent use.
type Breaker struct {
	name string
	cb   *gobreaker.CircuitBreaker[struct{}]
}

// Option configures a Breaker.
type Option func(*gobreaker.Settings)

// WithLogger logs every state change, so that "the database is down" and "the
// database is back" show in the logs once each instead of once per request.
func WithLogger(logger *slog.Logger) Option {
	return func(s *gobreaker.Settings) {
		prev := s.OnStateChange
		s.OnStateChange = func(name string, from, to gobreaker.State) {
			if prev != nil {
				prev(name, from, to)
			}
			level := slog.LevelInfo
			if to == gobreaker.StateOpen {
				level = slog.LevelWarn
			}
			logger.Log(context.Background(), level, "circuit breaker state changed",
				"dependency", name, "from", from.String(), "to", to.String())
		}
	}
}

// New returns a closed breaker for the dependency called name.
func New(name string, set Settings, opts ...Option) *Breaker {
	failures := max(set.Failures, 1)
	st := gobreaker.Settings{
		Name:        name,
		MaxRequests: max(set.HalfOpenRequests, 1),
		Timeout:     set.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		// An answer from the dependency, even "not found" or a rejected statement, shows
		// that it is up; only errors that say it is unreachable or failing count.
		IsSuccessful: func(err error) bool { return err == nil || isHarmless(err) },
		// A caller that gave up (client disconnected, shutdown) says nothing about the
		// dependency either way.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) && !isHarmless(err) },
	}
	for _, opt := range opts {
		opt(&st)
	}
	return &Breaker{name: name, cb: gobreaker.NewCircuitBreaker[struct{}](st)}
}

// Name is the dependency's name, as used in logs, /readyz and metrics.
func (b *Breaker) Name() string { return b.name }

// State is "closed", "half-open" or "open".
func (b *Breaker) State() string { return b.cb.State().String() }

// StateValue is the state as a number for metrics: 0 closed, 1 half-open, 2 open.
func (b *Breaker) StateValue() float64 { return float64(b.cb.State()) }

// Do calls fn unless the breaker is open, and records its outcome. fn's error is
// returned as it is; a refused call returns an error wrapping ErrOpen at once.
// Wrap errors that do not mean the dependency is failing with Harmless.
func (b *Breaker) Do(fn func() error) error {
	_, err := b.cb.Execute(func() (struct{}, error) { return struct{}{}, fn() })
	if err == nil {
		return nil // the common case, without the errors.As below, whose target escapes: an allocation per call
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return fmt.Errorf("%s: %w", b.name, ErrOpen)
	}
	var h harmless
	if errors.As(err, &h) {
		return h.err
	}
	return err
}

// Harmless marks err as an answer from a healthy dependency (a missing row, a
// constraint violation), so that it does not count towards opening the breaker.
// Do returns the original err to its caller.
func Harmless(err error) error {
	if err == nil {
		return nil
	}
	return harmless{err: err}
}

type harmless struct{ err error }

func (h harmless) Error() string { return h.err.Error() }
func (h harmless) Unwrap() error { return h.err }

func isHarmless(err error) bool {
	var h harmless
	return errors.As(err, &h)
}
