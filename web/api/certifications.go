package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

type certificationRequest struct {
	Holder       string   `json:"holder"`
	Scheme       string   `json:"scheme"`
	Body         string   `json:"body"`
	BodyCode     string   `json:"body_code"`
	Number       string   `json:"number"`
	ValidFrom    string   `json:"valid_from"`
	ValidTo      string   `json:"valid_to"`
	Crops        []string `json:"crops"` // a crop covers every kind made from it (issue 10)
	ProductKinds []string `json:"product_kinds"`
	Parcels      []string `json:"parcels"`
}

// CreateCertification answers POST /api/v1/certifications (admin).
func (h *Handlers) CreateCertification(c *gin.Context) {
	var req certificationRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	cert, err := h.d.Certifications.CreateCertification(c.Request.Context(), page.Actor(c), traceability.NewCertification{
		Holder: req.Holder, Scheme: req.Scheme, Body: req.Body, BodyCode: req.BodyCode, Number: req.Number,
		ValidFrom: req.ValidFrom, ValidTo: req.ValidTo, Crops: req.Crops, ProductKinds: req.ProductKinds, Parcels: req.Parcels,
	})
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, cert)
}

type statusRequest struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// SetCertificationStatus answers POST /api/v1/certifications/{id}/status:
// suspend, withdraw or reinstate (admin). Every lot claiming it shows the
// new status at once: the service announces the change to the caches.
func (h *Handlers) SetCertificationStatus(c *gin.Context) {
	var req statusRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	cert, err := h.d.Certifications.SetCertificationStatus(c.Request.Context(), page.Actor(c), c.Param("id"), req.Status, req.Reason)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, cert)
}

// GetCertification answers GET /api/v1/certifications/{id}.
func (h *Handlers) GetCertification(c *gin.Context) {
	cert, err := h.d.Certifications.Certification(c.Request.Context(), page.Actor(c), c.Param("id"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, cert)
}

// ListCertifications answers GET /api/v1/cooperatives/{coop}/certifications.
func (h *Handlers) ListCertifications(c *gin.Context) {
	cs, err := h.d.Certifications.Certifications(c.Request.Context(), page.Actor(c), c.Param("coop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(cs))
}
