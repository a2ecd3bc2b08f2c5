package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// ReadAnswers reads an answer file: a YAML mapping with the keys of Spec, or a whole service
// manifest (whose answers section has that schema), so `new --answers svc/.svcgen.yaml`
// reproduces a service. Unknown keys are errors naming the file, the key and the keys allowed.
func ReadAnswers(path string) (Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("--answers: %w", err)
	}
	var probe map[string]yaml.Node
	if err := yaml.Unmarshal(raw, &probe); err != nil {
		return Spec{}, fmt.Errorf("answer file %s: %w", path, err)
	}
	if _, isManifest := probe["answers"]; isManifest {
		var m Manifest
		if err := strictDecode(raw, &m); err != nil {
			return Spec{}, fmt.Errorf("answer file %s (a manifest): %w", path, err)
		}
		return m.Answers, nil
	}
	var s Spec
	if err := strictDecode(raw, &s); err != nil {
		return Spec{}, fmt.Errorf("answer file %s: %w (allowed keys: %s)", path, err, strings.Join(AnswerKeys(), ", "))
	}
	return s, nil
}

// AnswerKeys lists the keys an answer file may have.
func AnswerKeys() []string {
	keys := []string{"name", "module"}
	for _, g := range Groups {
		keys = append(keys, g.Name)
	}
	return keys
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
