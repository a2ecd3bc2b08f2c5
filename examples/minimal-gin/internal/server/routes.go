package server

import (
	"net/http"
	"regexp"
)

// Route is one method and path the router serves. Path is written as the router
// writes it, with parameters as :name (e.g. /v1/items/:id).
//
// Routes(deps) lists them; openapi_test.go compares that list with api/openapi.yaml.
//
// A component adds a route of its own through Deps.Routes with Method, Pattern (in
// net/http's syntax: /hello, /v1/things/{id}) and Handler; the router serves it inside
// the middleware chain, like the items routes.
type Route struct {
	Method  string
	Path    string
	Pattern string
	Handler http.Handler
}

var patternParam = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// routerPath writes a net/http pattern's wildcards as the router's parameters
// (/v1/things/{id} → /v1/things/:id).
func routerPath(pattern string) string {
	return patternParam.ReplaceAllString(pattern, ":$1")
}
