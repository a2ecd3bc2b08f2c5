package server

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/acme/catalog/internal/items"
)

// itemHandlers adapts the items service to HTTP. Decoding, validation, error
// mapping and the ETag / If-Match / Idempotency-Key headers are shared with the
// other framework (api.go, common.go, conditional.go); these functions only move
// data between Echo and the service. Errors are returned to Echo's error
// handler, which writes them as problems.
type itemHandlers struct {
	svc *items.Service
}

func (h itemHandlers) create(c *echo.Context) error {
	in, idem, err := decodeCreate(c.Request())
	if err != nil {
		return err
	}
	item, replayed, err := h.svc.Create(c.Request().Context(), in, idem)
	if err != nil {
		return err
	}
	setCreated(c.Response().Header(), item, replayed)
	return c.JSON(http.StatusCreated, item)
}

func (h itemHandlers) get(c *echo.Context) error {
	item, err := h.svc.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if notModified(c.Response().Header(), c.Request(), item) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.JSON(http.StatusOK, item)
}

func (h itemHandlers) list(c *echo.Context) error {
	after, limit, err := parseListParams(c.Request().URL.Query())
	if err != nil {
		return err
	}
	page, err := h.svc.List(c.Request().Context(), after, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newListResponse(page))
}

func (h itemHandlers) update(c *echo.Context) error {
	ifVersion, err := ifMatchVersion(c.Request())
	if err != nil {
		return err
	}
	in, err := decodeItemInput(c.Request())
	if err != nil {
		return err
	}
	item, err := h.svc.Update(c.Request().Context(), c.Param("id"), in, ifVersion)
	if err != nil {
		return err
	}
	setETag(c.Response().Header(), item)
	return c.JSON(http.StatusOK, item)
}

func (h itemHandlers) remove(c *echo.Context) error {
	ifVersion, err := ifMatchVersion(c.Request())
	if err != nil {
		return err
	}
	if err := h.svc.Delete(c.Request().Context(), c.Param("id"), ifVersion); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
