package generator

import (
	"reflect"
	"regexp"
	"testing"
)

// Every action is pinned to a full commit with its release: a tag or a short SHA can be
// made to point at other code.
func TestActionsArePinnedToCommits(t *testing.T) {
	t.Parallel()
	commit := regexp.MustCompile(`^[0-9a-f]{40}$`)
	release := regexp.MustCompile(`^v\d+\.\d+\.\d+$`)
	repo := regexp.MustCompile(`^[\w.-]+/[\w.-]+$`)
	v := reflect.ValueOf(Actions)
	for i := range v.NumField() {
		a := v.Field(i).Interface().(PinnedAction)
		name := v.Type().Field(i).Name
		if !repo.MatchString(a.Repo) || !release.MatchString(a.Version) || !commit.MatchString(a.Commit) {
			t.Errorf("Actions.%s = %+v: want owner/name, a vX.Y.Z release and its 40-hex commit", name, a)
		}
		if want := a.Repo + "@" + a.Commit + " # " + a.Version; a.String() != want {
			t.Errorf("Actions.%s renders %q, want %q", name, a.String(), want)
		}
	}
}

// Every image is pinned to an exact release, never a moving major or minor tag.
func TestImagesArePinnedToReleases(t *testing.T) {
	t.Parallel()
	exact := regexp.MustCompile(`^[a-z0-9./-]+:\d+\.\d+\.?\d*(-[a-z]+)?$`)
	patch := regexp.MustCompile(`^[a-z0-9./-]+:\d+\.\d+\.\d+(-[a-z]+)?$`)
	v := reflect.ValueOf(Images)
	for i := range v.NumField() {
		img, name := v.Field(i).String(), v.Type().Field(i).Name
		// PostgreSQL numbers its releases major.minor (17.11); the others major.minor.patch.
		re := patch
		if name == "Postgres" {
			re = exact
		}
		if !re.MatchString(img) {
			t.Errorf("Images.%s = %q: want an exact release", name, img)
		}
	}
}

// CI runs an exact patch release of the language version generated go.mod files declare.
func TestCIGoIsAPatchReleaseOfGoVersion(t *testing.T) {
	t.Parallel()
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(GoVersion) + `\.\d+$`).MatchString(Tools.Go) {
		t.Errorf("Tools.Go = %q: want a patch release of Go %s", Tools.Go, GoVersion)
	}
	if Images.Go != "golang:"+Tools.Go {
		t.Errorf("Images.Go = %q: want golang:%s, the release GitHub CI installs", Images.Go, Tools.Go)
	}
}
