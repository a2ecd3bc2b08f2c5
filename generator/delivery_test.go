package generator

import (
	"slices"
	"strings"
	"testing"
)

// The delivery components of the embedded templates: their groups, choices and defaults, and
// which files each choice renders. The files' contents are validated by the e2e tests, with
// actionlint, GitLab's schema, docker-compose and the Kubernetes API types.
func TestDeliveryComponents(t *testing.T) {
	t.Parallel()
	c, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	for group, want := range map[string][]string{"ci": {"github", "gitlab", None}, "deploy": {"kubernetes", None}} {
		if got := c.Choices(group); !slices.Equal(got, want) {
			t.Errorf("choices of %s = %v, want %v", group, got, want)
		}
		if got := c.Default(group); got != want[0] {
			t.Errorf("default of %s = %q, want %q", group, got, want[0])
		}
	}

	always := []string{"Dockerfile", ".dockerignore", "docker-compose.yml", ".golangci.yml"}
	byChoice := map[string][]string{
		"github":     {".github/workflows/ci.yml", ".github/workflows/svcgen-upgrade.yml", ".github/dependabot.yml"},
		"gitlab":     {".gitlab-ci.yml", "renovate.json"},
		"kubernetes": {"deploy/k8s/kustomization.yaml", "deploy/k8s/deployment.yaml", "deploy/k8s/service.yaml", "deploy/k8s/hpa.yaml", "deploy/k8s/pdb.yaml", "deploy/k8s/networkpolicy.yaml", "deploy/k8s/config.env"},
	}
	for _, ci := range c.Choices("ci") {
		for _, deploy := range c.Choices("deploy") {
			s := Spec{Name: "svc", Module: "svc"}.WithDefaults(c)
			s = s.With("ci", ci).With("deploy", deploy)
			files, err := Render(s, c)
			if err != nil {
				t.Fatalf("ci %s, deploy %s: %v", ci, deploy, err)
			}
			got := map[string]File{}
			for _, f := range files {
				got[f.Path] = f
			}
			for _, p := range always {
				if got[p].Component != CoreComponent {
					t.Errorf("ci %s, deploy %s: %s missing or not owned by core", ci, deploy, p)
				}
			}
			for choice, paths := range byChoice {
				for _, p := range paths {
					f, ok := got[p]
					if want := choice == ci || choice == deploy; ok != want || ok && f.Component != choice {
						t.Errorf("ci %s, deploy %s: %s rendered = %v (owner %q), want %v", ci, deploy, p, ok, f.Component, want)
					}
				}
			}
			if mentions := strings.Contains(string(got["README.md"].Data), "deploy/k8s/"); mentions != (deploy == "kubernetes") {
				t.Errorf("ci %s, deploy %s: README mentions deploy/k8s = %v", ci, deploy, mentions)
			}
		}
	}
}

// The Dockerfile's builder and the GitLab image follow GoVersion, the go.mod version (the image
// at an exact patch release of it).
func TestDeliveryFilesUseTheGoModVersion(t *testing.T) {
	t.Parallel()
	c, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	s := Spec{Name: "svc", Module: "svc"}.WithDefaults(c)
	s = s.With("ci", "gitlab")
	files, err := Render(s, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		switch f.Path {
		case "Dockerfile":
			if !strings.Contains(string(f.Data), "\nFROM golang:"+GoVersion+" AS build\n") {
				t.Errorf("Dockerfile builder is not golang:%s:\n%s", GoVersion, f.Data)
			}
		case ".gitlab-ci.yml":
			if !strings.HasPrefix(Images.Go, "golang:"+GoVersion+".") || !strings.Contains(string(f.Data), "image: "+Images.Go+"\n") {
				t.Errorf(".gitlab-ci.yml image is not %s, a patch release of golang:%s", Images.Go, GoVersion)
			}
		case "go.mod":
			if !strings.Contains(string(f.Data), "\ngo "+GoVersion+"\n") {
				t.Errorf("go.mod does not say go %s", GoVersion)
			}
		}
	}
}
