package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// usageError is a command line the binary does not understand: main prints the
// usage with it and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// migrateCommand is `hello migrate up|down [N]|status`, run against the database
// the environment configures (the same variables as serving).
// This service has no database: every subcommand says there is nothing to migrate
// and succeeds, so a deployment that runs `migrate up` before the service works
// for it too.
func migrateCommand(_ context.Context, args []string, _ func(string) string, stdout io.Writer) error {
	sub, _, err := parseMigrate(args)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "hello has no database: nothing to migrate (%s)\n", sub)
	return err
}

// parseMigrate reads the subcommand of migrate and, for down, how many steps
// (one unless given).
func parseMigrate(args []string) (sub string, steps int, err error) {
	if len(args) == 0 {
		return "", 0, usageErrorf("migrate needs a subcommand: up, down or status")
	}
	sub, rest := args[0], args[1:]
	switch {
	case sub != "up" && sub != "down" && sub != "status":
		return "", 0, usageErrorf("unknown migrate subcommand %q: use up, down or status", sub)
	case sub == "down" && len(rest) == 1:
		n, err := strconv.Atoi(rest[0])
		if err != nil || n < 1 {
			return "", 0, usageErrorf("migrate down %s: the number of steps must be a positive integer", rest[0])
		}
		return sub, n, nil
	case sub == "down" && len(rest) > 1:
		return "", 0, usageErrorf("migrate down takes at most one argument, the number of steps (got %q)", rest)
	case sub != "down" && len(rest) > 0:
		return "", 0, usageErrorf("migrate %s takes no arguments (got %q)", sub, rest)
	}
	return sub, 1, nil
}

// exitCode is the process exit code for err: 0 for none, 2 for a usage error, 1 otherwise.
func exitCode(err error) int {
	var usage *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		return 2
	}
	return 1
}
