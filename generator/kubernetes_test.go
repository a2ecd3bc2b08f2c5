package generator

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// connectionBudget is how many PostgreSQL connections one generated service may hold at its
// peak: PostgreSQL's default max_connections (100), less its 3 superuser_reserved_connections,
// less 17 kept for people and tools (psql, backups, monitoring). The generated README states it
// (postgres' k8s.readme fill); TestKubernetesConnectionBudget holds the manifests to it.
const connectionBudget = 80

// renderFiles renders a spec of the embedded templates into path → bytes.
func renderFiles(t *testing.T, choices map[string]string) map[string][]byte {
	t.Helper()
	c, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	s := Spec{Name: "orders-api", Module: "example.com/orders-api"}.WithDefaults(c)
	for group, choice := range choices {
		s = s.With(group, choice)
	}
	files, err := Render(s, c)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		out[f.Path] = f.Data
	}
	return out
}

// peakConnections is the most PostgreSQL connections the Kubernetes manifests let a service
// open at once: every pod the autoscaler may run (maxReplicas) plus those a rollout adds
// (maxSurge, rounded up as Kubernetes does), each with a full pool (config.env's DB_MAX_CONNS,
// else the configuration's default), plus the migration Job's pool.
func peakConnections(files map[string][]byte) (int, string, error) {
	var hpa struct {
		Spec struct {
			MaxReplicas int `yaml:"maxReplicas"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(files["deploy/k8s/hpa.yaml"], &hpa); err != nil || hpa.Spec.MaxReplicas == 0 {
		return 0, "", fmt.Errorf("hpa.yaml: no maxReplicas (%v)", err)
	}
	var dep struct {
		Spec struct {
			Strategy struct {
				RollingUpdate struct {
					MaxSurge string `yaml:"maxSurge"`
				} `yaml:"rollingUpdate"`
			} `yaml:"strategy"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(files["deploy/k8s/deployment.yaml"], &dep); err != nil {
		return 0, "", fmt.Errorf("deployment.yaml: %w", err)
	}
	surge, err := surgePods(dep.Spec.Strategy.RollingUpdate.MaxSurge, hpa.Spec.MaxReplicas)
	if err != nil {
		return 0, "", err
	}
	def := regexp.MustCompile(`l\.int\("DB_MAX_CONNS", (\d+),`).FindSubmatch(files["internal/config/postgres.go"])
	if def == nil {
		return 0, "", fmt.Errorf("internal/config/postgres.go: no DB_MAX_CONNS default")
	}
	pool, _ := strconv.Atoi(string(def[1]))
	if v, ok := envFile(files["deploy/k8s/config.env"])["DB_MAX_CONNS"]; ok {
		if pool, err = strconv.Atoi(v); err != nil {
			return 0, "", fmt.Errorf("config.env DB_MAX_CONNS: %w", err)
		}
	}
	job, err := jobPool(files["deploy/k8s/migrate-job.yaml"], pool)
	if err != nil {
		return 0, "", err
	}
	pods := hpa.Spec.MaxReplicas + surge
	how := fmt.Sprintf("(maxReplicas %d + surge %d) × DB_MAX_CONNS %d + migration Job %d", hpa.Spec.MaxReplicas, surge, pool, job)
	return pods*pool + job, how, nil
}

// surgePods is how many pods a rollout of replicas may add: maxSurge as a number, or as a
// percentage of replicas rounded up (Kubernetes' rounding for surge); unset is 25%.
func surgePods(maxSurge string, replicas int) (int, error) {
	if maxSurge == "" {
		maxSurge = "25%"
	}
	if pct, ok := strings.CutSuffix(maxSurge, "%"); ok {
		p, err := strconv.Atoi(pct)
		if err != nil {
			return 0, fmt.Errorf("maxSurge %q: %w", maxSurge, err)
		}
		return int(math.Ceil(float64(replicas*p) / 100)), nil
	}
	return strconv.Atoi(maxSurge)
}

// jobPool is the migration Job's DB_MAX_CONNS: its container's env, else pool (the ConfigMap's).
func jobPool(manifest []byte, pool int) (int, error) {
	var job struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Env []struct{ Name, Value string } `yaml:"env"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(manifest, &job); err != nil || len(job.Spec.Template.Spec.Containers) != 1 {
		return 0, fmt.Errorf("migrate-job.yaml: want one container (%v)", err)
	}
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "DB_MAX_CONNS" {
			return strconv.Atoi(e.Value)
		}
	}
	return pool, nil
}

// envFile parses an env file as kustomize's configMapGenerator does: VAR=value lines, taken
// as written; blank and # lines skipped.
func envFile(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}

// The Kubernetes manifests of a service with PostgreSQL keep its peak connections — every pod
// the autoscaler may run, the rollout's surge, the migration Job — within connectionBudget.
// It fails when someone raises maxReplicas, the surge, config.env's DB_MAX_CONNS, or (without
// it) the pool's default in internal/config.
func TestKubernetesConnectionBudget(t *testing.T) {
	t.Parallel()
	files := renderFiles(t, map[string]string{"database": "postgres", "deploy": "kubernetes"})
	peak, how, err := peakConnections(files)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak PostgreSQL connections: %s = %d of %d", how, peak, connectionBudget)
	if peak > connectionBudget {
		t.Errorf("peak PostgreSQL connections %s = %d, over the budget of %d", how, peak, connectionBudget)
	}
	readme := string(files["README.md"])
	if want := fmt.Sprintf("**Connection budget: %d.**", connectionBudget); !strings.Contains(readme, want) {
		t.Errorf("README does not state %q", want)
	}
	if want := fmt.Sprintf("`DB_MAX_CONNS=%s`", envFile(files["deploy/k8s/config.env"])["DB_MAX_CONNS"]); !strings.Contains(readme, want) {
		t.Errorf("README's budget does not name the pool config.env sets, %s", want)
	}

	// The check counts what it claims to: more replicas, or config.env without its pool
	// (the default of 10 then), go over the budget.
	for name, edit := range map[string]func(map[string][]byte){
		"maxReplicas 12": func(f map[string][]byte) {
			f["deploy/k8s/hpa.yaml"] = bytes.Replace(f["deploy/k8s/hpa.yaml"], []byte("maxReplicas: 8"), []byte("maxReplicas: 12"), 1)
		},
		"no DB_MAX_CONNS in config.env": func(f map[string][]byte) {
			f["deploy/k8s/config.env"] = regexp.MustCompile(`(?m)^DB_MAX_CONNS=.*$`).ReplaceAll(f["deploy/k8s/config.env"], nil)
		},
	} {
		edited := map[string][]byte{}
		for p, d := range files {
			edited[p] = bytes.Clone(d)
		}
		edit(edited)
		if p, how, err := peakConnections(edited); err != nil || p <= connectionBudget {
			t.Errorf("%s: peak %s = %d (%v), want it over the budget of %d", name, how, p, err, connectionBudget)
		}
	}
}

// An echo+postgres+redis+prometheus service with GitHub CI and Kubernetes manifests has the
// production edges of issue I: GOMEMLIMIT from the memory limit (downward API), a
// maxUnavailable PDB, a generated ConfigMap, the migration Job, a one-port Service, a
// NetworkPolicy, the admin port scraped, and every action pinned to a commit.
func TestKubernetesAndCIProductionEdges(t *testing.T) {
	t.Parallel()
	files := renderFiles(t, map[string]string{
		"framework": "echo", "database": "postgres", "cache": "redis", "broker": None,
		"metrics": "prometheus", "ci": "github", "deploy": "kubernetes",
	})
	type env struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom struct {
			ResourceFieldRef struct {
				Resource string `yaml:"resource"`
				Divisor  string `yaml:"divisor"`
			} `yaml:"resourceFieldRef"`
		} `yaml:"valueFrom"`
	}
	type container struct {
		Args  []string `yaml:"args"`
		Image string   `yaml:"image"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		Env     []env `yaml:"env"`
		EnvFrom []struct {
			ConfigMapRef struct{ Name string } `yaml:"configMapRef"`
			SecretRef    struct{ Name string } `yaml:"secretRef"`
		} `yaml:"envFrom"`
		SecurityContext map[string]any `yaml:"securityContext"`
	}
	type pod struct {
		Metadata struct {
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"metadata"`
		Spec struct {
			SecurityContext           map[string]any `yaml:"securityContext"`
			Containers                []container    `yaml:"containers"`
			TopologySpreadConstraints []struct {
				TopologyKey string `yaml:"topologyKey"`
			} `yaml:"topologySpreadConstraints"`
		} `yaml:"spec"`
	}
	decode := func(path string, v any) {
		t.Helper()
		if err := yaml.Unmarshal(files[path], v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}

	var dep struct {
		Spec struct {
			Template pod `yaml:"template"`
		} `yaml:"spec"`
	}
	decode("deploy/k8s/deployment.yaml", &dep)
	if len(dep.Spec.Template.Spec.Containers) != 1 {
		t.Fatal("Deployment: want one container")
	}
	c := dep.Spec.Template.Spec.Containers[0]
	vars := map[string]env{}
	var order []string
	for _, e := range c.Env {
		vars[e.Name] = e
		order = append(order, e.Name)
	}
	// GOMEMLIMIT: the limit in MiB from the downward API, written as that many million bytes.
	ref := vars["MEMORY_LIMIT_MIB"].ValueFrom.ResourceFieldRef
	if ref.Resource != "limits.memory" || ref.Divisor != "1Mi" || vars["GOMEMLIMIT"].Value != "$(MEMORY_LIMIT_MIB)000000" ||
		strings.Join(order, ",") != "MEMORY_LIMIT_MIB,GOMEMLIMIT,MIGRATE_ON_START" {
		t.Errorf("Deployment env %+v: want MEMORY_LIMIT_MIB from limits.memory (divisor 1Mi), then GOMEMLIMIT=$(MEMORY_LIMIT_MIB)000000, then MIGRATE_ON_START", c.Env)
	}
	if vars["MIGRATE_ON_START"].Value != "false" {
		t.Errorf("Deployment MIGRATE_ON_START = %q, want false (the Job migrates)", vars["MIGRATE_ON_START"].Value)
	}
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if len(ports) != 2 || ports["http"] != 8080 || ports["admin"] != 9090 {
		t.Errorf("container ports %v, want http 8080 and admin 9090", ports)
	}
	if a := dep.Spec.Template.Metadata.Annotations; a["prometheus.io/port"] != "9090" || a["prometheus.io/scrape"] != "true" {
		t.Errorf("pod annotations %v: want Prometheus to scrape the admin port 9090", a)
	}
	var keys []string
	for _, tsc := range dep.Spec.Template.Spec.TopologySpreadConstraints {
		keys = append(keys, tsc.TopologyKey)
	}
	if strings.Join(keys, ",") != "kubernetes.io/hostname,topology.kubernetes.io/zone" {
		t.Errorf("topology spread keys %v, want hostname and zone", keys)
	}

	var pdb struct {
		Spec map[string]any `yaml:"spec"`
	}
	decode("deploy/k8s/pdb.yaml", &pdb)
	if _, min := pdb.Spec["minAvailable"]; pdb.Spec["maxUnavailable"] != 1 || min {
		t.Errorf("PDB spec %v: want maxUnavailable 1 and no minAvailable", pdb.Spec)
	}

	var kust struct {
		Resources          []string `yaml:"resources"`
		ConfigMapGenerator []struct {
			Name string   `yaml:"name"`
			Envs []string `yaml:"envs"`
		} `yaml:"configMapGenerator"`
	}
	decode("deploy/k8s/kustomization.yaml", &kust)
	if len(kust.ConfigMapGenerator) != 1 || kust.ConfigMapGenerator[0].Name != "orders-api-config" || strings.Join(kust.ConfigMapGenerator[0].Envs, ",") != "config.env" {
		t.Errorf("configMapGenerator %+v: want orders-api-config from config.env", kust.ConfigMapGenerator)
	}
	if _, ok := files["deploy/k8s/configmap.yaml"]; ok {
		t.Error("a static configmap.yaml is rendered beside the generator")
	}
	for _, r := range kust.Resources {
		if _, ok := files["deploy/k8s/"+r]; !ok {
			t.Errorf("kustomization lists %s, which is not rendered", r)
		}
	}
	if !strings.Contains(strings.Join(kust.Resources, ","), "networkpolicy.yaml") || !strings.Contains(strings.Join(kust.Resources, ","), "migrate-job.yaml") {
		t.Errorf("kustomization resources %v lack the NetworkPolicy or the migration Job", kust.Resources)
	}

	var job struct {
		Kind     string                `yaml:"kind"`
		Metadata struct{ Name string } `yaml:"metadata"`
		Spec     struct {
			BackoffLimit            *int `yaml:"backoffLimit"`
			TTLSecondsAfterFinished *int `yaml:"ttlSecondsAfterFinished"`
			ActiveDeadlineSeconds   *int `yaml:"activeDeadlineSeconds"`
			Template                pod  `yaml:"template"`
		} `yaml:"spec"`
	}
	decode("deploy/k8s/migrate-job.yaml", &job)
	if job.Kind != "Job" || job.Metadata.Name != "orders-api-migrate" || job.Spec.BackoffLimit == nil || job.Spec.TTLSecondsAfterFinished == nil || job.Spec.ActiveDeadlineSeconds == nil {
		t.Errorf("migration Job %+v: want Job orders-api-migrate with backoffLimit, ttlSecondsAfterFinished, activeDeadlineSeconds", job)
	} else if jc := job.Spec.Template.Spec.Containers; len(jc) != 1 || strings.Join(jc[0].Args, " ") != "migrate up" || jc[0].Image != c.Image ||
		fmt.Sprint(jc[0].EnvFrom) != fmt.Sprint(c.EnvFrom) || fmt.Sprint(jc[0].SecurityContext) != fmt.Sprint(c.SecurityContext) ||
		fmt.Sprint(job.Spec.Template.Spec.SecurityContext) != fmt.Sprint(dep.Spec.Template.Spec.SecurityContext) {
		t.Errorf("migration Job's pod: want args [migrate up] and the Deployment's image, envFrom and security contexts")
	}
	if job.Spec.Template.Metadata.Labels["app.kubernetes.io/name"] == "orders-api" {
		t.Error("the migration Job's pods carry the server's name label: the Service, HPA and PDB would count them")
	}

	var svc struct {
		Spec struct {
			Ports []struct {
				TargetPort string `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	decode("deploy/k8s/service.yaml", &svc)
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != "http" {
		t.Errorf("Service ports %+v: want exactly one, to http", svc.Spec.Ports)
	}

	var np struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Ingress []struct {
				From []struct {
					NamespaceSelector struct {
						MatchLabels map[string]string `yaml:"matchLabels"`
					} `yaml:"namespaceSelector"`
				} `yaml:"from"`
				Ports []struct {
					Port string `yaml:"port"`
				} `yaml:"ports"`
			} `yaml:"ingress"`
		} `yaml:"spec"`
	}
	decode("deploy/k8s/networkpolicy.yaml", &np)
	rules := map[string]string{} // port → who
	for _, in := range np.Spec.Ingress {
		who := "anywhere"
		if len(in.From) > 0 {
			who = fmt.Sprint(in.From[0].NamespaceSelector.MatchLabels)
		}
		for _, p := range in.Ports {
			rules[p.Port] = who
		}
	}
	if np.Kind != "NetworkPolicy" || rules["http"] != "anywhere" || rules["admin"] != "map[kubernetes.io/metadata.name:monitoring]" || len(rules) != 2 {
		t.Errorf("NetworkPolicy rules %v: want http from anywhere, admin only from the namespace monitoring", rules)
	}

	// Every action of every workflow pinned to a commit, its version in a comment.
	uses := regexp.MustCompile(`(?m)^\s*(?:- )?uses:\s*(.*)$`)
	pinned := regexp.MustCompile(`^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$`)
	for _, wf := range []string{".github/workflows/ci.yml", ".github/workflows/svcgen-upgrade.yml"} {
		all := uses.FindAllStringSubmatch(string(files[wf]), -1)
		if len(all) == 0 {
			t.Errorf("%s: no uses:", wf)
		}
		for _, m := range all {
			if !pinned.MatchString(m[1]) {
				t.Errorf("%s: uses: %s is not pinned to a 40-hex commit with its version", wf, m[1])
			}
		}
	}
}

// Without a database there is no migration Job, nor MIGRATE_ON_START, nor a budget to keep.
func TestKubernetesWithoutDatabase(t *testing.T) {
	t.Parallel()
	files := renderFiles(t, map[string]string{"database": None, "deploy": "kubernetes"})
	if _, ok := files["deploy/k8s/migrate-job.yaml"]; ok {
		t.Error("migrate-job.yaml rendered without a database")
	}
	for _, p := range []string{"deploy/k8s/kustomization.yaml", "deploy/k8s/deployment.yaml", "deploy/k8s/config.env", "README.md"} {
		for _, word := range []string{"migrate", "MIGRATE_ON_START", "DB_MAX_CONNS"} {
			if bytes.Contains(files[p], []byte(word)) {
				t.Errorf("%s mentions %s without a database", p, word)
			}
		}
	}
}

// config.env, filled by every component's k8s.env, is an env file kustomize can read: each
// line blank, a comment, or VAR=value, each variable once.
func TestKubernetesConfigEnvIsAnEnvFile(t *testing.T) {
	t.Parallel()
	files := renderFiles(t, map[string]string{"database": "postgres", "cache": "redis", "broker": "kafka", "metrics": "prometheus", "deploy": "kubernetes"})
	line := regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=\S`)
	seen := map[string]bool{}
	for i, l := range strings.Split(string(files["deploy/k8s/config.env"]), "\n") {
		if l == "" || strings.HasPrefix(l, "# ") || l == "#" {
			continue
		}
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("config.env line %d %q: want VAR=value, a # comment or nothing", i+1, l)
			continue
		}
		if seen[m[1]] {
			t.Errorf("config.env sets %s twice", m[1])
		}
		seen[m[1]] = true
	}
	for _, v := range []string{"PORT", "ADMIN_PORT", "DB_MAX_CONNS", "KAFKA_BROKERS"} {
		if !seen[v] {
			t.Errorf("config.env does not set %s", v)
		}
	}
}
