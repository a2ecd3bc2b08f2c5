// Package prompt is the small interface svcgen's commands ask questions through. Commands build
// the questions (which ones, in which order, with which defaults, help and validation) and an
// Asker puts them to the user: NewSurvey in a terminal, a Script in tests. The terminal library
// is used in survey.go only, so replacing it touches one file.
package prompt

import (
	"errors"
	"io"
)

// ErrInterrupted is returned by every Asker method when the user pressed Ctrl-C at a prompt.
var ErrInterrupted = errors.New("interrupted")

// ErrEOF is returned when input ended at a prompt (Ctrl-D, or stdin closed). It wraps io.EOF.
var ErrEOF = errEOF{}

type errEOF struct{}

func (errEOF) Error() string        { return "input ended" }
func (errEOF) Is(target error) bool { return target == io.EOF }

// Option is one choice of a Select or MultiSelect.
type Option struct {
	Value       string // what is returned, and shown
	Description string // shown beside the value
}

// Input asks for a line of text.
type Input struct {
	Message string
	Help    string // shown when the user types ?
	Default string // returned when the user just presses Enter
	// Validate, when set, rejects an answer with an error that is shown at the prompt, which
	// then asks again.
	Validate func(string) error
}

// Select asks for exactly one of Options.
type Select struct {
	Message string
	Help    string
	Options []Option
	Default string // the value selected at first; must be one of Options
}

// MultiSelect asks for any number of Options.
type MultiSelect struct {
	Message  string
	Help     string
	Options  []Option
	Default  []string // the values checked at first
	Validate func([]string) error
}

// Confirm asks a yes/no question.
type Confirm struct {
	Message string
	Help    string
	Default bool
}

// Asker puts questions to the user. Each method blocks until the question is answered and
// returns ErrInterrupted on Ctrl-C and ErrEOF when input ends.
type Asker interface {
	Input(Input) (string, error)
	Select(Select) (string, error)
	MultiSelect(MultiSelect) ([]string, error)
	Confirm(Confirm) (bool, error)
}

// Values returns the values of options, in order.
func Values(options []Option) []string {
	out := make([]string, len(options))
	for i, o := range options {
		out[i] = o.Value
	}
	return out
}
