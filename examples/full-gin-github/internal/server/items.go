package server

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/acme/orders-api/internal/items"
)

// itemHandlers adapts the items service to HTTP. Decoding, validation, error
// mapping and the ETag / If-Match / Idempotency-Key headers are shared with the
// other framework (api.go, common.go, conditional.go); these functions only move
// data between Gin and the service.
type itemHandlers struct {
	svc    *items.Service
	logger *slog.Logger
}

func (h itemHandlers) fail(c *gin.Context, err error) {
	writeError(h.logger, c.Writer, c.Request, err)
	c.Abort()
}

func (h itemHandlers) create(c *gin.Context) {
	in, idem, err := decodeCreate(c.Request)
	if err != nil {
		h.fail(c, err)
		return
	}
	item, replayed, err := h.svc.Create(c.Request.Context(), in, idem)
	if err != nil {
		h.fail(c, err)
		return
	}
	setCreated(c.Writer.Header(), item, replayed)
	c.JSON(http.StatusCreated, item)
}

func (h itemHandlers) get(c *gin.Context) {
	item, err := h.svc.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	if notModified(c.Writer.Header(), c.Request, item) {
		c.Status(http.StatusNotModified)
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
	ifVersion, err := ifMatchVersion(c.Request)
	if err != nil {
		h.fail(c, err)
		return
	}
	in, err := decodeItemInput(c.Request)
	if err != nil {
		h.fail(c, err)
		return
	}
	item, err := h.svc.Update(c.Request.Context(), c.Param("id"), in, ifVersion)
	if err != nil {
		h.fail(c, err)
		return
	}
	setETag(c.Writer.Header(), item)
	c.JSON(http.StatusOK, item)
}

func (h itemHandlers) remove(c *gin.Context) {
	ifVersion, err := ifMatchVersion(c.Request)
	if err != nil {
		h.fail(c, err)
		return
	}
	if err := h.svc.Delete(c.Request.Context(), c.Param("id"), ifVersion); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
