package web

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
)

// The transformation form has a fixed number of rows: no script is needed
// to add one, and more inputs are rare enough for a second transformation.
const (
	transformInputRows  = 3
	transformOutputRows = 2
)

// formRow is one input or output row of the transformation form.
type formRow struct {
	Number            int    // 1-based, as people count rows
	Name              string // form field prefix: in0, out1…
	Lot, Kind         string
	Amount, Unit      string
	BadLot, BadAmount bool
}

type productOption struct {
	SKU, Label string
}

type lotsView struct {
	coopRecords
	Lots         []lotSummary
	Pager        pager
	FreeHarvests []harvestRow
	Checked      map[string]bool
	SourceLots   []lotSummary // lots a transformation or packing may take from
	Processes    []string
	Kinds        []string
	Units        []string
	Inputs       []formRow
	Outputs      []formRow
	Products     []productOption
}

// freeHarvests are the cooperative's harvests in no lot yet. The store
// cannot filter on a missing field cheaply (FerretDB pushes down only _id),
// so the filter is in Go, over at most selectLimit harvests.
func (s *Server) freeHarvests(ctx context.Context, actor access.Actor, coop string) ([]traceability.Harvest, error) {
	hs, err := collect(selectLimit, func(p traceability.Page) ([]traceability.Harvest, error) {
		return s.deps.Traceability.Harvests(ctx, actor, coop, p)
	})
	if err != nil {
		return nil, err
	}
	out := hs[:0]
	for _, h := range hs {
		if h.Lot == "" {
			out = append(out, h)
		}
	}
	return out, nil
}

func (s *Server) lotsPage(c *gin.Context) { s.showLots(c, nil, "") }

func (s *Server) showLots(c *gin.Context, formErr error, which string) {
	ctx, actor := c.Request.Context(), actorOf(c)
	top, err := s.coopRecords(c, "lots")
	if err != nil {
		s.pageFail(c, err)
		return
	}
	code := top.Cooperative.Code
	p, pg := pageWindow(c, "lo")
	lots, err := s.deps.Traceability.Lots(ctx, actor, code, p)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &lotsView{coopRecords: top, Pager: pg.finish(c, len(lots)), Checked: map[string]bool{},
		Processes: traceability.Processes, Kinds: traceability.ProductKinds(), Units: []string{"g", "kg", "ml", "l", "mg", "pcs"}}
	for _, l := range trim(lots) {
		v.Lots = append(v.Lots, summarize(l))
	}
	if top.CanManage {
		if err := s.lotForms(c, v); err != nil {
			s.pageFail(c, err)
			return
		}
	}
	d := s.data(c, "lots", v)
	status, ok := s.keepForm(c, d, formErr, which)
	if !ok {
		return
	}
	if which == "lot" {
		for _, h := range c.Request.PostForm["harvest"] {
			v.Checked[h] = true
		}
	}
	v.Inputs, v.Outputs = transformRows(d.Form, d.Form["invalid"])
	s.render(c, status, "lots", d)
}

// lotForms fills what the manager's forms offer: free harvests, lots with
// something available, and the cooperative's catalogue products.
func (s *Server) lotForms(c *gin.Context, v *lotsView) error {
	ctx, actor, code := c.Request.Context(), actorOf(c), v.Cooperative.Code
	free, err := s.freeHarvests(ctx, actor, code)
	if err != nil {
		return err
	}
	_, parcels, err := s.parcelsByID(ctx, actor, code)
	if err != nil {
		return err
	}
	_, members, err := s.membersByID(ctx, actor, code)
	if err != nil {
		return err
	}
	v.FreeHarvests = harvestRows(free, parcels, members)
	all, err := collect(selectLimit, func(p traceability.Page) ([]traceability.Lot, error) {
		return s.deps.Traceability.Lots(ctx, actor, code, p)
	})
	if err != nil {
		return err
	}
	for _, l := range all {
		if l.Source != traceability.SourcePacking && l.Available > 0 {
			v.SourceLots = append(v.SourceLots, summarize(l))
		}
	}
	products, err := collect(selectLimit, func(p traceability.Page) ([]catalog.Product, error) {
		return s.deps.Catalog.Products(ctx, p)
	})
	if err != nil {
		return err
	}
	lang := langOf(c)
	for _, p := range products {
		if p.Cooperative == code {
			v.Products = append(v.Products, productOption{SKU: p.SKU,
				Label: p.Names.In(lang) + " · " + traceability.FormatQuantity(p.UnitSize, p.UnitSizeUnit)})
		}
	}
	return nil
}

// transformRows rebuilds the transformation form's rows from the kept values,
// marking the row the service refused (its field names the row's index).
func transformRows(form map[string]string, invalid string) (ins, outs []formRow) {
	for i := range transformInputRows {
		name := fmt.Sprintf("in%d", i)
		f := fmt.Sprintf("inputs[%d]", i)
		ins = append(ins, formRow{Number: i + 1, Name: name, Lot: form[name+"_lot"], Amount: form[name+"_amount"], Unit: cmpOr(form[name+"_unit"], "kg"),
			BadLot: invalid == f+".lot", BadAmount: invalid == f+".quantity"})
	}
	for i := range transformOutputRows {
		name := fmt.Sprintf("out%d", i)
		f := fmt.Sprintf("outputs[%d]", i)
		outs = append(outs, formRow{Number: i + 1, Name: name, Kind: form[name+"_kind"], Amount: form[name+"_amount"], Unit: cmpOr(form[name+"_unit"], "kg"),
			BadLot: invalid == f+".product_kind", BadAmount: invalid == f+".quantity"})
	}
	return ins, outs
}

func lotPath(code string) string { return "/lots/" + url.PathEscape(code) }

func (s *Server) lotsCreate(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	ctx, actor := c.Request.Context(), actorOf(c)
	var lot traceability.Lot
	err := func() error {
		ids := c.PostFormArray("harvest")
		if len(ids) == 0 {
			return problem.Field("harvests", "tick at least one harvest")
		}
		// The lot's kind is its harvests' crop; a mixed choice is refused
		// by the service, naming the harvest that differs.
		free, err := s.freeHarvests(ctx, actor, c.Param("coop"))
		if err != nil {
			return err
		}
		kind := ""
		for _, h := range free {
			if h.ID == ids[0] {
				kind = h.Crop
			}
		}
		if kind == "" {
			return problem.New(problem.Conflict, "harvest %s is no longer free: it is in a lot already, or not of this cooperative", ids[0])
		}
		lot, err = s.deps.Traceability.CreateOriginLot(ctx, actor, c.Param("coop"), traceability.NewOriginLot{ProductKind: kind, Harvests: ids})
		return err
	}()
	s.afterRecordForm(c, err, "lot", lotPath(lot.Code), "", s.showLots)
}

func (s *Server) lotsTransform(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	var made []traceability.Lot
	err := func() error {
		t := traceability.NewTransformation{Process: c.PostForm("process"), Note: c.PostForm("note")}
		// Blank rows are skipped, but the indexes of the service's field
		// errors must still point at the rows as shown: keep a map.
		var inRow, outRow []int
		for i := range transformInputRows {
			p := fmt.Sprintf("in%d_", i)
			if c.PostForm(p+"lot") == "" && strings.TrimSpace(c.PostForm(p+"amount")) == "" {
				continue
			}
			amount, err := wholeNumber(fmt.Sprintf("inputs[%d].quantity", i), c.PostForm(p+"amount"))
			if err != nil {
				return err
			}
			t.Inputs = append(t.Inputs, traceability.LotInput{Lot: c.PostForm(p + "lot"), Quantity: traceability.Quantity{Amount: amount, Unit: c.PostForm(p + "unit")}})
			inRow = append(inRow, i)
		}
		for i := range transformOutputRows {
			p := fmt.Sprintf("out%d_", i)
			if c.PostForm(p+"kind") == "" && strings.TrimSpace(c.PostForm(p+"amount")) == "" {
				continue
			}
			amount, err := wholeNumber(fmt.Sprintf("outputs[%d].quantity", i), c.PostForm(p+"amount"))
			if err != nil {
				return err
			}
			t.Outputs = append(t.Outputs, traceability.LotOutput{ProductKind: c.PostForm(p + "kind"), Quantity: traceability.Quantity{Amount: amount, Unit: c.PostForm(p + "unit")}})
			outRow = append(outRow, i)
		}
		var err error
		made, err = s.deps.Traceability.Transform(c.Request.Context(), actorOf(c), c.Param("coop"), t)
		return rowIndexed(err, "inputs", inRow, "outputs", outRow)
	}()
	next := coopPath(c.Param("coop"), "lots")
	if len(made) > 0 {
		next = lotPath(made[0].Code)
	}
	s.afterRecordForm(c, err, "transform", next, "", s.showLots)
}

// rowIndexed renames "inputs[1].lot" to the form row it came from, when
// blank rows before it were skipped.
func rowIndexed(err error, prefixes ...any) error {
	pe, ok := problem.As(err)
	if !ok || pe.Field == "" {
		return err
	}
	for i := 0; i+1 < len(prefixes); i += 2 {
		prefix, rows := prefixes[i].(string), prefixes[i+1].([]int)
		for k, row := range rows {
			old := fmt.Sprintf("%s[%d]", prefix, k)
			if strings.HasPrefix(pe.Field, old) && k != row {
				c := *pe
				c.Field = fmt.Sprintf("%s[%d]", prefix, row) + strings.TrimPrefix(pe.Field, old)
				return &c
			}
		}
	}
	return err
}

func (s *Server) lotsPack(c *gin.Context) {
	if !s.checkCSRF(c) {
		return
	}
	var packed traceability.Lot
	err := func() error {
		units, err := wholeNumber("units", c.PostForm("units"))
		if err != nil {
			return err
		}
		p, err := s.packedProduct(c.Request.Context(), c.PostForm("sku"))
		if err != nil {
			return err
		}
		packed, err = s.deps.Traceability.Pack(c.Request.Context(), actorOf(c), c.Param("coop"), traceability.NewPacking{
			Lot: c.PostForm("lot"), Units: units, BestBefore: c.PostForm("best_before"), Product: p.Packed(),
			Serials: c.PostForm("serials") == "on",
		})
		return err
	}()
	s.afterRecordForm(c, err, "pack", lotPath(packed.Code), "", s.showLots)
}

// packedProduct reads the product to pack, as the API's createPacking does:
// an unknown SKU is a mistake in the form's sku field.
func (s *Server) packedProduct(ctx context.Context, sku string) (catalog.Product, error) {
	if strings.TrimSpace(sku) == "" {
		return catalog.Product{}, problem.Field("sku", "is required")
	}
	p, err := s.deps.Catalog.Product(ctx, sku)
	if problem.CodeOf(err) == problem.NotFound {
		err = problem.Field("sku", "no product %s in the catalogue", sku)
	}
	return p, err
}

// ---- One lot -------------------------------------------------------------

type eventRow struct {
	traceability.Event
	Amount string
	Short  string
}

type refRow struct {
	Lot, Amount string
}

type originRow struct {
	traceability.OriginLine
	Amount string
}

type lotPageView struct {
	Lot         lotView
	Origin      []originRow
	Cooperative traceability.Cooperative
	Quantity    string
	Available   string
	UnitSize    string
	Inputs      []refRow
	Outputs     []refRow
	Events      []eventRow
	CanManage   bool
	CanAudit    bool
}

func refRows(refs []traceability.EventRef) []refRow {
	out := make([]refRow, 0, len(refs))
	for _, r := range refs {
		out = append(out, refRow{Lot: r.Lot, Amount: traceability.FormatQuantity(r.Quantity, r.Unit)})
	}
	return out
}

func (s *Server) lotPage(c *gin.Context) { s.showLot(c, nil, "") }

func (s *Server) showLot(c *gin.Context, formErr error, which string) {
	ctx, actor := c.Request.Context(), actorOf(c)
	l, err := s.deps.Traceability.Lot(ctx, actor, c.Param("code"))
	if err != nil {
		s.pageFail(c, err)
		return
	}
	lv, err := s.lotView(c, l)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	coop, err := s.deps.Traceability.CooperativeName(ctx, l.Cooperative)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &lotPageView{Lot: lv, Cooperative: coop, Quantity: lv.Quantity.Display(), Available: lv.Available.Display(),
		Inputs: refRows(l.Inputs), Outputs: refRows(l.Outputs),
		CanManage: actor.ManageCoop(l.Cooperative) == nil, CanAudit: actor.ReadCoop(l.Cooperative) == nil}
	if lv.UnitSize != nil {
		v.UnitSize = lv.UnitSize.Display()
	}
	for _, o := range l.Origin {
		v.Origin = append(v.Origin, originRow{OriginLine: o, Amount: traceability.FormatQuantity(o.Quantity, traceability.Milligram)})
	}
	for _, e := range l.Events {
		v.Events = append(v.Events, eventRow{Event: e, Amount: traceability.FormatQuantity(e.Quantity, e.Unit), Short: e.Hash[:min(12, len(e.Hash))]})
	}
	d := s.data(c, "lot", v)
	status, ok := s.keepForm(c, d, formErr, which)
	if !ok {
		return
	}
	s.render(c, status, "lot", d)
}

func (s *Server) lotJustify(c *gin.Context) {
	if l, err := s.deps.Traceability.PublicLot(c.Request.Context(), c.Param("code")); err == nil {
		if err := actorOf(c).ManageCoop(l.Cooperative); err != nil {
			s.pageFail(c, err)
			return
		}
	}
	if !s.checkCSRF(c) {
		return
	}
	_, err := s.deps.Traceability.JustifyFlag(c.Request.Context(), actorOf(c), c.Param("code"), c.Param("flag"), c.PostForm("justification"))
	if errors.Is(err, traceability.ErrFlagNotFound) {
		err = problem.Field("justification", "this flag is not on the lot any more; reload the page")
	}
	s.afterRecordForm(c, err, c.Param("flag"), lotPath(traceability.NormalizeLotCode(c.Param("code"))), "", s.showLot)
}
