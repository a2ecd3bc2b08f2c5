package config

import (
	"errors"
	"fmt"
)

// Port reads PORT exactly as Load does (same default and range) and nothing else.
// The -healthcheck probe uses it: it must find the server's port without depending
// on the settings only the server needs, such as the addresses of dependencies.
func Port(getenv func(string) string) (int, error) {
	l := loader{getenv: getenv}
	port := l.port()
	if len(l.errs) > 0 {
		return 0, fmt.Errorf("invalid configuration: %w", errors.Join(l.errs...))
	}
	return port, nil
}

// port reads PORT: the TCP port to listen on, 8080 by default, 0 for a free one.
func (l *loader) port() int {
	return l.int("PORT", 8080, 0, 65535)
}
