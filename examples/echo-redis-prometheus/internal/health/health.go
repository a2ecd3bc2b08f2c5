// Package health answers liveness and readiness probes.
//
// Liveness says only that the process serves HTTP: restarting a pod because its
// database is down would not bring the database back. Readiness runs every
// registered dependency check, concurrently and each under its own timeout, so one
// hung dependency cannot hold the probe past its deadline. The result is cached
// briefly so that frequent probes from several sources do not hammer dependencies.
//
// Responses follow draft-inadarei-api-health-check (application/health+json).
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Status is the outcome of a check or of the whole report.
type Status string

// Statuses of the health check draft used here.
const (
	StatusPass Status = "pass"
	StatusFail Status = "fail"
)

// ContentType is the media type of health responses.
const ContentType = "application/health+json"

// Defaults for checks and for the result cache.
const (
	DefaultCheckTimeout = time.Second
	DefaultCacheTTL     = time.Second
)

// CheckFunc reports a dependency's health: nil when it is usable. It must honour ctx,
// which carries the check's timeout.
type CheckFunc func(ctx context.Context) error

// Option configures one registered check.
type Option func(*checker)

// WithTimeout sets how long the check may run before it counts as failed.
func WithTimeout(d time.Duration) Option {
	return func(c *checker) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithState attaches a state reporter, e.g. a circuit breaker's state ("closed",
// "half-open", "open"), shown as the check's "breaker" field so an operator can tell
// "dependency down" from "we stopped calling it".
func WithState(state func() string) Option {
	return func(c *checker) { c.state = state }
}

// RegistryOption configures a Registry.
type RegistryOption func(*Registry)

// WithCacheTTL sets how long a readiness result is reused; 0 disables caching.
func WithCacheTTL(d time.Duration) RegistryOption {
	return func(r *Registry) {
		if d >= 0 {
			r.ttl = d
		}
	}
}

type checker struct {
	name    string
	check   CheckFunc
	timeout time.Duration
	state   func() string
}

// Result is one check's entry in a report.
type Result struct {
	Status  Status `json:"status"`
	Output  string `json:"output,omitempty"`
	Time    string `json:"time"`
	Breaker string `json:"breaker,omitempty"`
}

// Report is the readiness response body.
type Report struct {
	Status Status              `json:"status"`
	Checks map[string][]Result `json:"checks,omitempty"`
}

// Registry holds the named dependency checks. It is safe for concurrent use.
type Registry struct {
	ttl time.Duration
	now func() time.Time

	mu       sync.Mutex
	checkers []*checker
	cached   *Report
	cachedAt time.Time
	draining bool

	// runMu lets one caller run the checks while concurrent callers wait for its
	// result instead of starting their own round against the dependencies.
	runMu sync.Mutex
}

// NewRegistry returns an empty registry; with no checks registered the service is ready.
func NewRegistry(opts ...RegistryOption) *Registry {
	r := &Registry{ttl: DefaultCacheTTL, now: time.Now}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// Register adds a named check. Registering a name twice replaces the earlier check.
func (r *Registry) Register(name string, check CheckFunc, opts ...Option) {
	c := &checker{name: name, check: check, timeout: DefaultCheckTimeout}
	for _, opt := range opts {
		opt(c)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, existing := range r.checkers {
		if existing.name == name {
			r.checkers[i] = c
			r.cached = nil
			return
		}
	}
	r.checkers = append(r.checkers, c)
	r.cached = nil
}

// Drain makes readiness fail from now on: the service is shutting down, and load balancers
// should stop sending it new requests while in-flight ones finish.
func (r *Registry) Drain() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.draining = true
	r.cached = nil
}

// Check runs all checks (or returns the cached report while it is fresh).
func (r *Registry) Check(ctx context.Context) Report {
	r.mu.Lock()
	draining := r.draining
	r.mu.Unlock()
	if draining {
		shutdown := Result{Status: StatusFail, Output: "shutting down", Time: r.now().UTC().Format(time.RFC3339)}
		return Report{Status: StatusFail, Checks: map[string][]Result{"shutdown": {shutdown}}}
	}
	if rep, ok := r.fresh(); ok {
		return rep
	}
	r.runMu.Lock()
	defer r.runMu.Unlock()
	// Another caller may have refreshed the report while this one waited.
	if rep, ok := r.fresh(); ok {
		return rep
	}

	r.mu.Lock()
	checkers := append([]*checker(nil), r.checkers...)
	r.mu.Unlock()

	rep := Report{Status: StatusPass}
	if len(checkers) > 0 {
		rep.Checks = make(map[string][]Result, len(checkers))
	}
	results := make([]Result, len(checkers))
	var wg sync.WaitGroup
	for i, c := range checkers {
		wg.Go(func() { results[i] = r.run(ctx, c) })
	}
	wg.Wait()
	for i, c := range checkers {
		rep.Checks[c.name] = []Result{results[i]}
		if results[i].Status != StatusPass {
			rep.Status = StatusFail
		}
	}

	r.mu.Lock()
	r.cached, r.cachedAt = &rep, r.now()
	r.mu.Unlock()
	return rep
}

func (r *Registry) fresh() (Report, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cached == nil || r.ttl == 0 || r.now().Sub(r.cachedAt) >= r.ttl {
		return Report{}, false
	}
	return *r.cached, true
}

// run executes one check under its timeout. The check runs in its own goroutine so
// that a check ignoring its context still cannot stall the probe; a panicking check
// is reported as failed instead of crashing the service.
func (r *Registry) run(ctx context.Context, c *checker) Result {
	// The probe's own cancellation should not cut a shared round short for the callers
	// waiting on it; the per-check timeout bounds the work instead.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()

	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- fmt.Errorf("check panicked: %v", v)
			}
		}()
		done <- c.check(ctx)
	}()

	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s", c.timeout)
	}

	res := Result{Status: StatusPass, Time: r.now().UTC().Format(time.RFC3339)}
	if err != nil {
		res.Status, res.Output = StatusFail, err.Error()
	}
	if c.state != nil {
		res.Breaker = c.state()
	}
	return res
}

// Liveness answers GET /healthz: 200 {"status":"pass"} whenever the process can serve.
func (r *Registry) Liveness() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h["Content-Type"] = livenessHeader.contentType
		h["Cache-Control"] = livenessHeader.cacheControl
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(livenessBody)
	})
}

// The liveness answer never changes, so it is encoded once, exactly as write would
// encode it; the header values are shared between responses (capacity 1: an append
// copies them).
var (
	livenessBody   = mustEncode(Report{Status: StatusPass})
	livenessHeader = struct{ contentType, cacheControl []string }{[]string{ContentType}, []string{"no-store"}}
)

func mustEncode(rep Report) []byte {
	b, err := json.Marshal(rep)
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// Readiness answers GET /readyz: 200 when every check passes, 503 otherwise, with the
// per-check results in the body so the failing dependency is named.
func (r *Registry) Readiness() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rep := r.Check(req.Context())
		status := http.StatusOK
		if rep.Status != StatusPass {
			status = http.StatusServiceUnavailable
		}
		write(w, status, rep)
	})
}

func write(w http.ResponseWriter, status int, rep Report) {
	h := w.Header()
	h.Set("Content-Type", ContentType)
	// Probes must see the current state, never a copy from an intermediary.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// An encoding error here means the client went away; there is no one left to tell.
	_ = json.NewEncoder(w).Encode(rep)
}
