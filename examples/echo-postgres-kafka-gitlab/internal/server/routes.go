package server

// Route is one method and path the router serves. Path is written as the router
// writes it, with parameters as :name (e.g. /v1/items/:id).
//
// Routes(deps) lists them; openapi_test.go compares that list with api/openapi.yaml.
type Route struct {
	Method string
	Path   string
}
