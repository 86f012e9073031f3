package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/web/page"
)

type shopRequest struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	City     string `json:"city"`
	Currency string `json:"currency"`
	Kind     string `json:"kind"`
}

// CreateShop answers POST /api/v1/shops (admin).
func (h *Handlers) CreateShop(c *gin.Context) {
	var req shopRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	sh, err := h.d.Shops.CreateShop(c.Request.Context(), page.Actor(c), shops.Shop{
		Code: req.Code, Name: req.Name, City: req.City, Currency: req.Currency, Kind: req.Kind,
	})
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, sh)
}

// ListShops answers GET /api/v1/shops.
func (h *Handlers) ListShops(c *gin.Context) {
	all, err := h.d.Shops.Shops(c.Request.Context(), pageOf(c))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(all))
}

// GetShop answers GET /api/v1/shops/{shop}.
func (h *Handlers) GetShop(c *gin.Context) {
	sh, err := h.d.Shops.Shop(c.Request.Context(), c.Param("shop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sh)
}
