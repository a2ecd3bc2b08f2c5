package prompt

import (
	"fmt"
	"slices"
)

// Enter is a scripted answer that accepts the question's default, like pressing Enter.
var Enter = enter{}

type enter struct{}

// Script is an Asker that answers from a list, for tests of the commands' question flow. Each
// question takes the next answer: a string for Input and Select, a []string for MultiSelect, a
// bool for Confirm, Enter for the default, or an error (ErrInterrupted, ErrEOF) to return. An
// answer that fails the question's validation is recorded in Rejected and the question takes the
// next answer, as a prompt asks again. When the answers run out, questions return ErrEOF.
type Script struct {
	answers []any
	// Asked records every question in the order asked.
	Asked []Question
}

// Question is a record of one question put to a Script.
type Question struct {
	Kind     string // "input", "select", "multiselect" or "confirm"
	Message  string
	Help     string
	Default  any // string, []string or bool
	Options  []Option
	Rejected []string // validation errors of the answers that were refused
}

// NewScript returns a Script that gives these answers in order.
func NewScript(answers ...any) *Script { return &Script{answers: answers} }

// Left returns the answers not used yet.
func (s *Script) Left() []any { return s.answers }

// record adds q to Asked and returns the record, for refused answers to be noted in.
func (s *Script) record(q Question) *Question {
	s.Asked = append(s.Asked, q)
	return &s.Asked[len(s.Asked)-1]
}

// take returns the next answer, or the error it stands for.
func (s *Script) take() (any, error) {
	if len(s.answers) == 0 {
		return nil, ErrEOF
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	if err, ok := a.(error); ok {
		return nil, err
	}
	return a, nil
}

func (s *Script) Input(q Input) (string, error) {
	rec := s.record(Question{Kind: "input", Message: q.Message, Help: q.Help, Default: q.Default})
	for {
		a, err := s.take()
		if err != nil {
			return "", err
		}
		var v string
		switch a := a.(type) {
		case enter:
			v = q.Default
		case string:
			v = a
		default:
			return "", fmt.Errorf("script: input %q answered with %T", q.Message, a)
		}
		if q.Validate != nil {
			if verr := q.Validate(v); verr != nil {
				rec.Rejected = append(rec.Rejected, verr.Error())
				continue
			}
		}
		return v, nil
	}
}

func (s *Script) Select(q Select) (string, error) {
	s.record(Question{Kind: "select", Message: q.Message, Help: q.Help, Default: q.Default, Options: q.Options})
	a, err := s.take()
	if err != nil {
		return "", err
	}
	switch a := a.(type) {
	case enter:
		return q.Default, nil
	case string:
		if !slices.Contains(Values(q.Options), a) {
			return "", fmt.Errorf("script: %q is not an option of %q: %v", a, q.Message, Values(q.Options))
		}
		return a, nil
	}
	return "", fmt.Errorf("script: select %q answered with %T", q.Message, a)
}

func (s *Script) MultiSelect(q MultiSelect) ([]string, error) {
	rec := s.record(Question{Kind: "multiselect", Message: q.Message, Help: q.Help, Default: q.Default, Options: q.Options})
	for {
		a, err := s.take()
		if err != nil {
			return nil, err
		}
		var v []string
		switch a := a.(type) {
		case enter:
			v = slices.Clone(q.Default)
		case []string:
			for _, x := range a {
				if !slices.Contains(Values(q.Options), x) {
					return nil, fmt.Errorf("script: %q is not an option of %q: %v", x, q.Message, Values(q.Options))
				}
			}
			v = a
		default:
			return nil, fmt.Errorf("script: multiselect %q answered with %T", q.Message, a)
		}
		if q.Validate != nil {
			if verr := q.Validate(v); verr != nil {
				rec.Rejected = append(rec.Rejected, verr.Error())
				continue
			}
		}
		return v, nil
	}
}

func (s *Script) Confirm(q Confirm) (bool, error) {
	s.record(Question{Kind: "confirm", Message: q.Message, Help: q.Help, Default: q.Default})
	a, err := s.take()
	if err != nil {
		return false, err
	}
	switch a := a.(type) {
	case enter:
		return q.Default, nil
	case bool:
		return a, nil
	}
	return false, fmt.Errorf("script: confirm %q answered with %T", q.Message, a)
}
