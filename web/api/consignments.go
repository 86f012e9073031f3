package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

// Consignments are the export consignments to the EU platform
// (traceability/consignments.go).
type Consignments interface {
	CreateConsignment(ctx context.Context, actor access.Actor, req traceability.NewConsignment) (traceability.Consignment, error)
	Consignment(ctx context.Context, actor access.Actor, id string) (traceability.Consignment, error)
	Consignments(ctx context.Context, actor access.Actor, coop string) ([]traceability.Consignment, error)
	SetCOINumber(ctx context.Context, actor access.Actor, id, number string) (traceability.Consignment, error)
}

type consignmentLineRequest struct {
	Lot         string                `json:"lot"`
	Units       int64                 `json:"units"`
	Quantity    traceability.Quantity `json:"quantity"`
	Packages    int64                 `json:"packages"`
	PackageKind string                `json:"package_kind"`
	NetMass     traceability.Quantity `json:"net_mass"`
	GrossMass   traceability.Quantity `json:"gross_mass"`
	CNCode      string                `json:"cn_code"`
	Description string                `json:"description"`
}

type consignmentRequest struct {
	Cooperative    string                   `json:"cooperative"`
	Exporter       traceability.Operator    `json:"exporter"`
	Consignee      traceability.Operator    `json:"consignee"`
	FirstConsignee traceability.Operator    `json:"first_consignee"`
	Destination    string                   `json:"destination"`
	ShippingDate   string                   `json:"shipping_date"`
	Transport      traceability.Transport   `json:"transport"`
	BorderPost     string                   `json:"border_post"`
	Certificate    string                   `json:"certificate"`
	Lines          []consignmentLineRequest `json:"lines"`
}

// consignmentView is a consignment with the URLs of its sheet.
type consignmentView struct {
	traceability.Consignment
	SheetCSV string `json:"sheet_csv"`
	SheetPDF string `json:"sheet_pdf"`
}

func consignmentOf(c traceability.Consignment) consignmentView {
	u := "/api/v1/consignments/" + c.ID
	if c.Receipts == nil {
		c.Receipts = []traceability.ConsignmentReceipt{}
	}
	return consignmentView{Consignment: c, SheetCSV: u + "/sheet.csv", SheetPDF: u + "/sheet.pdf"}
}

// CreateConsignment answers POST /api/v1/consignments (the cooperative in
// the body) and POST /api/v1/cooperatives/{coop}/consignments: 201 with the
// consignment; a lot outside the EU organic certificate's scope or validity
// is 409 naming lines[i].lot, another cooperative's lot 400.
func (h *Handlers) CreateConsignment(c *gin.Context) {
	var req consignmentRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	if coop := c.Param("coop"); coop != "" {
		if req.Cooperative != "" && id.NormalizeCode(req.Cooperative) != id.NormalizeCode(coop) {
			page.Fail(c, problem.Field("cooperative", "is %s in the path", id.NormalizeCode(coop)))
			return
		}
		req.Cooperative = coop
	}
	if strings.TrimSpace(req.Cooperative) == "" {
		err := problem.Field("cooperative", "is required")
		if page.Actor(c).Anonymous() {
			err = access.ErrUnauthorized // log in first
		}
		page.Fail(c, err)
		return
	}
	nc := traceability.NewConsignment{Cooperative: req.Cooperative, Exporter: req.Exporter, Consignee: req.Consignee,
		FirstConsignee: req.FirstConsignee, Destination: req.Destination, ShippingDate: req.ShippingDate, Transport: req.Transport,
		BorderPost: req.BorderPost, Certificate: req.Certificate}
	for _, l := range req.Lines {
		nc.Lines = append(nc.Lines, traceability.NewConsignmentLine{Lot: l.Lot, Units: l.Units, Quantity: l.Quantity, Packages: l.Packages,
			PackageKind: l.PackageKind, NetMass: l.NetMass, GrossMass: l.GrossMass, CNCode: l.CNCode, Description: l.Description})
	}
	cs, err := h.d.Consignments.CreateConsignment(c.Request.Context(), page.Actor(c), nc)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := consignmentOf(cs)
	c.Header("Location", "/api/v1/consignments/"+cs.ID)
	c.JSON(http.StatusCreated, v)
}

// ListConsignments answers GET /api/v1/cooperatives/{coop}/consignments,
// newest first.
func (h *Handlers) ListConsignments(c *gin.Context) {
	list, err := h.d.Consignments.Consignments(c.Request.Context(), page.Actor(c), c.Param("coop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	out := make([]consignmentView, 0, len(list))
	for _, cs := range list {
		out = append(out, consignmentOf(cs))
	}
	c.JSON(http.StatusOK, out)
}

// GetConsignment answers GET /api/v1/consignments/{id}.
func (h *Handlers) GetConsignment(c *gin.Context) {
	cs, err := h.d.Consignments.Consignment(c.Request.Context(), page.Actor(c), c.Param("id"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, consignmentOf(cs))
}

type coiRequest struct {
	COINumber string `json:"coi_number"`
}

// SetCOINumber answers POST /api/v1/consignments/{id}/coi: the number of
// the certificate of inspection the control body issued in TRACES.
func (h *Handlers) SetCOINumber(c *gin.Context) {
	var req coiRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	cs, err := h.d.Consignments.SetCOINumber(c.Request.Context(), page.Actor(c), c.Param("id"), req.COINumber)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, consignmentOf(cs))
}

// ConsignmentSheetCSV answers GET /api/v1/consignments/{id}/sheet.csv.
func (h *Handlers) ConsignmentSheetCSV(c *gin.Context) {
	cs, err := h.d.Consignments.Consignment(c.Request.Context(), page.Actor(c), c.Param("id"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	page.ServeConsignmentSheet(c, cs, "csv")
}

// ConsignmentSheetPDF answers GET /api/v1/consignments/{id}/sheet.pdf.
func (h *Handlers) ConsignmentSheetPDF(c *gin.Context) {
	cs, err := h.d.Consignments.Consignment(c.Request.Context(), page.Actor(c), c.Param("id"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	page.ServeConsignmentSheet(c, cs, "pdf")
}
