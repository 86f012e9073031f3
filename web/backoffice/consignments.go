package backoffice

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

// Consignments are the export consignments to the EU platform
// (traceability/consignments.go) and the certificates they travel under.
type Consignments interface {
	CreateConsignment(ctx context.Context, actor access.Actor, req traceability.NewConsignment) (traceability.Consignment, error)
	Consignment(ctx context.Context, actor access.Actor, id string) (traceability.Consignment, error)
	Consignments(ctx context.Context, actor access.Actor, coop string) ([]traceability.Consignment, error)
	SetCOINumber(ctx context.Context, actor access.Actor, id, number string) (traceability.Consignment, error)
	Certifications(ctx context.Context, actor access.Actor, holder string) ([]traceability.Certification, error)
}

// secConsignments is the records' section of export consignments.
const secConsignments = "consignments"

// consignmentFormLines is how many lot lines the declaration form offers.
const consignmentFormLines = 4

// defaultDestination is the EU platform's shop code in the network.
const defaultDestination = "EU-PLATFORM"

type consignmentRow struct {
	traceability.Consignment
	URL, Status, NetKg string
}

type lotChoice struct {
	Code, Label string
}

type consignmentsView struct {
	page.Page
	coopTop
	Consignments []consignmentRow
	Certificates []option // the cooperative's EU organic certificates
	Lots         []lotChoice
	Modes        []option
	LineIndexes  []int
	Destination  string
}

// ConsignmentsPage answers GET /coop/{coop}/consignments: the cooperative's
// export consignments and, for its manager, the form declaring one.
func (h *Handlers) ConsignmentsPage(c *gin.Context) { h.showConsignments(c, nil, "") }

func (h *Handlers) showConsignments(c *gin.Context, formErr error, which string) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	top, err := h.coopTop(c, secConsignments)
	if err != nil {
		page.Fail(c, err)
		return
	}
	code := top.Cooperative.Code
	list, err := h.d.Consignments.Consignments(ctx, actor, code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &consignmentsView{Page: h.d.Pages.Page(c, l.T("consignments")), coopTop: top, Destination: defaultDestination}
	for _, cs := range list {
		v.Consignments = append(v.Consignments, consignmentRow{Consignment: cs, URL: consignmentPath(code, cs.ID),
			Status: l.Term("consignment_status", cs.Status), NetKg: traceability.FormatMassKg(cs.NetMass)})
	}
	if top.CanManage {
		certs, err := h.d.Consignments.Certifications(ctx, actor, code)
		if err != nil {
			page.Fail(c, err)
			return
		}
		for _, ct := range certs {
			if ct.Scheme == "EU organic" {
				v.Certificates = append(v.Certificates, option{ct.ID, ct.Number + " · " + ct.Body + " (" + ct.BodyCode + ") · " + ct.ValidTo})
			}
		}
		lots, err := collect(selectLimit, func(p mongodb.Page) ([]traceability.Lot, error) { return h.d.Records.Lots(ctx, actor, code, p) })
		if err != nil {
			page.Fail(c, err)
			return
		}
		for _, lot := range lots {
			if lot.Available <= 0 {
				continue
			}
			avail := l.Quantity(lot.Available, lot.Unit)
			if lot.Source == traceability.SourcePacking {
				avail = l.T("units_count", lot.Available)
			}
			v.Lots = append(v.Lots, lotChoice{lot.Code, lot.Code + " · " + l.Kind(lot.ProductKind) + " · " + avail})
		}
		for _, m := range traceability.TransportModes {
			v.Modes = append(v.Modes, option{m, l.Term("transport", m)})
		}
		for i := range consignmentFormLines {
			v.LineIndexes = append(v.LineIndexes, i)
		}
	}
	h.render(c, &v.Page, formErr, which, "backoffice/consignments", v)
}

func consignmentPath(coop, id string) string {
	return "/coop/" + esc(coop) + "/consignments/" + esc(id)
}

// grams reads a form's whole number of grams as a Quantity (empty: none).
func grams(field, v string) (traceability.Quantity, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return traceability.Quantity{}, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return traceability.Quantity{}, problem.Field(field, "must be a positive whole number of grams")
	}
	return traceability.Quantity{Amount: n, Unit: "g"}, nil
}

// consignmentForm reads the declaration form; lines without a lot are
// skipped.
func consignmentForm(c *gin.Context, coop string) (traceability.NewConsignment, error) {
	f := c.PostForm
	op := func(prefix string) traceability.Operator {
		return traceability.Operator{Name: f(prefix + ".name"), Address: f(prefix + ".address"), Country: f(prefix + ".country"), Code: f(prefix + ".code")}
	}
	nc := traceability.NewConsignment{Cooperative: coop, Exporter: op("exporter"), Consignee: op("consignee"), FirstConsignee: op("first_consignee"),
		Destination: f("destination"), ShippingDate: f("shipping_date"), BorderPost: f("border_post"), Certificate: f("certificate"),
		Transport: traceability.Transport{Mode: f("transport.mode"), Identification: f("transport.identification"), Container: f("transport.container")}}
	for i := range consignmentFormLines {
		p := fmt.Sprintf("lines[%d].", i)
		if strings.TrimSpace(f(p+"lot")) == "" {
			continue
		}
		// Form lines are numbered as the service numbers them: the line
		// a refusal names is the one the manager filled in.
		field := fmt.Sprintf("lines[%d].", len(nc.Lines))
		nl := traceability.NewConsignmentLine{Lot: f(p + "lot"), PackageKind: f(p + "package_kind"), CNCode: f(p + "cn_code")}
		var err error
		if u := strings.TrimSpace(f(p + "units")); u != "" {
			if nl.Units, err = strconv.ParseInt(u, 10, 64); err != nil {
				return nc, problem.Field(field+"units", "must be a positive whole number")
			}
		}
		if nl.Packages, err = strconv.ParseInt(strings.TrimSpace(f(p+"packages")), 10, 64); err != nil {
			return nc, problem.Field(field+"packages", "must be a positive whole number")
		}
		if nl.Quantity, err = grams(field+"quantity", f(p+"quantity")); err != nil {
			return nc, err
		}
		if nl.NetMass, err = grams(field+"net_mass", f(p+"net_mass")); err != nil {
			return nc, err
		}
		if nl.GrossMass, err = grams(field+"gross_mass", f(p+"gross_mass")); err != nil {
			return nc, err
		}
		nc.Lines = append(nc.Lines, nl)
	}
	return nc, nil
}

// CreateConsignment answers POST /coop/{coop}/consignments.
func (h *Handlers) CreateConsignment(c *gin.Context) {
	coop := c.Param("coop")
	var cs traceability.Consignment
	err := func() error {
		nc, err := consignmentForm(c, coop)
		if err != nil {
			return err
		}
		cs, err = h.d.Consignments.CreateConsignment(c.Request.Context(), page.Actor(c), nc)
		return err
	}()
	next := coopPath(coop, "consignments")
	if err == nil {
		next = consignmentPath(cs.Cooperative, cs.ID)
	}
	h.done(c, err, "consignment", next, "consignment_declared", h.showConsignments)
}

type consignmentLineRow struct {
	traceability.ConsignmentLine
	Content, NetKg, GrossKg string
}

type consignmentView struct {
	page.Page
	coopTop
	C              traceability.Consignment
	Status         string
	Lines          []consignmentLineRow
	NetKg, GrossKg string
	CSVURL, PDFURL string
}

// ConsignmentPage answers GET /coop/{coop}/consignments/{id}: what the
// certificate of inspection will say, its sheet, its COI number and what
// the platform received of it.
func (h *Handlers) ConsignmentPage(c *gin.Context) { h.showConsignment(c, nil, "") }

func (h *Handlers) showConsignment(c *gin.Context, formErr error, which string) {
	l := page.Locale(c)
	top, err := h.coopTop(c, secConsignments)
	if err != nil {
		page.Fail(c, err)
		return
	}
	cs, err := h.consignmentOf(c)
	if err != nil {
		page.Fail(c, err)
		return
	}
	base := consignmentPath(cs.Cooperative, cs.ID)
	v := &consignmentView{Page: h.d.Pages.Page(c, l.T("consignment")+" "+cs.ID), coopTop: top, C: cs, Status: l.Term("consignment_status", cs.Status),
		NetKg: traceability.FormatMassKg(cs.NetMass), GrossKg: traceability.FormatMassKg(cs.GrossMass), CSVURL: base + "/sheet.csv", PDFURL: base + "/sheet.pdf"}
	for _, ln := range cs.Lines {
		content := l.Quantity(ln.Content, ln.Unit)
		if ln.Units > 0 {
			content = l.T("units_count", ln.Units) + " · " + content
		}
		v.Lines = append(v.Lines, consignmentLineRow{ConsignmentLine: ln, Content: content, NetKg: traceability.FormatMassKg(ln.NetMass),
			GrossKg: traceability.FormatMassKg(ln.GrossMass)})
	}
	h.render(c, &v.Page, formErr, which, "backoffice/consignment", v)
}

// consignmentOf reads the consignment of the path, refusing one of another
// cooperative than the path's.
func (h *Handlers) consignmentOf(c *gin.Context) (traceability.Consignment, error) {
	cs, err := h.d.Consignments.Consignment(c.Request.Context(), page.Actor(c), c.Param("id"))
	if err != nil {
		return cs, err
	}
	if cs.Cooperative != strings.ToUpper(strings.TrimSpace(c.Param("coop"))) {
		return cs, traceability.ErrConsignmentNotFound
	}
	return cs, nil
}

// SetCOINumber answers POST /coop/{coop}/consignments/{id}/coi.
func (h *Handlers) SetCOINumber(c *gin.Context) {
	_, err := h.d.Consignments.SetCOINumber(c.Request.Context(), page.Actor(c), c.Param("id"), c.PostForm("coi_number"))
	h.done(c, err, "coi", consignmentPath(strings.ToUpper(c.Param("coop")), c.Param("id")), "saved", h.showConsignment)
}

// ConsignmentSheet answers GET /coop/{coop}/consignments/{id}/sheet.csv
// and sheet.pdf for a logged-in browser.
func (h *Handlers) ConsignmentSheet(format string) gin.HandlerFunc {
	return func(c *gin.Context) {
		cs, err := h.consignmentOf(c)
		if err != nil {
			page.Fail(c, err)
			return
		}
		page.ServeConsignmentSheet(c, cs, format)
	}
}
