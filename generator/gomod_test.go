package generator

import (
	"strings"
	"testing"
)

// tidiedGoMod is a go.mod as `go mod tidy` leaves a service with gin, after its owners added a
// requirement of their own, a replace and a comment.
const tidiedGoMod = `module example.com/orders-api

go 1.26

require (
	github.com/gin-gonic/gin v1.12.0
	github.com/google/uuid v1.6.0 // ours: request tracing
	golang.org/x/time v0.16.0
)

require (
	github.com/bytedance/sonic v1.14.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/google/uuid => ../uuid
`

func TestRegenGoModKeepsTheOwnersLinesAndAddsTheRendered(t *testing.T) {
	t.Parallel()
	rendered := "module example.com/orders-api\n\ngo 1.26\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.12.0\n\tgithub.com/redis/go-redis/v9 v9.23.0\n\tgolang.org/x/time v0.16.0\n)\n"
	out, changed, err := regenGoMod([]byte(tidiedGoMod), nil, []byte(rendered))
	if err != nil {
		t.Fatal(err)
	}
	if !changed {
		t.Fatal("a new rendered requirement did not change go.mod")
	}
	for _, want := range []string{
		"github.com/redis/go-redis/v9 v9.23.0",
		"github.com/google/uuid v1.6.0 // ours: request tracing",
		"replace github.com/google/uuid => ../uuid",
		"github.com/bytedance/sonic v1.14.0 // indirect",
		"github.com/gin-gonic/gin v1.12.0",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, out)
		}
	}
}

func TestRegenGoModUnchangedWhenEverythingRenderedIsThere(t *testing.T) {
	t.Parallel()
	rendered := "module example.com/orders-api\n\ngo 1.26\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.12.0\n\tgolang.org/x/time v0.16.0\n)\n"
	out, changed, err := regenGoMod([]byte(tidiedGoMod), nil, []byte(rendered))
	if err != nil || changed || string(out) != tidiedGoMod {
		t.Fatalf("changed=%v err=%v:\n%s", changed, err, out)
	}
}

func TestRegenGoModLeavesARemovedComponentsModulesToTidy(t *testing.T) {
	t.Parallel()
	// echo instead of gin: gin's requirement stays for tidy to drop once nothing imports it.
	rendered := "module example.com/orders-api\n\ngo 1.26\n\nrequire (\n\tgithub.com/labstack/echo/v5 v5.4.4\n\tgolang.org/x/time v0.16.0\n)\n"
	out, changed, err := regenGoMod([]byte(tidiedGoMod), nil, []byte(rendered))
	if err != nil || !changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	for _, want := range []string{"github.com/labstack/echo/v5 v5.4.4", "github.com/gin-gonic/gin v1.12.0"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, out)
		}
	}
}

func TestRegenGoModVersionsGoDirectiveAndModulePath(t *testing.T) {
	t.Parallel()
	disk := "module example.com/old\n\ngo 1.27\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.13.0\n\tgolang.org/x/time v0.10.0\n)\n"
	rendered := "module example.com/orders-api\n\ngo 1.26\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.12.0\n\tgolang.org/x/time v0.16.0\n)\n"
	out, changed, err := regenGoMod([]byte(disk), nil, []byte(rendered))
	if err != nil || !changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	for _, want := range []string{
		"module example.com/orders-api\n",  // the answers name the module
		"go 1.27\n",                        // the owners' higher go version stays
		"github.com/gin-gonic/gin v1.13.0", // the owners' upgrade stays
		"golang.org/x/time v0.16.0",        // the pin raises a lower version
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "v0.10.0") || strings.Contains(string(out), "v1.12.0") {
		t.Errorf("lower versions left behind:\n%s", out)
	}
}

func TestRegenGoModRejectsABrokenGoMod(t *testing.T) {
	t.Parallel()
	_, _, err := regenGoMod([]byte("module\nrequire (\n"), nil, []byte("module x\n\ngo 1.26\n"))
	if err == nil {
		t.Fatal("a go.mod that does not parse was accepted")
	}
}

func TestRegenGoModDoesNotAddBackWhatTidyDropped(t *testing.T) {
	t.Parallel()
	// The base render required golang.org/x/net too, and tidy dropped it as unused: it must not
	// come back on every regeneration. A module the base did not require is added.
	base := "module example.com/orders-api\n\ngo 1.26\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.12.0\n\tgolang.org/x/net v0.50.0\n\tgolang.org/x/time v0.16.0\n)\n"
	out, changed, err := regenGoMod([]byte(tidiedGoMod), []byte(base), []byte(base))
	if err != nil || changed || string(out) != tidiedGoMod {
		t.Fatalf("changed=%v err=%v:\n%s", changed, err, out)
	}
	withRedis := strings.Replace(base, "\tgolang.org/x/net", "\tgithub.com/redis/go-redis/v9 v9.23.0\n\tgolang.org/x/net", 1)
	out, changed, err = regenGoMod([]byte(tidiedGoMod), []byte(base), []byte(withRedis))
	if err != nil || !changed || !strings.Contains(string(out), "github.com/redis/go-redis/v9 v9.23.0") || strings.Contains(string(out), "golang.org/x/net") {
		t.Fatalf("changed=%v err=%v:\n%s", changed, err, out)
	}
}
