package generator

import (
	"strings"
	"testing"
)

// noCache is testSpec without redis.
func noCache() Spec {
	s := testSpec()
	s = s.With("cache", None)
	return s
}

func TestAddComponents(t *testing.T) {
	t.Parallel()
	c := testCatalog(t)
	s, notes, err := AddComponents(c, noCache(), []string{"redis"})
	if err != nil || s.Get("cache") != "redis" || len(notes) != 0 {
		t.Fatalf("add redis: %+v %v %v", s, notes, err)
	}
	s, notes, err = AddComponents(c, testSpec(), []string{"redis"})
	if err != nil || !s.Equal(testSpec()) || len(notes) != 1 || !strings.Contains(notes[0], "already") {
		t.Errorf("add redis twice: %+v %v %v", s, notes, err)
	}
	for _, tc := range []struct {
		names []string
		want  []string
	}{
		{[]string{"foo"}, []string{`unknown component "foo"`, "echo, gin, redis"}},
		{[]string{"core"}, []string{"core", "cannot be added or removed"}},
		{[]string{"echo"}, []string{"framework is already gin", "svcgen set framework echo"}},
		{[]string{"gin", "echo"}, []string{"gin and echo are both framework choices"}},
	} {
		_, _, err := AddComponents(c, noCache(), tc.names)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("add %v: error %v lacks %q", tc.names, err, w)
			}
		}
	}
}

func TestRemoveComponents(t *testing.T) {
	t.Parallel()
	c := testCatalog(t)
	s, notes, err := RemoveComponents(c, testSpec(), []string{"redis"})
	if err != nil || !s.Equal(noCache()) || len(notes) != 0 {
		t.Fatalf("remove redis: %+v %v %v", s, notes, err)
	}
	if _, notes, err := RemoveComponents(c, noCache(), []string{"redis"}); err != nil || len(notes) != 1 || !strings.Contains(notes[0], "not part") {
		t.Errorf("remove redis twice: %v %v", notes, err)
	}
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"core", []string{"cannot be added or removed"}},
		{"gin", []string{"every service needs", "svcgen set framework echo"}},
		{"foo", []string{`unknown component "foo"`}},
	} {
		_, _, err := RemoveComponents(c, testSpec(), []string{tc.name})
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("remove %s: error %v lacks %q", tc.name, err, w)
			}
		}
	}
}

func TestSetGroup(t *testing.T) {
	t.Parallel()
	c := testCatalog(t)
	s, _, err := SetGroup(c, testSpec(), "framework", "echo")
	if err != nil || s.Get("framework") != "echo" {
		t.Fatalf("set framework echo: %+v %v", s, err)
	}
	if _, notes, err := SetGroup(c, testSpec(), "cache", "redis"); err != nil || len(notes) != 1 {
		t.Errorf("set to the current value: %v %v", notes, err)
	}
	if s, _, err := SetGroup(c, testSpec(), "cache", "none"); err != nil || s.Get("cache") != None {
		t.Errorf("set cache none: %+v %v", s, err)
	}
	for _, tc := range []struct{ group, value, want string }{
		{"framework", "none", "allowed values are echo, gin"},
		{"framework", "fiber", `framework "fiber" is not valid`},
		{"colour", "red", `unknown group "colour": the groups are framework, database`},
	} {
		if _, _, err := SetGroup(c, testSpec(), tc.group, tc.value); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("set %s %s: %v, want %q", tc.group, tc.value, err, tc.want)
		}
	}
}
