// Command bare is the Echo baseline of scripts/bench-service.sh: the framework with no
// middleware, answering GET /healthz like the generated service's liveness probe and
// GET /v1/items/:id with a fixed item. Test data: built in a temporary module whose
// go.mod is the generated service's, so the framework version is the same.
package main

import (
	"log"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v5"
)

func main() {
	e := echo.New()
	e.GET("/healthz", func(c *echo.Context) error {
		c.Response().Header().Set("Content-Type", "application/health+json")
		return c.String(http.StatusOK, `{"status":"pass"}`)
	})
	e.GET("/v1/items/:id", func(c *echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "name": "bench item", "price": 100})
	})
	// The same http.Server timeouts as the generated service's defaults: they are server
	// configuration every production server needs (per-request deadlines cost net/http a few
	// percent), not middleware, so the ratio measures the middleware stack alone.
	srv := &http.Server{
		Addr:              ":" + os.Getenv("PORT"),
		Handler:           e,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
