package backoffice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

// coopTop is what every page of a cooperative's records shows at the top:
// its name and the records' navigation.
type coopTop struct {
	Cooperative traceability.Cooperative
	CanManage   bool
	Sections    page.SubNav
}

// Sections of a cooperative's records, in the navigation's order.
const (
	secMembers    = "members"
	secParcels    = "parcels"
	secHarvests   = "harvests"
	secLots       = "lots"
	secHoldings   = "holdings"
	secStatements = "statements"
	secPay        = "pay"
	secAudit      = "audit"
)

// recordsNav is the records' navigation, defined once for every page.
func recordsNav(l *i18n.Locale, coop, current string) page.SubNav {
	base := "/coop/" + esc(coop)
	links := []struct{ section, url, label string }{
		{secMembers, base, l.T("members")},
		{secParcels, base + "/parcels", l.T("parcels")},
		{secHarvests, base + "/harvests", l.T("harvests")},
		{secLots, base + "/lots", l.T("lots")},
		{secHoldings, base + "/holdings", l.T("sh_holdings")},
		{secStatements, base + "/statements", l.T("stm_title")},
		{secPay, base + "/pay", l.T("pay_title")},
		{secConsignments, base + "/consignments", l.T("consignments")},
		{secAudit, "/audit/" + esc(coop), l.T("audit")},
	}
	nav := page.SubNav{Label: l.T("records")}
	for _, x := range links {
		nav.Links = append(nav.Links, page.NavLink{URL: x.url, Label: x.label, Current: x.section == current})
	}
	return nav
}

func (h *Handlers) coopTop(c *gin.Context, section string) (coopTop, error) {
	actor := page.Actor(c)
	coop, err := h.d.Cooperatives.Cooperative(c.Request.Context(), actor, c.Param("coop"))
	if err != nil {
		return coopTop{}, err
	}
	top := coopTop{Cooperative: coop, CanManage: actor.ManageCoop(coop.Code) == nil,
		Sections: recordsNav(page.Locale(c), coop.Code, section)}
	if top.CanManage { // the register import (issue 19), for who may write
		top.Sections.Links = append(top.Sections.Links, page.NavLink{URL: "/coop/" + esc(coop.Code) + "/import",
			Label: page.Locale(c).T("imp_nav"), Current: section == secImport})
	}
	return top, nil
}

func coopPath(coop, section string) string {
	return "/coop/" + esc(id.NormalizeCode(coop)) + "/" + section
}

// ManagesCoop refuses a cooperative's record forms to whoever may not write
// its records, before the form is read: an auditor gets 403, not a
// validation error about a form they may not send.
func (h *Handlers) ManagesCoop(c *gin.Context) {
	if err := page.Actor(c).ManageCoop(id.NormalizeCode(c.Param("coop"))); err != nil {
		page.Fail(c, err)
		return
	}
	c.Next()
}

// membersByID reads a cooperative's members for selects and joins.
func (h *Handlers) membersByID(ctx context.Context, actor access.Actor, coop string) ([]traceability.Member, map[string]traceability.Member, error) {
	ms, err := collect(selectLimit, func(p mongodb.Page) ([]traceability.Member, error) {
		return h.d.Cooperatives.Members(ctx, actor, coop, p)
	})
	byID := make(map[string]traceability.Member, len(ms))
	for _, m := range ms {
		byID[m.ID] = m
	}
	return ms, byID, err
}

// parcelsByID reads a cooperative's parcels for selects and joins.
func (h *Handlers) parcelsByID(ctx context.Context, actor access.Actor, coop string) ([]traceability.Parcel, map[string]traceability.Parcel, error) {
	ps, err := collect(selectLimit, func(p mongodb.Page) ([]traceability.Parcel, error) {
		return h.d.Records.Parcels(ctx, actor, coop, p)
	})
	byID := make(map[string]traceability.Parcel, len(ps))
	for _, p := range ps {
		byID[p.ID] = p
	}
	return ps, byID, err
}

// option is a choice of a select, named in the page's language.
type option struct{ Value, Label string }

func kindOptions(l *i18n.Locale, kinds []string) []option {
	out := make([]option, len(kinds))
	for i, k := range kinds {
		out[i] = option{k, l.Kind(k)}
	}
	return out
}

// ---- Members ------------------------------------------------------------

type memberRow struct {
	traceability.Member
	Gender string
}

type membersView struct {
	page.Page
	coopTop
	Members []memberRow
	Pager   page.Pager
}

// MembersPage answers GET /coop/{coop}: the cooperative and its members.
func (h *Handlers) MembersPage(c *gin.Context) { h.showMembers(c, nil, "") }

func (h *Handlers) showMembers(c *gin.Context, formErr error, which string) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	top, err := h.coopTop(c, secMembers)
	if err != nil {
		page.Fail(c, err)
		return
	}
	p, pg := page.Window(c, "mo")
	members, err := h.d.Cooperatives.Members(ctx, actor, top.Cooperative.Code, p)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &membersView{Page: h.d.Pages.Page(c, l.T("my_cooperative")), coopTop: top, Pager: pg.Finish(c, len(members))}
	for _, m := range page.Trim(members) {
		g := l.T("male")
		if m.Gender == "female" {
			g = l.T("female")
		}
		v.Members = append(v.Members, memberRow{Member: m, Gender: g})
	}
	h.render(c, &v.Page, formErr, which, "backoffice/members", v)
}

// AddMember answers POST /coop/{coop}/members.
func (h *Handlers) AddMember(c *gin.Context) {
	coop := id.NormalizeCode(c.Param("coop"))
	_, err := h.d.Cooperatives.AddMember(c.Request.Context(), page.Actor(c), coop, traceability.Member{
		Name: c.PostForm("name"), Gender: c.PostForm("gender"), Village: c.PostForm("village"),
	})
	h.done(c, err, "member", "/coop/"+esc(coop), "saved", h.showMembers)
}

// ---- Parcels -------------------------------------------------------------

type parcelRow struct {
	traceability.Parcel
	MemberName string
	CropName   string
}

type parcelsView struct {
	page.Page
	coopTop
	Parcels []parcelRow
	Pager   page.Pager
	Members []traceability.Member
	Crops   []option
}

// ParcelsPage answers GET /coop/{coop}/parcels.
func (h *Handlers) ParcelsPage(c *gin.Context) { h.showParcels(c, nil, "") }

func (h *Handlers) showParcels(c *gin.Context, formErr error, which string) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	top, err := h.coopTop(c, secParcels)
	if err != nil {
		page.Fail(c, err)
		return
	}
	members, byID, err := h.membersByID(ctx, actor, top.Cooperative.Code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	p, pg := page.Window(c, "po")
	parcels, err := h.d.Records.Parcels(ctx, actor, top.Cooperative.Code, p)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &parcelsView{Page: h.d.Pages.Page(c, l.T("parcels")), coopTop: top, Pager: pg.Finish(c, len(parcels)), Members: members,
		Crops: kindOptions(l, traceability.Crops)}
	for _, p := range page.Trim(parcels) {
		v.Parcels = append(v.Parcels, parcelRow{Parcel: p, MemberName: byID[p.Member].Name, CropName: l.Kind(p.Crop)})
	}
	v.Form.Set("commune", top.Cooperative.Commune)
	h.render(c, &v.Page, formErr, which, "backoffice/parcels", v)
}

// AddParcel answers POST /coop/{coop}/parcels.
func (h *Handlers) AddParcel(c *gin.Context) {
	err := func() error {
		area, err := page.WholeNumber("area_m2", c.PostForm("area_m2"))
		if err != nil {
			return err
		}
		loc, err := formLocation(c.PostForm("latitude"), c.PostForm("longitude"), c.PostForm("polygon"))
		if err != nil {
			return err
		}
		_, err = h.d.Records.AddParcel(c.Request.Context(), page.Actor(c), c.Param("coop"), traceability.NewParcel{
			Name: c.PostForm("name"), Member: c.PostForm("member"), Commune: c.PostForm("commune"),
			AreaM2: area, Crop: c.PostForm("crop"), Location: loc,
		})
		return err
	}()
	h.done(c, err, "parcel", coopPath(c.Param("coop"), "parcels"), "saved", h.showParcels)
}

// decimalDegrees reads a latitude or longitude, with a decimal point or the
// French decimal comma.
func decimalDegrees(v string) (float64, bool) {
	v = strings.ReplaceAll(page.DigitsASCII(v), ",", ".")
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
			return traceability.Geometry{}, problem.Field("polygon", "is not valid GeoJSON")
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

// ---- Harvests ------------------------------------------------------------

type harvestRow struct {
	traceability.Harvest
	ParcelName  string
	MemberName  string
	CropName    string
	Amount      string
	Corrections []correctionLine
	FlagText    string // the plausibility finding in the page's language
}

// correctionLine is an entry of a harvest's correction history, written
// for people.
type correctionLine struct {
	From, To, Reason, By, At string
}

// rowError is a refused row of an import, said in the page's language.
type rowError struct {
	Row            int
	Field, Message string
}

type parcelOption struct {
	ID, Label string
}

type harvestsView struct {
	page.Page
	coopTop
	Harvests  []harvestRow
	Pager     page.Pager
	Parcels   []parcelOption
	Members   []traceability.Member
	Crops     []option
	Header    string
	RowErrors []rowError
	Today     string
	// Correcting is the harvest the correction form opens on (?correct=).
	Correcting string
}

// harvestRows joins harvests with their parcels' and members' names.
func harvestRows(l *i18n.Locale, hs []traceability.Harvest, parcels map[string]traceability.Parcel, members map[string]traceability.Member) []harvestRow {
	out := make([]harvestRow, 0, len(hs))
	for _, h := range hs {
		r := harvestRow{Harvest: h, ParcelName: parcels[h.Parcel].Name, MemberName: members[h.Member].Name,
			CropName: l.Kind(h.Crop), Amount: l.Quantity(h.Quantity, h.Unit)}
		if h.Flag != "" {
			r.FlagText = l.T("flag_harvest_season", l.Kind(h.Crop), l.Number(parcels[h.Parcel].AreaM2))
		}
		for _, c := range h.Corrections {
			r.Corrections = append(r.Corrections, correctionLine{From: l.Quantity(c.From, h.Unit), To: l.Quantity(c.To, h.Unit),
				Reason: c.Reason, By: c.By, At: dateOf(c.At)})
		}
		out = append(out, r)
	}
	return out
}

// HarvestsPage answers GET /coop/{coop}/harvests.
func (h *Handlers) HarvestsPage(c *gin.Context) { h.showHarvests(c, nil, "") }

func (h *Handlers) showHarvests(c *gin.Context, formErr error, which string) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	top, err := h.coopTop(c, secHarvests)
	if err != nil {
		page.Fail(c, err)
		return
	}
	code := top.Cooperative.Code
	members, memberByID, err := h.membersByID(ctx, actor, code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	parcels, parcelByID, err := h.parcelsByID(ctx, actor, code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	p, pg := page.Window(c, "ho")
	hs, err := h.d.Records.Harvests(ctx, actor, code, p)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &harvestsView{Page: h.d.Pages.Page(c, l.T("harvests")), coopTop: top, Harvests: harvestRows(l, page.Trim(hs), parcelByID, memberByID),
		Pager: pg.Finish(c, len(hs)), Members: members, Crops: kindOptions(l, traceability.Crops),
		Header: strings.Join(traceability.HarvestCSVHeader, ","), Today: h.d.Now().Format("2006-01-02")}
	for _, p := range parcels {
		v.Parcels = append(v.Parcels, parcelOption{ID: p.ID, Label: p.Name + " · " + l.Kind(p.Crop)})
	}
	if pe, ok := problem.As(formErr); ok {
		rows, _ := pe.Details.([]traceability.RowError)
		for _, r := range rows {
			re := rowError{Row: r.Row, Field: r.Field, Message: r.Message}
			if r.Problem != nil {
				re.Message = l.T(r.Problem.MessageKey(), r.Problem.Args...)
			}
			v.RowErrors = append(v.RowErrors, re)
		}
	}
	v.Form.Set("date", v.Today)
	v.Form.Set("unit", "kg")
	if formErr == nil {
		v.Correcting = c.Query("correct")
		v.Form.Set("harvest", v.Correcting)
	}
	h.render(c, &v.Page, formErr, which, "backoffice/harvests", v)
}

// CorrectHarvest answers POST /coop/{coop}/harvests/corrections: a
// harvest's true quantity with a reason; its lot follows by a corrected
// event.
func (h *Handlers) CorrectHarvest(c *gin.Context) {
	err := func() error {
		if strings.TrimSpace(c.PostForm("harvest")) == "" {
			return problem.Field("harvest", "is required")
		}
		q, reason, err := correctionOf(c)
		if err != nil {
			return err
		}
		_, err = h.d.Records.CorrectHarvest(c.Request.Context(), page.Actor(c), c.Param("coop"), c.PostForm("harvest"), q, reason)
		if errors.Is(err, traceability.ErrHarvestNotFound) {
			err = problem.Field("harvest", "is not a harvest of this cooperative; reload the page")
		}
		return err
	}()
	h.done(c, err, "correct", coopPath(c.Param("coop"), "harvests"), "correction_saved", h.showHarvests)
}

// AddHarvest answers POST /coop/{coop}/harvests.
func (h *Handlers) AddHarvest(c *gin.Context) {
	ctx, actor := c.Request.Context(), page.Actor(c)
	err := func() error {
		amount, err := page.WholeNumber("quantity", c.PostForm("amount"))
		if err != nil {
			return err
		}
		nh := traceability.NewHarvest{Parcel: c.PostForm("parcel"), Member: c.PostForm("member"), Date: c.PostForm("date"),
			Crop: c.PostForm("crop"), Quantity: traceability.Quantity{Amount: amount, Unit: c.PostForm("unit")}}
		// An advance paid at delivery (issue 17), typed in whole units of
		// the cooperative's currency; the service checks it.
		if v := strings.TrimSpace(c.PostForm("advance")); v != "" {
			units, err := page.WholeNumber("advance.amount", v)
			if err != nil {
				return err
			}
			coop, err := h.d.Cooperatives.Cooperative(ctx, actor, c.Param("coop"))
			if err != nil {
				return err
			}
			if units < 0 || units > 10_000_000 {
				units = -1 // out of range: the service refuses it, naming advance.amount
			}
			nh.Advance = &traceability.HarvestAdvance{Amount: units * 100, Currency: coop.Currency(), Method: c.PostForm("advance_method")}
		}
		// Member and crop default to the parcel's: fewer choices on a phone,
		// and fewer mismatches for the service to refuse.
		if (nh.Member == "" || nh.Crop == "") && nh.Parcel != "" {
			p, err := h.d.Records.Parcel(ctx, actor, c.Param("coop"), nh.Parcel)
			if problem.CodeOf(err) == problem.NotFound {
				return problem.New(problem.NotFound, "%q is not a parcel of this cooperative", nh.Parcel).At("parcel")
			} else if err != nil {
				return err
			}
			nh.Member = cmpOr(nh.Member, p.Member)
			nh.Crop = cmpOr(nh.Crop, p.Crop)
		}
		_, err = h.d.Records.AddHarvest(ctx, actor, c.Param("coop"), nh)
		return err
	}()
	h.done(c, err, "harvest", coopPath(c.Param("coop"), "harvests"), "saved", h.showHarvests)
}

// ImportHarvests answers POST /coop/{coop}/harvests/import: a CSV file
// (multipart upload) or pasted lines. On a refusal the file's text is put
// in the textarea, so the manager can correct the rows listed without
// finding the file again.
func (h *Handlers) ImportHarvests(c *gin.Context) {
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
		return h.d.Records.ImportHarvests(c.Request.Context(), page.Actor(c), c.Param("coop"), strings.NewReader(text))
	}()
	h.done(c, err, "import", coopPath(c.Param("coop"), "harvests"), "harvests_imported", h.showHarvests, int64(n))
}

// seasonOf reads ?season= (a year; the season from 1 September), or the
// current season.
func seasonOf(c *gin.Context, current int) (int, error) {
	if v := c.Query("season"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < 2000 || y > 2100 {
			return 0, problem.Field("season", "must be a year such as 2026 (the season from 1 September)")
		}
		return y, nil
	}
	return current, nil
}

func seasonLabel(y int) string { return fmt.Sprintf("%d–%d", y, y+1) }
