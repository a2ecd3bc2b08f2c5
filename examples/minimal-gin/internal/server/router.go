package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// newRouter serves routes with Gin. Gin writes parameters as :name and keeps their
// values in the gin.Context; they are copied into the request for r.PathValue.
// Middleware, handlers and problems are net/http code shared by every framework.
func newRouter(routes []Route) http.Handler {
	// Release mode: no debug route dump or warnings on stdout; all output goes
	// through the service's JSON logger.
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true // 405 with Allow instead of a misleading 404
	r.RedirectTrailingSlash = false // an API answers the URL it was given
	r.ForwardedByClientIP = false   // never used: core's clientResolver decides who the client is
	r.NoRoute(gin.WrapF(notFound))
	r.NoMethod(gin.WrapF(methodNotAllowed))
	for _, rt := range routes {
		next := rt.Handler
		r.Handle(rt.Method, colonPattern(rt.Pattern), func(c *gin.Context) {
			for _, p := range c.Params {
				c.Request.SetPathValue(p.Key, p.Value)
			}
			next.ServeHTTP(c.Writer, c.Request)
		})
	}
	return r
}
