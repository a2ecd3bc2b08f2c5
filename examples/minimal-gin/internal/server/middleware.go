package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"example.com/hello/internal/problem"
)

func securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		setSecurityHeaders(c.Writer.Header())
		c.Next()
	}
}

func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Request = withRequestID(c.Writer, c.Request)
		c.Next()
	}
}

func accessLog(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		if quietProbe(logger, c.Request) {
			c.Next()
			return
		}
		start := time.Now()
		client := c.Request.Context() // inner middleware replace c.Request with derived contexts
		c.Next()
		logRequest(logger, c.Request, c.FullPath(), recordedStatus(client, c.Writer.Status()), int64(c.Writer.Size()), time.Since(start))
	}
}

// recovery turns a panic into a logged stack and a 500 problem, keeping the
// process and the connection alive.
func recovery(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v) // net/http's way to abort a response silently; not a bug
			}
			logPanic(logger, c.Request, v)
			if !c.Writer.Written() {
				writeProblem(c.Writer, c.Request, problem.New(http.StatusInternalServerError, ""))
			}
			c.Abort()
		}()
		c.Next()
	}
}

func rateLimit(l *ipLimiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if isProbe(c.Request.URL.Path) || l.allow(clientIP(c.Request)) {
			c.Next()
			return
		}
		c.Header("Retry-After", l.retryAfter)
		abortWithProblem(c, problem.New(http.StatusTooManyRequests,
			fmt.Sprintf("too many requests from this client, retry after %s s", l.retryAfter)))
	}
}

// requestTimeout puts a deadline on the request context; the service and its
// dependencies give up when it passes, and the handler answers 503.
func requestTimeout(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		if isProbe(c.Request.URL.Path) {
			c.Next() // no I/O on liveness; readiness checks carry their own timeouts
			return
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

func bodyLimit(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := limitBody(c.Writer, c.Request, limit); err != nil {
			abortWithProblem(c, problemFor(err))
			return
		}
		c.Next()
	}
}
