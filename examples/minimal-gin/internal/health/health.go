// Package health answers liveness and readiness probes.
//
// Liveness says only that the process serves HTTP: restarting a pod because its
// database is down would not bring the database back. Readiness is the instance's
// own state: it fails until start-up work is done (the gates components hold, such
// as schema migrations) and while the service drains after SIGTERM. A dependency's
// outage after start does not fail it: the dependency is shared, and failing
// readiness would take every instance out of the load balancer at once, where they
// could no longer answer even a quick 503 (Kubernetes' and Spring Boot's guidance).
// An operator can opt a dependency in with Require (READINESS_CHECKS).
//
// Every registered dependency check still runs on each readiness probe, concurrently
// and each under its own timeout, so one hung dependency cannot hold the probe past
// its deadline, and the body reports each one's state. The results are cached
// briefly so that frequent probes from several sources do not hammer dependencies.
//
// Responses follow draft-inadarei-api-health-check (application/health+json).
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Status is the outcome of a check or of the whole report.
type Status string

// Statuses of the health check draft used here.
const (
	StatusPass Status = "pass"
	// StatusWarn is a ready instance with a failing dependency that readiness does
	// not require: it answers 200 and names the dependency.
	StatusWarn Status = "warn"
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
	required map[string]bool
	gates    []*gate
	cached   map[string][]Result
	cachedAt time.Time
	draining bool

	// runMu lets one caller run the checks while concurrent callers wait for its
	// result instead of starting their own round against the dependencies.
	runMu sync.Mutex
}

// NewRegistry returns an empty registry; with no gates the service is ready.
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
			r.cachedAt = time.Time{}
			return
		}
	}
	r.checkers = append(r.checkers, c)
	r.cachedAt = time.Time{}
}

// gate is start-up work readiness waits for.
type gate struct {
	name string
	done func() bool
	open bool
}

// Gate holds readiness back until the start-up work called name is done: until done
// reports true, readiness fails and the body names the gate. Once done has reported
// true the gate stays open, since start-up happens once; what fails later is a
// dependency's state, reported by its check. done is called on every probe while the
// gate is closed, so it must be cheap and must not block (an atomic flag).
func (r *Registry) Gate(name string, done func() bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gates = append(r.gates, &gate{name: name, done: done})
}

// Require makes the named checks decide readiness: while one of them fails, readiness
// fails too. The other checks are reported in the body but leave the instance ready.
// A name that is not a registered check is an error naming the registered ones.
func (r *Registry) Require(names ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	registered := make([]string, 0, len(r.checkers))
	for _, c := range r.checkers {
		registered = append(registered, c.name)
	}
	slices.Sort(registered)
	required := make(map[string]bool, len(names))
	for _, name := range names {
		if !slices.Contains(registered, name) {
			if len(registered) == 0 {
				return fmt.Errorf("unknown check %q: this service registers none", name)
			}
			return fmt.Errorf("unknown check %q: this service registers %s", name, strings.Join(registered, ", "))
		}
		required[name] = true
	}
	r.required = required
	return nil
}

// Drain makes readiness fail from now on: the service is shutting down, and load balancers
// should stop sending it new requests while in-flight ones finish.
func (r *Registry) Drain() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.draining = true
	r.cachedAt = time.Time{}
}

// Check reports readiness: the gates, the draining flag, and the results of every
// check (run now, or reused while a recent round is fresh).
func (r *Registry) Check(ctx context.Context) Report {
	r.mu.Lock()
	draining := r.draining
	r.mu.Unlock()
	if draining {
		shutdown := Result{Status: StatusFail, Output: "shutting down", Time: r.now().UTC().Format(time.RFC3339)}
		return Report{Status: StatusFail, Checks: map[string][]Result{"shutdown": {shutdown}}}
	}
	return r.report(r.results(ctx))
}

// report judges the checks' results: a failing required check or a closed gate fails
// readiness, any other failing check only warns.
func (r *Registry) report(results map[string][]Result) Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := Report{Status: StatusPass, Checks: results}
	for name, res := range results {
		switch {
		case res[0].Status == StatusPass:
		case r.required[name]:
			rep.Status = StatusFail
		case rep.Status == StatusPass:
			rep.Status = StatusWarn
		}
	}
	cloned := false
	for _, g := range r.gates {
		if g.open || g.done() {
			g.open = true
			continue
		}
		if !cloned { // the cached results are shared between callers
			rep.Checks, cloned = maps.Clone(results), true
			if rep.Checks == nil {
				rep.Checks = make(map[string][]Result, 1)
			}
		}
		pending := Result{Status: StatusFail, Output: "start-up not done", Time: r.now().UTC().Format(time.RFC3339)}
		rep.Checks[g.name] = []Result{pending}
		rep.Status = StatusFail
	}
	return rep
}

// results runs every check, or returns the results of a round that is still fresh.
func (r *Registry) results(ctx context.Context) map[string][]Result {
	if res, ok := r.fresh(); ok {
		return res
	}
	r.runMu.Lock()
	defer r.runMu.Unlock()
	// Another caller may have refreshed the results while this one waited.
	if res, ok := r.fresh(); ok {
		return res
	}

	r.mu.Lock()
	checkers := append([]*checker(nil), r.checkers...)
	r.mu.Unlock()

	var checks map[string][]Result
	if len(checkers) > 0 {
		checks = make(map[string][]Result, len(checkers))
	}
	results := make([]Result, len(checkers))
	var wg sync.WaitGroup
	for i, c := range checkers {
		wg.Go(func() { results[i] = r.run(ctx, c) })
	}
	wg.Wait()
	for i, c := range checkers {
		checks[c.name] = []Result{results[i]}
	}

	r.mu.Lock()
	r.cached, r.cachedAt = checks, r.now()
	r.mu.Unlock()
	return checks
}

func (r *Registry) fresh() (map[string][]Result, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cachedAt.IsZero() || r.ttl == 0 || r.now().Sub(r.cachedAt) >= r.ttl {
		return nil, false
	}
	return r.cached, true
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

// Readiness answers GET /readyz: 200 when the instance is ready (status pass, or warn
// when a dependency it does not require fails), 503 otherwise, with the per-check
// results in the body so a failing dependency or unfinished start-up is named.
func (r *Registry) Readiness() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rep := r.Check(req.Context())
		status := http.StatusOK
		if rep.Status == StatusFail {
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
