// Command handwritten is the Echo baseline of scripts/bench-service.sh: GET /healthz as the
// generated service's liveness probe, and GET /v1/items/:id and POST /v1/items doing the
// generated service's round trips (store.go) with no middleware.
package main

import (
	"log"
	"net/http"

	"github.com/labstack/echo/v5"
)

func main() {
	s := openStore()
	e := echo.New()
	e.GET("/healthz", func(c *echo.Context) error {
		return c.Blob(http.StatusOK, "application/health+json", healthBody)
	})
	e.GET("/v1/items/:id", func(c *echo.Context) error {
		body, err := s.cached(c.Request().Context(), c.Param("id"))
		if err != nil {
			return c.NoContent(http.StatusNotFound)
		}
		return c.Blob(http.StatusOK, "application/json", body)
	})
	e.POST("/v1/items", func(c *echo.Context) error {
		it, err := decode(c.Request())
		if err != nil {
			return c.NoContent(http.StatusBadRequest)
		}
		body, err := s.create(c.Request().Context(), it)
		if err != nil {
			return c.NoContent(http.StatusInternalServerError)
		}
		c.Response().Header().Set("Location", "/v1/items/"+it.ID)
		return c.Blob(http.StatusCreated, "application/json", body)
	})
	log.Fatal(server(e).ListenAndServe())
}
