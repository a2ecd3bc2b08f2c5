package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"gitlab.com/acme/billing/internal/problem"
)

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		setSecurityHeaders(c.Response().Header())
		return next(c)
	}
}

func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		c.SetRequest(withRequestID(c.Response(), c.Request()))
		return next(c)
	}
}

func accessLog(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			quiet := quietProbe(logger, c.Request())
			var start time.Time
			if !quiet {
				start = time.Now()
			}
			client := c.Request().Context() // inner middleware replace the request with derived contexts
			if err := next(c); err != nil {
				// Write the error response here, not after the chain returns, so that
				// the status logged is the status sent.
				c.Echo().HTTPErrorHandler(c, err)
			}
			if quiet {
				return nil
			}
			resp, status := echo.ResolveResponseStatus(c.Response(), nil)
			var size int64
			if resp != nil {
				size = resp.Size
			}
			logRequest(logger, c.Request(), c.Path(), recordedStatus(client, status), size, time.Since(start))
			return nil
		}
	}
}

// errPanic is returned for a recovered panic once its stack has been logged; the
// error handler answers it with a bare 500.
var errPanic = echo.NewHTTPError(http.StatusInternalServerError, "")

// recovery turns a panic into a logged stack and a 500 problem, keeping the
// process and the connection alive.
func recovery(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) (err error) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if e, ok := v.(error); ok && errors.Is(e, http.ErrAbortHandler) {
					panic(v) // net/http's way to abort a response silently; not a bug
				}
				logPanic(logger, c.Request(), v)
				err = errPanic
			}()
			return next(c)
		}
	}
}

func rateLimit(l *ipLimiter) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			r := c.Request()
			if isProbe(r.URL.Path) || l.allow(clientIP(r)) {
				return next(c)
			}
			c.Response().Header().Set("Retry-After", l.retryAfter)
			writeProblem(c.Response(), r, problem.New(http.StatusTooManyRequests,
				fmt.Sprintf("too many requests from this client, retry after %s s", l.retryAfter)))
			return nil
		}
	}
}

// requestTimeout puts a deadline on the request context; the service and its
// dependencies give up when it passes, and the handler answers 503.
func requestTimeout(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if isProbe(c.Request().URL.Path) {
				return next(c) // no I/O on liveness; readiness checks carry their own timeouts
			}
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

func bodyLimit(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if err := limitBody(c.Response(), c.Request(), limit); err != nil {
				return err
			}
			return next(c)
		}
	}
}
