package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"
)

// newRouter serves routes with Echo. Echo writes parameters as :name and keeps their
// values in the echo.Context; they are copied into the request for r.PathValue.
// Middleware, handlers and problems are net/http code shared by every framework.
func newRouter(routes []Route) http.Handler {
	e := echo.NewWithConfig(echo.Config{Router: echo.NewRouter(echo.RouterConfig{
		NotFoundHandler:         echo.WrapHandler(http.HandlerFunc(notFound)),
		MethodNotAllowedHandler: notAllowed,
		OptionsMethodHandler:    notAllowed, // no route answers OPTIONS, as with the other routers
	})})
	for _, rt := range routes {
		next := rt.Handler
		e.Add(rt.Method, colonPattern(rt.Pattern), func(c *echo.Context) error {
			r := c.Request()
			for _, p := range c.PathValues() {
				r.SetPathValue(p.Name, p.Value)
			}
			next.ServeHTTP(c.Response(), r)
			return nil // the handlers write their own errors
		})
	}
	return e
}

// notAllowed answers a method the path is not routed for. Echo lists OPTIONS first
// among the allowed methods, which the service does not answer.
func notAllowed(c *echo.Context) error {
	allowed, _ := c.Get(echo.ContextKeyHeaderAllow).(string)
	c.Response().Header().Set("Allow", strings.TrimPrefix(allowed, http.MethodOptions+", "))
	methodNotAllowed(c.Response(), c.Request())
	return nil
}
