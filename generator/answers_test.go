package generator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeAnswers(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "answers.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadAnswersForNamesFileKeyAndAllowedValues(t *testing.T) {
	t.Parallel()
	c := testCatalog(t)
	cases := []struct {
		content string
		want    []string
	}{
		{"name: svc\nframework: fiber\n", []string{`: framework "fiber" is not valid: allowed values are echo, gin`}},
		{"cache: memcached\nframework: fiber\n", []string{`cache "memcached"`, "redis, none", `framework "fiber"`}},
		{"name: Bad_Name\n", []string{`name "Bad_Name" is not valid`}},
		{"module: github.com/acme/x/v1\n", []string{`module path "github.com/acme/x/v1" is not valid`}},
		{"name: svc\ncolour: blue\n", []string{`line 2: unknown key "colour": allowed keys are name, module, framework, database, cache, broker, metrics, ci, deploy`}},
		{"format: 1\nanswers:\n  name: svc\n  colour: blue\n", []string{`line 4: unknown key "answers.colour"`, "allowed keys are name, module"}},
		{"- name\n", []string{"line 1: expected a mapping"}},
		{"name: [a, b]\n", []string{"line 1"}},
	}
	for _, tc := range cases {
		p := writeAnswers(t, tc.content)
		_, err := ReadAnswersFor(p, c)
		if err == nil {
			t.Errorf("%q: no error", tc.content)
			continue
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, p+":") && !strings.HasPrefix(line, "answer file "+p) && !strings.HasPrefix(line, "  ") {
				t.Errorf("%q: error line %q does not name the file", tc.content, line)
			}
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q lacks %q", tc.content, err, w)
			}
		}
	}
}

func TestReadAnswersForLeavesUnsetKeysUnset(t *testing.T) {
	t.Parallel()
	c := testCatalog(t)
	for content, want := range map[string]Spec{
		"":                                {},
		"# nothing yet\n":                 {},
		"name: svc\ncache: redis\n":       NewSpec("svc", "", map[string]string{"cache": "redis"}),
		"framework: echo\ndatabase: none": NewSpec("", "", map[string]string{"framework": "echo", "database": None}),
	} {
		s, err := ReadAnswersFor(writeAnswers(t, content), c)
		if err != nil || !s.Equal(want) {
			t.Errorf("%q: %+v, %v; want %+v", content, s, err, want)
		}
	}
}
