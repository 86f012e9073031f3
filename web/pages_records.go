package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
)

// recordPages registers the cooperative's record-keeping pages: parcels,
// harvests, lots, transformations, packing, and the auditors' views.
//
// Every form follows the pattern of pages_network.go: a refused submission
// re-renders the page with the *problem.Error by the form (Form["which"]
// names the form, Form["invalid"] the field) and every typed value kept; an
// accepted one redirects with ?flash=. Access is decided by the services.
func (s *Server) recordPages(pages *gin.RouterGroup) {
	pages.GET("/coop/:coop/parcels", s.parcelsPage)
	pages.POST("/coop/:coop/parcels", s.managesCoop, s.parcelsAdd)
	pages.GET("/coop/:coop/harvests", s.harvestsPage)
	pages.POST("/coop/:coop/harvests", s.managesCoop, s.harvestsAdd)
	pages.POST("/coop/:coop/harvests/import", s.managesCoop, s.harvestsImport)
	pages.GET("/coop/:coop/lots", s.lotsPage)
	pages.POST("/coop/:coop/lots", s.managesCoop, s.lotsCreate)
	pages.POST("/coop/:coop/transformations", s.managesCoop, s.lotsTransform)
	pages.POST("/coop/:coop/packings", s.managesCoop, s.lotsPack)
	pages.GET("/lots/:code", s.lotPage)
	pages.POST("/lots/:code/flags/:flag/justification", s.lotJustify)
	pages.GET("/audit/:coop", s.auditPage)
	pages.GET("/audit/:coop/mass-balance.csv", s.auditBalanceCSV)
	pages.GET("/plausibility", s.plausibilityPage)
}

// keepForm puts a refused form's error and typed values into d and returns
// the status of the error. It returns false, having shown an error page,
// when err is not a problem the visitor can correct in the form.
func (s *Server) keepForm(c *gin.Context, d *pageData, formErr error, which string) (int, bool) {
	if formErr == nil {
		return http.StatusOK, true
	}
	pe, ok := problem.As(formErr)
	if !ok {
		s.pageFail(c, formErr)
		return 0, false
	}
	for k, vals := range c.Request.PostForm {
		if k != csrfField && len(vals) > 0 {
			d.Form[k] = vals[0]
		}
	}
	d.Error = pe
	d.Form["which"] = which
	d.Form["invalid"] = pe.Field
	status, _ := classify(c, formErr)
	return status, true
}

// afterRecordForm ends a form submission: on success a redirect to next with
// a flash message; a refusal the visitor can correct re-shows the form;
// anything else (login needed, forbidden, internal) is an error page.
func (s *Server) afterRecordForm(c *gin.Context, err error, which, next, flash string, show func(*gin.Context, error, string)) {
	switch code := problem.CodeOf(err); {
	case err == nil:
		if flash == "" {
			flash = messages[langOf(c)]["saved"]
		}
		c.Redirect(http.StatusSeeOther, next+"?flash="+url.QueryEscape(flash))
	case code == problem.Unauthorized || code == problem.Forbidden || code == "":
		s.pageFail(c, err)
	default:
		show(c, err, which)
	}
}

// collect reads every page of a list, up to limit items, for a form's
// select or a join in Go (the store has no $lookup).
func collect[T any](limit int, list func(traceability.Page) ([]T, error)) ([]T, error) {
	var out []T
	for off := 0; off < limit; off += traceability.MaxPageSize {
		items, err := list(traceability.Page{Limit: traceability.MaxPageSize, Offset: off})
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if len(items) < traceability.MaxPageSize {
			break
		}
	}
	return out, nil
}

// selectLimit bounds what a form's select lists; a cooperative of the
// network has tens of members and parcels, not thousands.
const selectLimit = 2000

// Display is a quantity as people read it ("1.25 kg").
func (q quantityView) Display() string { return traceability.FormatQuantity(q.Amount, q.Unit) }

// digitsASCII turns Arabic-Indic and Eastern Arabic-Indic digits into ASCII
// ones and drops the spaces people type inside numbers ("1 200"), so a
// phone set to Arabic can fill a number field.
func digitsASCII(v string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(v) {
		switch {
		case r >= '٠' && r <= '٩':
			b.WriteRune('0' + r - '٠')
		case r >= '۰' && r <= '۹':
			b.WriteRune('0' + r - '۰')
		case r == '٫':
			b.WriteRune('.')
		case r == ' ' || r == '\u00a0' || r == '\u202f':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// wholeNumber reads a form's whole number.
func wholeNumber(field, v string) (int64, error) {
	v = digitsASCII(v)
	if v == "" {
		return 0, problem.Field(field, "is required")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, problem.Field(field, "%q is not a whole number", v)
	}
	return n, nil
}

// decimalDegrees reads a latitude or longitude, with a decimal point or the
// French decimal comma.
func decimalDegrees(v string) (float64, bool) {
	v = strings.ReplaceAll(digitsASCII(v), ",", ".")
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

// formLocation builds a parcel's GeoJSON from the form: a polygon pasted
// from a GPS app (a Geometry, a Feature, or a FeatureCollection of one
// feature) wins; otherwise a Point from latitude and longitude.
func formLocation(latitude, longitude, polygon string) (traceability.Geometry, error) {
	if polygon = strings.TrimSpace(polygon); polygon != "" {
		var in struct {
			Type        string                 `json:"type"`
			Coordinates json.RawMessage        `json:"coordinates"`
			Geometry    *traceability.Geometry `json:"geometry"`
			Features    []struct {
				Geometry *traceability.Geometry `json:"geometry"`
			} `json:"features"`
		}
		if err := json.Unmarshal([]byte(polygon), &in); err != nil {
			return traceability.Geometry{}, problem.Field("polygon", "is not GeoJSON: %v", err)
		}
		switch {
		case in.Type == "Feature" && in.Geometry != nil:
			return *in.Geometry, nil
		case in.Type == "FeatureCollection" && len(in.Features) == 1 && in.Features[0].Geometry != nil:
			return *in.Features[0].Geometry, nil
		case in.Type == "FeatureCollection":
			return traceability.Geometry{}, problem.Field("polygon", "holds %d features; paste the one of this parcel", len(in.Features))
		}
		return traceability.Geometry{Type: in.Type, Coordinates: in.Coordinates}, nil
	}
	if strings.TrimSpace(latitude) == "" && strings.TrimSpace(longitude) == "" {
		return traceability.Geometry{}, problem.Field("location", "give the latitude and longitude, or paste the parcel's polygon")
	}
	lat, ok := decimalDegrees(latitude)
	if !ok {
		return traceability.Geometry{}, problem.Field("latitude", "%q is not a number of degrees such as 30.52", latitude)
	}
	lon, ok := decimalDegrees(longitude)
	if !ok {
		return traceability.Geometry{}, problem.Field("longitude", "%q is not a number of degrees such as -7.92", longitude)
	}
	coords, _ := json.Marshal([]float64{lon, lat}) // GeoJSON order: longitude first
	return traceability.Geometry{Type: "Point", Coordinates: coords}, nil
}

// coopRecords is what every cooperative record page shows at the top.
type coopRecords struct {
	Cooperative traceability.Cooperative
	CanManage   bool
	Section     string // parcels, harvests or lots: the current tab
}

func (s *Server) coopRecords(c *gin.Context, section string) (coopRecords, error) {
	actor := actorOf(c)
	coop, err := s.deps.Traceability.Cooperative(c.Request.Context(), actor, c.Param("coop"))
	if err != nil {
		return coopRecords{}, err
	}
	return coopRecords{Cooperative: coop, CanManage: actor.ManageCoop(coop.Code) == nil, Section: section}, nil
}

func coopPath(coop, section string) string {
	return "/coop/" + url.PathEscape(traceability.NormalizeCode(coop)) + "/" + section
}

// membersByID reads a cooperative's members for selects and joins.
func (s *Server) membersByID(ctx context.Context, actor access.Actor, coop string) ([]traceability.Member, map[string]traceability.Member, error) {
	ms, err := collect(selectLimit, func(p traceability.Page) ([]traceability.Member, error) {
		return s.deps.Traceability.Members(ctx, actor, coop, p)
	})
	byID := make(map[string]traceability.Member, len(ms))
	for _, m := range ms {
		byID[m.ID] = m
	}
	return ms, byID, err
}

// ---- Parcels -------------------------------------------------------------

type parcelRow struct {
	traceability.Parcel
	MemberName string
}

type parcelsView struct {
	coopRecords
	Parcels []parcelRow
	Pager   pager
	Members []traceability.Member
	Crops   []string
}

func (s *Server) parcelsPage(c *gin.Context) { s.showParcels(c, nil, "") }

func (s *Server) showParcels(c *gin.Context, formErr error, which string) {
	ctx, actor := c.Request.Context(), actorOf(c)
	top, err := s.coopRecords(c, "parcels")
	if err != nil {
		s.pageFail(c, err)
		return
	}
	members, byID, err := s.membersByID(ctx, actor, top.Cooperative.Code)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	p, pg := pageWindow(c, "po")
	parcels, err := s.deps.Traceability.Parcels(ctx, actor, top.Cooperative.Code, p)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &parcelsView{coopRecords: top, Pager: pg.finish(c, len(parcels)), Members: members, Crops: traceability.Crops}
	for _, p := range trim(parcels) {
		v.Parcels = append(v.Parcels, parcelRow{Parcel: p, MemberName: byID[p.Member].Name})
	}
	d := s.data(c, "parcels", v)
	d.Form["commune"] = top.Cooperative.Commune
	status, ok := s.keepForm(c, d, formErr, which)
	if !ok {
		return
	}
	s.render(c, status, "parcels", d)
}

func (s *Server) parcelsAdd(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	err := func() error {
		area, err := wholeNumber("area_m2", c.PostForm("area_m2"))
		if err != nil {
			return err
		}
		loc, err := formLocation(c.PostForm("latitude"), c.PostForm("longitude"), c.PostForm("polygon"))
		if err != nil {
			return err
		}
		_, err = s.deps.Traceability.AddParcel(c.Request.Context(), actorOf(c), c.Param("coop"), traceability.NewParcel{
			Name: c.PostForm("name"), Member: c.PostForm("member"), Commune: c.PostForm("commune"),
			AreaM2: area, Crop: c.PostForm("crop"), Location: loc,
		})
		return err
	}()
	s.afterRecordForm(c, err, "parcel", coopPath(c.Param("coop"), "parcels"), "", s.showParcels)
}

// ---- Harvests ------------------------------------------------------------

type harvestRow struct {
	traceability.Harvest
	ParcelName string
	MemberName string
	Amount     string
}

type harvestsView struct {
	coopRecords
	Harvests  []harvestRow
	Pager     pager
	Parcels   []traceability.Parcel
	Members   []traceability.Member
	Crops     []string
	Header    string
	RowErrors []traceability.RowError
	Today     string
}

// harvestRows joins harvests with their parcels' and members' names.
func harvestRows(hs []traceability.Harvest, parcels map[string]traceability.Parcel, members map[string]traceability.Member) []harvestRow {
	out := make([]harvestRow, 0, len(hs))
	for _, h := range hs {
		out = append(out, harvestRow{Harvest: h, ParcelName: parcels[h.Parcel].Name, MemberName: members[h.Member].Name,
			Amount: traceability.FormatQuantity(h.Quantity, h.Unit)})
	}
	return out
}

// parcelsByID reads a cooperative's parcels for selects and joins.
func (s *Server) parcelsByID(ctx context.Context, actor access.Actor, coop string) ([]traceability.Parcel, map[string]traceability.Parcel, error) {
	ps, err := collect(selectLimit, func(p traceability.Page) ([]traceability.Parcel, error) {
		return s.deps.Traceability.Parcels(ctx, actor, coop, p)
	})
	byID := make(map[string]traceability.Parcel, len(ps))
	for _, p := range ps {
		byID[p.ID] = p
	}
	return ps, byID, err
}

func (s *Server) harvestsPage(c *gin.Context) { s.showHarvests(c, nil, "") }

func (s *Server) showHarvests(c *gin.Context, formErr error, which string) {
	ctx, actor := c.Request.Context(), actorOf(c)
	top, err := s.coopRecords(c, "harvests")
	if err != nil {
		s.pageFail(c, err)
		return
	}
	code := top.Cooperative.Code
	members, memberByID, err := s.membersByID(ctx, actor, code)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	parcels, parcelByID, err := s.parcelsByID(ctx, actor, code)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	p, pg := pageWindow(c, "ho")
	hs, err := s.deps.Traceability.Harvests(ctx, actor, code, p)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &harvestsView{coopRecords: top, Harvests: harvestRows(trim(hs), parcelByID, memberByID), Pager: pg.finish(c, len(hs)),
		Parcels: parcels, Members: members, Crops: traceability.Crops,
		Header: strings.Join(traceability.HarvestCSVHeader, ","), Today: s.now().Format("2006-01-02")}
	if pe, ok := problem.As(formErr); ok {
		v.RowErrors, _ = pe.Details.([]traceability.RowError)
	}
	d := s.data(c, "harvests", v)
	d.Form["date"], d.Form["unit"] = v.Today, "kg"
	status, ok := s.keepForm(c, d, formErr, which)
	if !ok {
		return
	}
	s.render(c, status, "harvests", d)
}

func (s *Server) harvestsAdd(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	ctx, actor := c.Request.Context(), actorOf(c)
	err := func() error {
		amount, err := wholeNumber("quantity", c.PostForm("amount"))
		if err != nil {
			return err
		}
		nh := traceability.NewHarvest{Parcel: c.PostForm("parcel"), Member: c.PostForm("member"), Date: c.PostForm("date"),
			Crop: c.PostForm("crop"), Quantity: traceability.Quantity{Amount: amount, Unit: c.PostForm("unit")}}
		// Member and crop default to the parcel's: fewer choices on a phone,
		// and fewer mismatches for the service to refuse.
		if (nh.Member == "" || nh.Crop == "") && nh.Parcel != "" {
			p, err := s.deps.Traceability.Parcel(ctx, actor, c.Param("coop"), nh.Parcel)
			if problem.CodeOf(err) == problem.NotFound {
				return &problem.Error{Code: problem.NotFound, Field: "parcel", Message: fmt.Sprintf("%q is not a parcel of this cooperative", nh.Parcel)}
			} else if err != nil {
				return err
			}
			nh.Member = cmpOr(nh.Member, p.Member)
			nh.Crop = cmpOr(nh.Crop, p.Crop)
		}
		_, err = s.deps.Traceability.AddHarvest(ctx, actor, c.Param("coop"), nh)
		return err
	}()
	s.afterRecordForm(c, err, "harvest", coopPath(c.Param("coop"), "harvests"), "", s.showHarvests)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// harvestsImport takes a CSV file (multipart upload) or pasted lines. On a
// refusal the file's text is put in the textarea, so the manager can
// correct the rows listed without finding the file again.
func (s *Server) harvestsImport(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	n, err := func() (int, error) {
		text := c.PostForm("csv")
		if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
			f, err := fh.Open()
			if err != nil {
				return 0, err
			}
			defer f.Close()
			b, err := io.ReadAll(f)
			if err != nil {
				return 0, err
			}
			text = string(b)
			c.Request.PostForm.Set("csv", text)
		}
		if strings.TrimSpace(text) == "" {
			return 0, problem.Field("file", "choose a CSV file or paste its lines")
		}
		return s.deps.Traceability.ImportHarvests(c.Request.Context(), actorOf(c), c.Param("coop"), strings.NewReader(text))
	}()
	flash := fmt.Sprintf(messages[langOf(c)]["harvests_imported"], n)
	s.afterRecordForm(c, err, "import", coopPath(c.Param("coop"), "harvests"), flash, s.showHarvests)
}

// managesCoop refuses a cooperative's record forms to whoever may not write
// its records, before the form is read: an auditor gets 403, not a
// validation error about a form they may not send.
func (s *Server) managesCoop(c *gin.Context) {
	if err := actorOf(c).ManageCoop(traceability.NormalizeCode(c.Param("coop"))); err != nil {
		s.pageFail(c, err)
		c.Abort()
		return
	}
	c.Next()
}
