// Command handwritten is the Gin baseline of scripts/bench-service.sh: GET /healthz as the
// generated service's liveness probe, and GET /v1/items/:id and POST /v1/items doing the
// generated service's round trips (store.go) with no middleware.
package main

import (
	"log"
	"net/http"

	"github.com/gin-gonic/gin"
)

func main() {
	s := openStore()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/healthz", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/health+json", healthBody)
	})
	r.GET("/v1/items/:id", func(c *gin.Context) {
		body, err := s.cached(c.Request.Context(), c.Param("id"))
		if err != nil {
			c.Status(http.StatusNotFound)
			return
		}
		c.Data(http.StatusOK, "application/json", body)
	})
	r.POST("/v1/items", func(c *gin.Context) {
		it, err := decode(c.Request)
		if err != nil {
			c.Status(http.StatusBadRequest)
			return
		}
		body, err := s.create(c.Request.Context(), it)
		if err != nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		c.Header("Location", "/v1/items/"+it.ID)
		c.Data(http.StatusCreated, "application/json", body)
	})
	log.Fatal(server(r).ListenAndServe())
}
