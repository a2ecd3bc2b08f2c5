package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/svcgen/svcgen/cmd/svcgen/internal/prompt"
	"github.com/svcgen/svcgen/generator"
)

// IOStreams are the standard streams a command uses. Commands never touch os.Stdin/os.Stdout
// directly, so tests run every command with buffers and a chosen answer to "is this a terminal?".
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Interactive reports whether prompts may be shown: both stdin and stdout are terminals.
	Interactive bool
	// Asker puts questions to the user when Interactive: survey on the terminal, a
	// prompt.Script in tests.
	Asker prompt.Asker
	// Templates loads the catalog for an overlay directory ("" for none): nil means
	// generator.LoadTemplates; tests give an in-memory template tree.
	Templates func(overlay string) (*generator.Catalog, error)
}

// loadTemplates loads the catalog the commands render from.
func (s *IOStreams) loadTemplates(overlay string) (*generator.Catalog, error) {
	if s.Templates != nil {
		return s.Templates(overlay)
	}
	return generator.LoadTemplates(overlay)
}

// SystemIO returns the process's streams.
func SystemIO() *IOStreams {
	s := &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		Interactive: term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd())),
	}
	if s.Interactive {
		s.Asker = prompt.NewSurvey(os.Stdin, os.Stdout, os.Stderr)
	}
	return s
}

// exitError carries a specific exit code for outcomes that are not plain failures, such as
// `regen --check` finding drift or a merge leaving conflicts.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errSilent marks an error whose message the command has already printed.
var errSilent = errors.New("")

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func printError(streams *IOStreams, err error) {
	if errors.Is(err, errSilent) {
		return
	}
	fmt.Fprintf(streams.ErrOut, "svcgen: %v\n", err)
}
