package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

type harvestRequest struct {
	Parcel   string                `json:"parcel"`
	Member   string                `json:"member"`
	Date     string                `json:"date"`
	Crop     string                `json:"crop"`
	Quantity traceability.Quantity `json:"quantity"`
	// Advance is paid to the member at delivery (issue 17).
	Advance *traceability.HarvestAdvance `json:"advance"`
}

// harvestView shows a harvest's quantity in the API's quantity shape.
type harvestView struct {
	traceability.Harvest
	Quantity quantity `json:"quantity"`
}

// AddHarvest answers POST /api/v1/cooperatives/{coop}/harvests.
func (h *Handlers) AddHarvest(c *gin.Context) {
	var req harvestRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	hv, err := h.d.Records.AddHarvest(c.Request.Context(), page.Actor(c), c.Param("coop"), traceability.NewHarvest{
		Parcel: req.Parcel, Member: req.Member, Date: req.Date, Crop: req.Crop, Quantity: req.Quantity, Advance: req.Advance,
	})
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, harvestView{hv, quantity{hv.Quantity, hv.Unit}})
}

// ListHarvests answers GET /api/v1/cooperatives/{coop}/harvests.
func (h *Handlers) ListHarvests(c *gin.Context) {
	hs, err := h.d.Records.Harvests(c.Request.Context(), page.Actor(c), c.Param("coop"), pageOf(c))
	if err != nil {
		page.Fail(c, err)
		return
	}
	out := make([]harvestView, 0, len(hs))
	for _, hv := range hs {
		out = append(out, harvestView{hv, quantity{hv.Quantity, hv.Unit}})
	}
	c.JSON(http.StatusOK, out)
}

// ImportHarvests answers POST /api/v1/cooperatives/{coop}/harvests/import:
// a CSV body (text/csv) of harvests, all rows or none.
func (h *Handlers) ImportHarvests(c *gin.Context) {
	n, err := h.d.Records.ImportHarvests(c.Request.Context(), page.Actor(c), c.Param("coop"), c.Request.Body)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"imported": n})
}
