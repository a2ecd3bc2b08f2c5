package e2e

// Validators of generated delivery files, each backed by the real thing where it can run
// here: actionlint, GitLab's own CI schema, docker-compose, BuildKit's Dockerfile parser and
// the Kubernetes API types. They return errors so that tests can also show they reject broken
// input.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/santhosh-tekuri/jsonschema/v6"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// actionlintErr runs actionlint on a workflow file; any finding is an error.
func actionlintErr(t *testing.T, file string) error {
	t.Helper()
	bin := requireTool(t, "actionlint", installActionlint)
	out, err := run("", bin, "-no-color", "-oneline", file)
	if err != nil || out != "" {
		return fmt.Errorf("actionlint %s: %v\n%s", file, err, out)
	}
	return nil
}

// composeConfigErr runs `docker-compose -f FILE config -q` in the file's directory, which
// parses, interpolates and validates the file without a Docker engine.
func composeConfigErr(t *testing.T, dir, file string) error {
	t.Helper()
	bin := requireTool(t, "docker-compose", installDockerCompose)
	out, err := run(dir, bin, "-f", file, "config", "-q")
	if err != nil || out != "" {
		return fmt.Errorf("docker-compose -f %s config -q: %v\n%s", file, err, out)
	}
	return nil
}

// gitlabSchema compiles GitLab's CI schema from the shared/ folder beside the repository.
func gitlabSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path := sharedFile(t, "schemas/gitlab-ci.json")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	const url = "https://gitlab.com/.gitlab-ci.yml"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compiling %s: %v", path, err)
	}
	return sch
}

// gitlabSchemaErr validates a .gitlab-ci.yml document against GitLab's schema.
func gitlabSchemaErr(sch *jsonschema.Schema, data []byte) error {
	js, err := sigsyaml.YAMLToJSON(data)
	if err != nil {
		return fmt.Errorf("not YAML: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// dockerfile is a Dockerfile parsed by BuildKit, the parser `docker build` uses.
type dockerfile struct {
	stages   []instructions.Stage
	warnings []string // BuildKit's parse and lint warnings
}

func parseDockerfile(data []byte) (*dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	df := &dockerfile{}
	for _, w := range res.Warnings {
		df.warnings = append(df.warnings, w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, _ []parser.Range) {
		df.warnings = append(df.warnings, rule+": "+msg)
	}})
	df.stages, _, err = instructions.Parse(res.AST, lint)
	if err != nil {
		return nil, err
	}
	return df, nil
}

// kubeObject is one decoded Kubernetes manifest document.
type kubeObject struct {
	file string
	obj  any // *appsv1.Deployment, *corev1.Service, ...
}

// kubeTypes maps apiVersion/kind to the API type a document must decode into.
var kubeTypes = map[string]func() any{
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return &networkingv1.NetworkPolicy{} },
	"batch/v1/Job":                           func() any { return &batchv1.Job{} },
}

// kustomizeBuild builds a kustomization directory as `kubectl apply -k` would: with
// kustomize (.ci/run installs it), else kubectl's built-in kustomize. Neither skips the test,
// or fails it in CI.
func kustomizeBuild(t *testing.T, dir string) ([]byte, error) {
	t.Helper()
	var args []string
	if bin, err := exec.LookPath("kustomize"); err == nil {
		args = []string{bin, "build", dir}
	} else if bin, err := exec.LookPath("kubectl"); err == nil {
		args = []string{bin, "kustomize", dir}
	} else {
		skipOrFail(t, "neither kustomize nor kubectl is installed (%s)", installKustomize)
	}
	cmd := exec.Command(args[0], args[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// decodeKube decodes every document of a manifest file strictly into its Kubernetes API type:
// an unknown or duplicate field, a wrong value type or an unparsable quantity is an error, as
// is a kind this check does not know.
func decodeKube(file string, data []byte) ([]kubeObject, error) {
	var out []kubeObject
	for i, doc := range splitYAMLDocs(data) {
		var tm metav1.TypeMeta
		if err := sigsyaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("%s document %d: %w", file, i+1, err)
		}
		newObj, ok := kubeTypes[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			return nil, fmt.Errorf("%s document %d: unexpected apiVersion/kind %s/%s", file, i+1, tm.APIVersion, tm.Kind)
		}
		obj := newObj()
		if err := sigsyaml.UnmarshalStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("%s document %d (%s): %w", file, i+1, tm.Kind, err)
		}
		out = append(out, kubeObject{file: file, obj: obj})
	}
	if len(out) == 0 {
		return nil, errors.New(file + ": no documents")
	}
	return out, nil
}

// splitYAMLDocs splits a multi-document YAML stream, dropping empty documents.
func splitYAMLDocs(data []byte) [][]byte {
	var docs [][]byte
	for _, part := range strings.Split("\n"+string(data), "\n---") {
		if strings.TrimSpace(stripYAMLComments(part)) != "" {
			docs = append(docs, []byte(part))
		}
	}
	return docs
}

func stripYAMLComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}
