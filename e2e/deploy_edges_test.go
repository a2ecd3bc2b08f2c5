package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// connectionBudget is the PostgreSQL connections a generated service may hold at its peak, as
// its README states: PostgreSQL's default max_connections 100, less 3 reserved for
// superusers and 17 for people and tools. (generator/kubernetes_test.go holds the templates
// to it; this checks what `kubectl apply -k` would apply.)
const connectionBudget = 80

// TestDeployAndCIEdges is issue I's "done when" for the delivery files of an
// echo+postgres+redis+prometheus service: the Kubernetes build has GOMEMLIMIT from the memory
// limit, a maxUnavailable PDB, a generated ConfigMap, the migration Job, a one-port Service and
// a NetworkPolicy, and keeps the connection budget; every action of its GitHub workflows is
// pinned to a commit (actionlint passes, Dependabot is configured); its GitLab pipeline's
// images are exact releases and it passes GitLab's schema.
func TestDeployAndCIEdges(t *testing.T) {
	for _, ci := range []string{"github", "gitlab"} {
		t.Run(ci, func(t *testing.T) {
			s := &stack{name: "edges-api", framework: "echo", ci: ci,
				with:    map[string]bool{"postgres": true, "redis": true, "prometheus": true},
				stubbed: map[string]bool{}}
			dir := filepath.Join(t.TempDir(), s.name)
			svcgen(t, "new", s.name, "--module", "example.com/edges-api", "-o", dir, "--no-tidy",
				"--framework", "echo", "--database", "postgres", "--cache", "redis", "--broker", "none",
				"--metrics", "prometheus", "--ci", ci, "--deploy", "kubernetes")
			t.Run("kubernetes", func(t *testing.T) { checkKubernetes(t, dir, s) })
			t.Run("connection budget", func(t *testing.T) { checkConnectionBudget(t, dir) })
			switch ci {
			case "github":
				t.Run("github", func(t *testing.T) { checkGitHubWorkflow(t, dir, s) })
			case "gitlab":
				t.Run("gitlab", func(t *testing.T) { checkGitLabCI(t, dir, s) })
			}
		})
	}
}

// checkConnectionBudget computes, from the kustomize build, the most PostgreSQL connections
// the service opens at once: (HPA maxReplicas + the Deployment's surge at that count) pods ×
// the ConfigMap's DB_MAX_CONNS, plus the migration Job's pool; it must stay within
// connectionBudget, and the README must state the budget.
func checkConnectionBudget(t *testing.T, dir string) {
	k := buildKube(t, filepath.Join(dir, "deploy", "k8s"))
	dep, hpa, cm, job := k.dep, k.hpa, k.cm, k.job
	if dep == nil || hpa == nil || cm == nil || job == nil {
		t.Fatal("the build lacks the Deployment, the HPA, the ConfigMap or the migration Job")
	}
	pool, err := strconv.Atoi(cm.Data["DB_MAX_CONNS"])
	if err != nil {
		t.Fatalf("ConfigMap DB_MAX_CONNS %q: the budget needs the pool size set where the manifests are", cm.Data["DB_MAX_CONNS"])
	}
	surge := intstr.FromString("25%") // Kubernetes' default
	if ru := dep.Spec.Strategy.RollingUpdate; ru != nil && ru.MaxSurge != nil {
		surge = *ru.MaxSurge
	}
	extra, err := intstr.GetScaledValueFromIntOrPercent(&surge, int(hpa.Spec.MaxReplicas), true) // surge rounds up
	if err != nil {
		t.Fatal(err)
	}
	jobPool := pool
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "DB_MAX_CONNS" {
			if jobPool, err = strconv.Atoi(e.Value); err != nil {
				t.Fatal(err)
			}
		}
	}
	peak := (int(hpa.Spec.MaxReplicas)+extra)*pool + jobPool
	how := fmt.Sprintf("(maxReplicas %d + surge %d) × DB_MAX_CONNS %d + Job %d = %d", hpa.Spec.MaxReplicas, extra, pool, jobPool, peak)
	t.Log("peak PostgreSQL connections: " + how)
	if peak > connectionBudget {
		t.Errorf("peak PostgreSQL connections %s: want at most the budget %d", how, connectionBudget)
	}
	if readme := string(readFile(t, dir, "README.md")); !strings.Contains(readme, fmt.Sprintf("Connection budget: %d.", connectionBudget)) {
		t.Errorf("README does not state the connection budget of %d", connectionBudget)
	}
}
