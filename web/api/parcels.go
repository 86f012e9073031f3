package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

type parcelRequest struct {
	Name     string                `json:"name"`
	Member   string                `json:"member"`
	Commune  string                `json:"commune"`
	AreaM2   int64                 `json:"area_m2"`
	Crop     string                `json:"crop"`
	Location traceability.Geometry `json:"location"`
}

// AddParcel answers POST /api/v1/cooperatives/{coop}/parcels.
func (h *Handlers) AddParcel(c *gin.Context) {
	var req parcelRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	p, err := h.d.Records.AddParcel(c.Request.Context(), page.Actor(c), c.Param("coop"), traceability.NewParcel{
		Name: req.Name, Member: req.Member, Commune: req.Commune, AreaM2: req.AreaM2, Crop: req.Crop, Location: req.Location,
	})
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, p)
}

// ListParcels answers GET /api/v1/cooperatives/{coop}/parcels.
func (h *Handlers) ListParcels(c *gin.Context) {
	ps, err := h.d.Records.Parcels(c.Request.Context(), page.Actor(c), c.Param("coop"), pageOf(c))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(ps))
}
