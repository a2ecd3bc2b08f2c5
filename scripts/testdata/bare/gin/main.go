// Command bare is the Gin baseline of scripts/bench-service.sh: the framework with no
// middleware, answering GET /healthz like the generated service's liveness probe and
// GET /v1/items/:id with a fixed item. Test data: built in a temporary module whose
// go.mod is the generated service's, so the framework version is the same.
package main

import (
	"log"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/healthz", func(c *gin.Context) {
		c.Header("Content-Type", "application/health+json")
		c.String(http.StatusOK, `{"status":"pass"}`)
	})
	r.GET("/v1/items/:id", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"id": c.Param("id"), "name": "bench item", "price": 100})
	})
	log.Fatal(http.ListenAndServe(":"+os.Getenv("PORT"), r))
}
