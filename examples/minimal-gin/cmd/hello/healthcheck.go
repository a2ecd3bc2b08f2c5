package main

import (
	"context"
	"errors"
	"strconv"
	"time"

	"example.com/hello/internal/config"
	"example.com/hello/internal/health"
)

// healthcheckTimeout bounds the -healthcheck probe; the image's HEALTHCHECK allows a little more.
const healthcheckTimeout = 3 * time.Second

// healthcheck is the -healthcheck mode: it asks the service running in the same
// container (or host) whether it is alive, by GET http://127.0.0.1:$PORT/healthz,
// and returns nil when it answers 200 OK. PORT is read as the server reads it, so the
// two agree; no other setting matters to the probe.
func healthcheck(ctx context.Context, getenv func(string) string) error {
	port, err := config.Port(getenv)
	if err != nil {
		return err
	}
	if port == 0 {
		return errors.New("health probe: PORT is 0 (a random port), so there is no port to probe")
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	return health.Probe(ctx, "http://127.0.0.1:"+strconv.Itoa(port)+"/healthz")
}
