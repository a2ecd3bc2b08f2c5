package server

import (
	"net/http"
	"strings"

	"example.com/hello/internal/memo"
)

// Route is one method and path pattern the router serves, and its handler.
//
// Pattern is written as net/http's ServeMux writes it, with parameters as {name}
// (/v1/items/{id}); handlers read them with r.PathValue(name), whichever framework
// routes the request. Routes(deps) lists them; openapi_test.go compares that list
// with api/openapi.yaml.
type Route struct {
	Method  string
	Pattern string
	Handler http.Handler
}

// itemPattern is the pattern of one item.
const itemPattern = itemsPath + "/{id}"

// Routes lists every route New(deps) serves: the probes, the /v1 API, the routes of
// the components that fill the server.routes slot, and deps.Routes.
func Routes(deps Deps) []Route {
	h := itemHandlers{svc: deps.Items, logger: deps.Logger, bodies: memo.New[itemBody]()}
	routes := []Route{
		{Method: http.MethodGet, Pattern: livenessPath, Handler: deps.Health.Liveness()},
		{Method: http.MethodGet, Pattern: readinessPath, Handler: deps.Health.Readiness()},
		{Method: http.MethodPost, Pattern: itemsPath, Handler: http.HandlerFunc(h.create)},
		{Method: http.MethodGet, Pattern: itemsPath, Handler: http.HandlerFunc(h.list)},
		{Method: http.MethodGet, Pattern: itemPattern, Handler: http.HandlerFunc(h.get)},
		{Method: http.MethodPut, Pattern: itemPattern, Handler: http.HandlerFunc(h.update)},
		{Method: http.MethodDelete, Pattern: itemPattern, Handler: http.HandlerFunc(h.remove)},
	}
	return append(routes, deps.Routes...)
}

// bind returns the routes the router registers: routes, with handlers that tell the
// access log and the metrics which route served the request (see recorder), so that
// those label requests by route template, never by raw path; and HEAD for every GET
// route (net/http sends the headers of the GET answer without its body).
func bind(routes []Route) []Route {
	var bound []Route
	for _, rt := range routes {
		// The label writes parameters as :name (/v1/items/:id), as routes have always been labelled.
		label, next := colonPattern(rt.Pattern), rt.Handler
		rt.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rec, ok := r.Context().Value(recorderKey{}).(*recorder); ok {
				rec.route = label
			}
			next.ServeHTTP(w, r)
		})
		bound = append(bound, rt)
		if rt.Method == http.MethodGet {
			bound = append(bound, Route{Method: http.MethodHead, Pattern: rt.Pattern, Handler: rt.Handler})
		}
	}
	return bound
}

// colonPattern writes a pattern's {name} parameters as :name, the syntax of routers
// such as Gin's and Echo's.
func colonPattern(pattern string) string {
	segments := strings.Split(pattern, "/")
	for i, s := range segments {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segments[i] = ":" + s[1:len(s)-1]
		}
	}
	return strings.Join(segments, "/")
}

// notFound answers a request whose path no route serves.
func notFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, notFoundProblem(r))
}

// methodNotAllowed answers a request whose path is served for other methods only;
// the router has set Allow to them (with allow when it does not itself).
func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, methodNotAllowedProblem(r))
}
