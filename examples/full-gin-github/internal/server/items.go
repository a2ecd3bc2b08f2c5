package server

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/acme/orders-api/internal/items"
)

// itemHandlers adapts the items service to HTTP. Decoding, validation and error
// mapping are shared with the other framework (api.go, common.go); these functions
// only move data between Gin and the service.
type itemHandlers struct {
	svc    *items.Service
	logger *slog.Logger
}

func (h itemHandlers) fail(c *gin.Context, err error) {
	writeError(h.logger, c.Writer, c.Request, err)
	c.Abort()
}

func (h itemHandlers) create(c *gin.Context) {
	in, err := decodeItemInput(c.Request)
	if err != nil {
		h.fail(c, err)
		return
	}
	item, err := h.svc.Create(c.Request.Context(), in)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", itemPath(item.ID))
	c.JSON(http.StatusCreated, item)
}

func (h itemHandlers) get(c *gin.Context) {
	item, err := h.svc.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, item)
}

func (h itemHandlers) list(c *gin.Context) {
	after, limit, err := parseListParams(c.Request.URL.Query())
	if err != nil {
		h.fail(c, err)
		return
	}
	page, err := h.svc.List(c.Request.Context(), after, limit)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newListResponse(page))
}

func (h itemHandlers) update(c *gin.Context) {
	in, err := decodeItemInput(c.Request)
	if err != nil {
		h.fail(c, err)
		return
	}
	item, err := h.svc.Update(c.Request.Context(), c.Param("id"), in)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, item)
}

func (h itemHandlers) remove(c *gin.Context) {
	if err := h.svc.Delete(c.Request.Context(), c.Param("id")); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
