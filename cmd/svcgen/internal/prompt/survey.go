package prompt

import (
	"errors"
	"io"
	"os"
	"sync"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/core"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// This file is the only one that knows survey (github.com/AlecAivazis/survey/v2, unmaintained
// upstream): replacing the terminal library means rewriting it alone.

// keyEOT is Ctrl-D. Survey reads it as Enter; we make it end the input, as it does in a shell.
const keyEOT = 0x04

// NewSurvey returns an Asker that prompts on a terminal: in and out must be terminals.
func NewSurvey(in, out, errOut *os.File) Asker {
	return &surveyAsker{stdio: terminal.Stdio{In: &eotReader{f: in}, Out: out, Err: errOut}}
}

type surveyAsker struct {
	stdio terminal.Stdio
}

func (s *surveyAsker) Input(q Input) (string, error) {
	var answer string
	var opts []survey.AskOpt
	if q.Validate != nil {
		opts = append(opts, survey.WithValidator(func(v any) error { return q.Validate(v.(string)) }))
	}
	err := s.ask(&survey.Input{Message: q.Message, Help: q.Help, Default: q.Default}, &answer, opts...)
	return answer, err
}

func (s *surveyAsker) Select(q Select) (string, error) {
	var answer string
	p := &survey.Select{
		Message: q.Message, Help: q.Help, Options: Values(q.Options), Default: q.Default,
		Description: describe(q.Options), PageSize: pageSize(q.Options),
	}
	err := s.ask(p, &answer)
	return answer, err
}

func (s *surveyAsker) MultiSelect(q MultiSelect) ([]string, error) {
	answer := []string{}
	p := &survey.MultiSelect{
		Message: q.Message, Help: q.Help, Options: Values(q.Options), Default: q.Default,
		Description: describe(q.Options), PageSize: pageSize(q.Options),
	}
	var opts []survey.AskOpt
	if q.Validate != nil {
		opts = append(opts, survey.WithValidator(func(v any) error {
			chosen, _ := v.([]core.OptionAnswer)
			values := make([]string, len(chosen))
			for i, c := range chosen {
				values[i] = c.Value
			}
			err := q.Validate(values)
			if err != nil {
				// Survey asks again from the defaults; start from what the user chose instead.
				p.Default = values
			}
			return err
		}))
	}
	err := s.ask(p, &answer, opts...)
	return answer, err
}

func (s *surveyAsker) Confirm(q Confirm) (bool, error) {
	var answer bool
	err := s.ask(&survey.Confirm{Message: q.Message, Help: q.Help, Default: q.Default}, &answer)
	return answer, err
}

// ask puts one question and maps survey's errors to ours.
func (s *surveyAsker) ask(p survey.Prompt, answer any, opts ...survey.AskOpt) error {
	// Survey renders the question before it turns off echo and line buffering; doing it first
	// means a key pressed as soon as the question shows (Ctrl-C included) reaches the prompt
	// instead of the line discipline. Survey restores the mode it found, and we restore ours.
	rr := terminal.NewRuneReader(s.stdio)
	if err := rr.SetTermMode(); err == nil {
		defer rr.RestoreTermMode() //nolint:errcheck // best effort, as survey does
	}
	opts = append(opts, survey.WithStdio(s.stdio.In, s.stdio.Out, s.stdio.Err))
	err := survey.AskOne(p, answer, opts...)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, terminal.InterruptErr):
		return ErrInterrupted
	case errors.Is(err, io.EOF):
		return ErrEOF
	}
	return err
}

func describe(options []Option) func(string, int) string {
	return func(value string, _ int) string {
		for _, o := range options {
			if o.Value == value {
				return o.Description
			}
		}
		return ""
	}
}

// pageSize shows every option when they fit on a screen, so none hide below a scroll.
func pageSize(options []Option) int {
	return max(7, min(len(options), 20))
}

// eotReader reads a terminal and turns Ctrl-D into the end of input, for good: survey would
// take it as Enter and accept the default, where the user meant to stop.
type eotReader struct {
	f    *os.File
	mu   sync.Mutex
	done bool
}

func (r *eotReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	if done {
		return 0, io.EOF
	}
	n, err := r.f.Read(p)
	for i, b := range p[:n] {
		if b == keyEOT {
			r.mu.Lock()
			r.done = true
			r.mu.Unlock()
			if i == 0 {
				return 0, io.EOF
			}
			return i, nil
		}
	}
	return n, err
}

func (r *eotReader) Fd() uintptr { return r.f.Fd() }
