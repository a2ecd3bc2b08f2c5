package server

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v5"

	"gitlab.com/acme/billing/internal/problem"
	"gitlab.com/acme/billing/internal/requestid"
)

// New returns the service's HTTP handler: an Echo instance with the middleware
// stack, the probes and the /v1 API.
func New(deps Deps) http.Handler {
	return newEcho(deps)
}

// Routes lists the method and path of every route New(deps) serves.
func Routes(deps Deps) []Route {
	var routes []Route
	for _, r := range newEcho(deps).Router().Routes() {
		routes = append(routes, Route{Method: r.Method, Path: r.Path})
	}
	return routes
}

func newEcho(deps Deps) *echo.Echo {
	e := echo.NewWithConfig(echo.Config{
		Logger:           deps.Logger,
		HTTPErrorHandler: errorHandler(deps.Logger),
	})

	// Order matters: headers and the request ID first so that every response carries
	// them; the access log outside recovery so that it logs the 500 recovery causes.
	e.Use(
		securityHeaders,
		requestID,
		accessLog(deps.Logger),
		recovery(deps.Logger),
		rateLimit(newIPLimiter(deps.Config.RateLimitRPS, deps.Config.RateLimitBurst)),
		requestTimeout(deps.Config.RequestTimeout),
		bodyLimit(deps.Config.BodyLimitBytes),
	)

	e.GET(livenessPath, echo.WrapHandler(deps.Health.Liveness()))
	e.GET(readinessPath, echo.WrapHandler(deps.Health.Readiness()))

	h := itemHandlers{svc: deps.Items}
	e.POST(itemsPath, h.create)
	e.GET(itemsPath, h.list)
	e.GET(itemsPath+"/:id", h.get)
	e.PUT(itemsPath+"/:id", h.update)
	e.DELETE(itemsPath+"/:id", h.remove)

	for _, rt := range deps.Routes {
		e.Add(rt.Method, routerPath(rt.Pattern), echo.WrapHandler(rt.Handler))
	}
	return e
}

// errorHandler writes every error a handler or middleware returns as a problem.
// Echo's own errors (unknown route, wrong method) carry their status; the service's
// errors are mapped by problemFor.
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(c *echo.Context, err error) {
		w, r := c.Response(), c.Request()
		if resp, _ := echo.UnwrapResponse(w); resp != nil && resp.Committed {
			// The status line is already sent, so the client cannot be told; the log can.
			logger.WarnContext(r.Context(), "error after the response was sent",
				"error", err.Error(), "path", r.URL.Path, "request_id", requestid.FromContext(r.Context()))
			return
		}
		switch code := echo.StatusCode(err); code {
		case 0:
			writeError(logger, w, r, err)
		case http.StatusNotFound:
			writeProblem(w, r, notFoundProblem(r))
		case http.StatusMethodNotAllowed:
			writeProblem(w, r, methodNotAllowedProblem(r))
		default:
			writeProblem(w, r, problem.New(code, ""))
		}
	}
}
