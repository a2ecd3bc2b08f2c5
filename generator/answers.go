package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ReadAnswersFor reads an answer file: a YAML mapping with the keys name, module and the
// catalog's groups, or a whole service manifest (whose answers section has that schema), so
// `new --answers svc/.svcgen.yaml` reproduces a service. Unknown keys are errors naming the file,
// the line, the key and the keys allowed; every value it sets is checked against the catalog,
// each problem naming the file, the key, the value and the allowed values, e.g.
// `answers.yaml: framework "fiber" is not valid: allowed values are echo, gin`. Keys the file
// leaves out are not checked: flags, prompts or defaults supply them (a manifest's missing
// optional groups read as none).
func ReadAnswersFor(path string, c *Catalog) (Spec, error) {
	s, err := readAnswers(path, c)
	if err != nil {
		return s, err
	}
	errs := s.problems(c, true)
	for i, e := range errs {
		errs[i] = fmt.Errorf("%s: %w", path, e)
	}
	return s, errors.Join(errs...)
}

func readAnswers(path string, c *Catalog) (Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("--answers: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return Spec{}, fmt.Errorf("answer file %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return Spec{}, nil // an empty file is an empty answer set
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return Spec{}, fmt.Errorf("answer file %s: line %d: expected a mapping of answers with the keys %s", path, root.Line, strings.Join(answerKeys(c), ", "))
	}
	if answers := mappingValue(root, "answers"); answers != nil {
		// A manifest: its answers section must have the answer-file schema.
		if err := checkAnswerKeys(c, answers, "answers."); err != nil {
			return Spec{}, fmt.Errorf("%s: %w", path, err)
		}
		var m Manifest
		if err := strictDecode(raw, &m); err != nil {
			return Spec{}, fmt.Errorf("answer file %s (a manifest): %w", path, err)
		}
		return m.Answers.recorded(c), nil
	}
	if err := checkAnswerKeys(c, root, ""); err != nil {
		return Spec{}, fmt.Errorf("%s: %w", path, err)
	}
	var s Spec
	if err := root.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("answer file %s: %w (allowed keys: %s)", path, err, strings.Join(answerKeys(c), ", "))
	}
	return s, nil
}

// answerKeys lists the keys an answer file may have.
func answerKeys(c *Catalog) []string {
	return append(append([]string{"name", "module"}, c.groupOrder...), resourcesKey)
}

// mappingValue returns the value node of key in a mapping node, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// checkAnswerKeys reports the first key of an answers mapping that is not an answer key.
func checkAnswerKeys(c *Catalog, m *yaml.Node, prefix string) error {
	allowed := answerKeys(c)
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected a mapping with the keys %s", m.Line, strings.Join(allowed, ", "))
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if !slices.Contains(allowed, k.Value) {
			return fmt.Errorf("line %d: unknown key %q: allowed keys are %s", k.Line, prefix+k.Value, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func strictDecode(raw []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		return nil // an empty file is an empty answer set
	}
	return err
}
