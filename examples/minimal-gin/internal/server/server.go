package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"example.com/hello/internal/problem"
)

// New returns the service's HTTP handler: a Gin engine with the middleware stack,
// the probes and the /v1 API.
func New(deps Deps) http.Handler {
	return newEngine(deps)
}

// Routes lists the method and path of every route New(deps) serves.
func Routes(deps Deps) []Route {
	var routes []Route
	for _, r := range newEngine(deps).Routes() {
		routes = append(routes, Route{Method: r.Method, Path: r.Path})
	}
	return routes
}

func newEngine(deps Deps) *gin.Engine {
	// Release mode: no debug route dump or warnings on stdout; all output goes
	// through the service's JSON logger.
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true // 405 with Allow instead of a misleading 404
	r.RedirectTrailingSlash = false // an API answers the URL it was given
	r.ForwardedByClientIP = false   // see clientIP: forwarding headers are not trusted
	r.ContextWithFallback = true    // gin.Context deadlines follow the request context

	// Order matters: headers and the request ID first so that every response carries
	// them; the access log outside recovery so that it logs the 500 recovery writes.
	r.Use(
		securityHeaders(),
		requestID(),
		accessLog(deps.Logger),
		recovery(deps.Logger),
		rateLimit(newIPLimiter(deps.Config.RateLimitRPS, deps.Config.RateLimitBurst)),
		requestTimeout(deps.Config.RequestTimeout),
		bodyLimit(deps.Config.BodyLimitBytes),
	)
	r.NoRoute(func(c *gin.Context) { writeProblem(c.Writer, c.Request, notFoundProblem(c.Request)) })
	r.NoMethod(func(c *gin.Context) { writeProblem(c.Writer, c.Request, methodNotAllowedProblem(c.Request)) })

	r.GET(livenessPath, gin.WrapH(deps.Health.Liveness()))
	r.GET(readinessPath, gin.WrapH(deps.Health.Readiness()))

	h := itemHandlers{svc: deps.Items, logger: deps.Logger}
	r.POST(itemsPath, h.create)
	r.GET(itemsPath, h.list)
	r.GET(itemsPath+"/:id", h.get)
	r.PUT(itemsPath+"/:id", h.update)
	r.DELETE(itemsPath+"/:id", h.remove)

	for _, rt := range deps.Routes {
		r.Handle(rt.Method, routerPath(rt.Pattern), gin.WrapH(rt.Handler))
	}
	return r
}

// abortWithProblem ends the chain with an error response.
func abortWithProblem(c *gin.Context, p problem.Problem) {
	writeProblem(c.Writer, c.Request, p)
	c.Abort()
}
