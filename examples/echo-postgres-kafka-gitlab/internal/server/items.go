package server

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"gitlab.com/acme/billing/internal/items"
)

// itemHandlers adapts the items service to HTTP. Decoding, validation and error
// mapping are shared with the other framework (api.go, common.go); these functions
// only move data between Echo and the service. Errors are returned to Echo's error
// handler, which writes them as problems.
type itemHandlers struct {
	svc *items.Service
}

func (h itemHandlers) create(c *echo.Context) error {
	in, err := decodeItemInput(c.Request())
	if err != nil {
		return err
	}
	item, err := h.svc.Create(c.Request().Context(), in)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", itemPath(item.ID))
	return c.JSON(http.StatusCreated, item)
}

func (h itemHandlers) get(c *echo.Context) error {
	item, err := h.svc.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
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
	in, err := decodeItemInput(c.Request())
	if err != nil {
		return err
	}
	item, err := h.svc.Update(c.Request().Context(), c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, item)
}

func (h itemHandlers) remove(c *echo.Context) error {
	if err := h.svc.Delete(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
