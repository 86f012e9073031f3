package api

import (
	"net/http"
	"time"

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

// harvestCorrection is the answer to a harvest correction: the entry of its
// correction history and the harvest after it.
type harvestCorrection struct {
	Correction struct {
		From   quantity  `json:"from"`
		To     quantity  `json:"to"`
		Reason string    `json:"reason"`
		By     string    `json:"by"`
		At     time.Time `json:"at"`
	} `json:"correction"`
	Harvest harvestView `json:"harvest"`
}

// CorrectHarvest answers POST /api/v1/cooperatives/{coop}/harvests/{id}/corrections:
// the harvest's quantity corrected with a reason, and its lot by the same
// difference (201); 400 naming quantity or reason; 409 when its lot has
// already passed on more than the correction leaves it; 422 beyond the
// crop's hard limit.
func (h *Handlers) CorrectHarvest(c *gin.Context) {
	var req correctionRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	hv, err := h.d.Records.CorrectHarvest(c.Request.Context(), page.Actor(c), c.Param("coop"), c.Param("id"), req.Quantity, req.Reason)
	if err != nil {
		page.Fail(c, err)
		return
	}
	var out harvestCorrection
	last := hv.Corrections[len(hv.Corrections)-1]
	out.Correction.From, out.Correction.To = quantity{last.From, hv.Unit}, quantity{last.To, hv.Unit}
	out.Correction.Reason, out.Correction.By, out.Correction.At = last.Reason, last.By, last.At
	out.Harvest = harvestView{hv, quantity{hv.Quantity, hv.Unit}}
	c.JSON(http.StatusCreated, out)
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
