package generator

import (
	"testing"
	"testing/fstest"
)

// testFS is a small template tree: core plus two frameworks and an optional cache, enough to
// exercise every stage without the real templates.
func testFS() fstest.MapFS {
	return fstest.MapFS{
		"core/component.yaml":                {Data: []byte("name: core\ndescription: always on\n" + testGroups)},
		"core/cmd/__name__/main.go.tmpl":     {Data: []byte("package main\n\n// {{ .Name }} on {{ .Choice.framework }}\nfunc main(){ {{ if .With.redis }}println(\"redis\"){{ end }} }\n")},
		"core/go.mod.tmpl":                   {Data: []byte("module {{ .Module }}\n\ngo {{ .GoVersion }}\n")},
		"core/README.md":                     {Data: []byte("copied {{ as is }}\n")},
		"core/scripts/run.sh.tmpl":           {Data: []byte("#!/bin/sh\necho {{ .Name }}\n")},
		"gin/component.yaml":                 {Data: []byte("name: gin\ngroup: framework\ndescription: Gin\ndefault: true\n")},
		"gin/internal/server/gin.txt":        {Data: []byte("gin\n")},
		"echo/component.yaml":                {Data: []byte("name: echo\ngroup: framework\ndescription: Echo\n")},
		"echo/internal/server/echo.txt":      {Data: []byte("echo\n")},
		"redis/component.yaml":               {Data: []byte("name: redis\ngroup: cache\ndescription: Redis\nmodules: [github.com/redis/go-redis/v9]\n")},
		"redis/internal/cache/cache.go.tmpl": {Data: []byte("package cache\n")},
	}
}

func testCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := LoadCatalog(testFS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testSpec() Spec {
	return NewSpec("orders-api", "example.com/orders-api", map[string]string{"framework": "gin", "database": None, "cache": "redis", "broker": None, "metrics": None, "ci": None, "deploy": None})
}

// testGroups declares svcgen's groups, as the embedded core/component.yaml does.
const testGroups = `groups:
  - {name: framework, title: HTTP framework}
  - {name: database, title: Database, optional: true, together: true}
  - {name: cache, title: Cache, optional: true, together: true}
  - {name: broker, title: Message broker, optional: true, together: true}
  - {name: metrics, title: Metrics, optional: true, together: true}
  - {name: ci, title: CI system, optional: true}
  - {name: deploy, title: Deployment manifests, optional: true}
`
