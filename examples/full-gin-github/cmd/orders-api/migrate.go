package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/acme/orders-api/internal/breaker"
	"github.com/acme/orders-api/internal/config"
	"github.com/acme/orders-api/internal/migrate"
	"github.com/acme/orders-api/internal/postgres"
)

// usageError is a command line the binary does not understand: main prints the
// usage with it and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// migrateCommand is `orders-api migrate up|down [N]|status`, run against the database
// the environment configures (the same variables as serving).
func migrateCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	sub, steps, err := parseMigrate(args)
	if err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	// Retries are logged as the service logs, to stderr; the command's answer
	// goes to stdout.
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	db, err := postgres.Open(cfg.Postgres, breaker.New("postgres", cfg.Postgres.Breaker), logger)
	if err != nil {
		return err
	}
	defer db.Close()
	runner, err := db.Migrator()
	if err != nil {
		return err
	}

	switch sub {
	case "up":
		applied, err := runner.Up(ctx)
		if err != nil {
			return err
		}
		for _, m := range applied {
			fmt.Fprintf(stdout, "applied %s\n", m.Name)
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "nothing to apply: every migration is applied")
		}
		return nil
	case "down":
		reverted, err := runner.Down(ctx, steps)
		if err != nil {
			return err
		}
		for _, m := range reverted {
			fmt.Fprintf(stdout, "rolled back %s\n", m.Name)
		}
		if len(reverted) == 0 {
			fmt.Fprintln(stdout, "nothing to roll back: no migration is applied")
		}
		return nil
	default:
		statuses, err := runner.Status(ctx)
		writeStatus(stdout, statuses)
		return err
	}
}

// writeStatus prints one line per migration: version, name, state, when applied.
func writeStatus(w io.Writer, statuses []migrate.Status) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tSTATE\tAPPLIED AT")
	for _, s := range statuses {
		state, at := "pending", "-"
		if s.Applied {
			state, at = "applied", s.AppliedAt.UTC().Format(time.RFC3339)
		}
		switch {
		case s.Changed:
			state += ", CHANGED since applied (checksum mismatch)"
		case s.Unknown:
			state += ", not in this binary"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", s.Version, s.Name, state, at)
	}
	_ = tw.Flush()
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
