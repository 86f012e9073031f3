package backoffice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
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

// lotRow is a lot in a list or a select.
type lotRow struct {
	Code, Kind, KindName, Source, SKU, BestBefore string
	Quantity, Available                           string
	OpenFlags                                     int
	Created                                       string
}

func rowOf(l *i18n.Locale, lot traceability.Lot) lotRow {
	return lotRow{Code: lot.Code, Kind: lot.ProductKind, KindName: l.Kind(lot.ProductKind), Source: l.Term("source", lot.Source), SKU: lot.SKU,
		BestBefore: lot.BestBefore, Quantity: l.Quantity(lot.CurrentQuantity(), lot.Unit),
		Available: l.Quantity(lot.Available, lot.Unit), OpenFlags: lot.OpenFlags(), Created: lot.CreatedAt.Format("2006-01-02")}
}

type lotsView struct {
	page.Page
	coopTop
	Lots         []lotRow
	Pager        page.Pager
	FreeHarvests []harvestRow
	Checked      map[string]bool
	SourceLots   []lotRow // lots a transformation or packing may take from
	Processes    []option
	Kinds        []option
	Units        []string
	Inputs       []formRow
	Outputs      []formRow
	Products     []option
	// The transformation form is in two steps, without a script: first the
	// input lot and the process (a GET form), then the form offering only
	// what that process makes from that lot's kind (the process graph).
	Step transformStep
}

// transformStep is the transformation form's chosen input and process.
type transformStep struct {
	Chosen      bool     // a lot and a process are chosen, and the process takes the lot's kind
	Lot         lotRow   // the chosen input lot
	Process     option   // the chosen process
	InputLots   []lotRow // lots of the chosen lot's kind: the inputs of one step are of one kind
	OutputKinds []option // what the process makes from that kind
	Refusal     string   // the process does not take the lot's kind, said in the page's language
	Options     []string // what the lot's kind can go through, each "process → kinds"
}

// freeHarvests are the cooperative's harvests in no lot yet. The store
// cannot filter on a missing field cheaply (FerretDB pushes down only _id),
// so the filter is in Go, over at most selectLimit harvests.
func (h *Handlers) freeHarvests(ctx context.Context, actor access.Actor, coop string) ([]traceability.Harvest, error) {
	hs, err := collect(selectLimit, func(p mongodb.Page) ([]traceability.Harvest, error) {
		return h.d.Records.Harvests(ctx, actor, coop, p)
	})
	if err != nil {
		return nil, err
	}
	out := hs[:0]
	for _, hv := range hs {
		if hv.Lot == "" {
			out = append(out, hv)
		}
	}
	return out, nil
}

// LotsPage answers GET /coop/{coop}/lots: the lots, and the forms that make
// them (from harvests, by transformation, by packing).
func (h *Handlers) LotsPage(c *gin.Context) { h.showLots(c, nil, "") }

func (h *Handlers) showLots(c *gin.Context, formErr error, which string) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	top, err := h.coopTop(c, secLots)
	if err != nil {
		page.Fail(c, err)
		return
	}
	code := top.Cooperative.Code
	p, pg := page.Window(c, "lo")
	lots, err := h.d.Records.Lots(ctx, actor, code, p)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &lotsView{Page: h.d.Pages.Page(c, l.T("lots")), coopTop: top, Pager: pg.Finish(c, len(lots)), Checked: map[string]bool{},
		Kinds: kindOptions(l, traceability.ProductKinds()), Units: []string{"g", "kg", "ml", "l", "mg", "pcs"}}
	for _, pr := range traceability.Processes {
		v.Processes = append(v.Processes, option{pr, l.Term("step", pr)})
	}
	for _, lot := range page.Trim(lots) {
		v.Lots = append(v.Lots, rowOf(l, lot))
	}
	if top.CanManage {
		if err := h.lotForms(c, v); err != nil {
			page.Fail(c, err)
			return
		}
	}
	status := http.StatusOK
	if formErr != nil {
		st, ok := page.Keep(c, &v.Page, formErr, which)
		if !ok {
			return
		}
		status = st
	}
	if which == "lot" {
		for _, hv := range c.Request.PostForm["harvest"] {
			v.Checked[hv] = true
		}
	}
	if formErr == nil {
		// The first step's GET form names the fields as the second's does.
		for _, k := range []string{"in0_lot", "process"} {
			v.Form.Set(k, c.Query(k))
		}
	}
	sources := v.SourceLots
	if code := v.Form.Get("in0_lot"); code != "" && !slices.ContainsFunc(sources, func(r lotRow) bool { return r.Code == code }) {
		// A refused form may name a lot used up since: still show it, so
		// the refusal is read next to what was typed.
		if lot, err := h.d.Records.Lot(ctx, actor, code); err == nil && lot.Cooperative == top.Cooperative.Code && lot.Source != traceability.SourcePacking {
			sources = append(slices.Clone(sources), rowOf(l, lot))
		}
	}
	v.Step = transformChoice(l, sources, v.Form.Get("in0_lot"), v.Form.Get("process"))
	v.Inputs, v.Outputs = transformRows(v.Form, v.Form.Invalid)
	h.d.Pages.Render(c, status, "backoffice/lots", v)
}

// lotForms fills what the manager's forms offer: free harvests, lots with
// something available, and the cooperative's catalogue products.
func (h *Handlers) lotForms(c *gin.Context, v *lotsView) error {
	ctx, actor, code, l := c.Request.Context(), page.Actor(c), v.Cooperative.Code, page.Locale(c)
	free, err := h.freeHarvests(ctx, actor, code)
	if err != nil {
		return err
	}
	_, parcels, err := h.parcelsByID(ctx, actor, code)
	if err != nil {
		return err
	}
	_, members, err := h.membersByID(ctx, actor, code)
	if err != nil {
		return err
	}
	v.FreeHarvests = harvestRows(l, free, parcels, members)
	all, err := collect(selectLimit, func(p mongodb.Page) ([]traceability.Lot, error) {
		return h.d.Records.Lots(ctx, actor, code, p)
	})
	if err != nil {
		return err
	}
	for _, lot := range all {
		if lot.Source != traceability.SourcePacking && lot.Available > 0 {
			v.SourceLots = append(v.SourceLots, rowOf(l, lot))
		}
	}
	products, err := collect(selectLimit, func(p mongodb.Page) ([]catalog.Product, error) {
		return h.d.Products.Products(ctx, p)
	})
	if err != nil {
		return err
	}
	for _, p := range products {
		if p.Cooperative == code {
			v.Products = append(v.Products, option{p.SKU, p.Names.In(l.Code()) + " · " + l.Quantity(p.UnitSize, p.UnitSizeUnit)})
		}
	}
	return nil
}

// transformChoice is the transformation form's step for the chosen lot
// and process: the outputs the process graph allows (TransformationOptions),
// or why the process does not take that lot.
func transformChoice(l *i18n.Locale, sources []lotRow, lotCode, process string) transformStep {
	var st transformStep
	found := false
	for _, r := range sources {
		if r.Code == lotCode {
			st.Lot, found = r, true
		}
	}
	if !found || process == "" {
		return st
	}
	st.Process = option{process, l.Term("step", process)}
	for _, r := range sources {
		if r.Kind == st.Lot.Kind {
			st.InputLots = append(st.InputLots, r)
		}
	}
	options := traceability.TransformationOptions(st.Lot.Kind)
	for _, o := range options {
		if o.Process == process {
			st.OutputKinds = kindOptions(l, o.Outputs)
		}
		st.Options = append(st.Options, l.T("transform_option", problem.Step(o.Process), problem.Kinds(o.Outputs)))
	}
	st.Chosen = len(st.OutputKinds) > 0
	if !st.Chosen {
		st.Refusal = l.T("transform_not_taken", problem.Step(process), problem.Kind(st.Lot.Kind))
	}
	return st
}

// transformRows rebuilds the transformation form's rows from the kept
// values, marking the row the service refused (its field names the row's
// index).
func transformRows(form page.Form, invalid string) (ins, outs []formRow) {
	for i := range transformInputRows {
		name := fmt.Sprintf("in%d", i)
		f := fmt.Sprintf("inputs[%d]", i)
		ins = append(ins, formRow{Number: i + 1, Name: name, Lot: form.Get(name + "_lot"), Amount: form.Get(name + "_amount"), Unit: cmpOr(form.Get(name+"_unit"), "kg"),
			BadLot: invalid == f+".lot", BadAmount: invalid == f+".quantity"})
	}
	for i := range transformOutputRows {
		name := fmt.Sprintf("out%d", i)
		f := fmt.Sprintf("outputs[%d]", i)
		outs = append(outs, formRow{Number: i + 1, Name: name, Kind: form.Get(name + "_kind"), Amount: form.Get(name + "_amount"), Unit: cmpOr(form.Get(name+"_unit"), "kg"),
			BadLot: invalid == f+".product_kind", BadAmount: invalid == f+".quantity"})
	}
	return ins, outs
}

func lotPath(code string) string { return "/lots/" + esc(code) }

// CreateLot answers POST /coop/{coop}/lots: a lot from ticked harvests.
func (h *Handlers) CreateLot(c *gin.Context) {
	ctx, actor := c.Request.Context(), page.Actor(c)
	var lot traceability.Lot
	err := func() error {
		ids := c.PostFormArray("harvest")
		if len(ids) == 0 {
			return problem.Field("harvests", "tick at least one harvest")
		}
		// The lot's kind is its harvests' crop; a mixed choice is refused
		// by the service, naming the harvest that differs.
		free, err := h.freeHarvests(ctx, actor, c.Param("coop"))
		if err != nil {
			return err
		}
		kind := ""
		for _, hv := range free {
			if hv.ID == ids[0] {
				kind = hv.Crop
			}
		}
		if kind == "" {
			return problem.New(problem.Conflict, "harvest %s is no longer free: it is in a lot already, or not of this cooperative", ids[0])
		}
		lot, err = h.d.Records.CreateOriginLot(ctx, actor, c.Param("coop"), traceability.NewOriginLot{ProductKind: kind, Harvests: ids})
		return err
	}()
	h.done(c, err, "lot", lotPath(lot.Code), "saved", h.showLots)
}

// Transform answers POST /coop/{coop}/transformations.
func (h *Handlers) Transform(c *gin.Context) {
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
			amount, err := page.WholeNumber(fmt.Sprintf("inputs[%d].quantity", i), c.PostForm(p+"amount"))
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
			amount, err := page.WholeNumber(fmt.Sprintf("outputs[%d].quantity", i), c.PostForm(p+"amount"))
			if err != nil {
				return err
			}
			t.Outputs = append(t.Outputs, traceability.LotOutput{ProductKind: c.PostForm(p + "kind"), Quantity: traceability.Quantity{Amount: amount, Unit: c.PostForm(p + "unit")}})
			outRow = append(outRow, i)
		}
		var err error
		made, err = h.d.Records.Transform(c.Request.Context(), page.Actor(c), c.Param("coop"), t)
		return rowIndexed(err, "inputs", inRow, "outputs", outRow)
	}()
	next := coopPath(c.Param("coop"), "lots")
	if len(made) > 0 {
		next = lotPath(made[0].Code)
	}
	h.done(c, err, "transform", next, "saved", h.showLots)
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
				return pe.At(fmt.Sprintf("%s[%d]", prefix, row) + strings.TrimPrefix(pe.Field, old))
			}
		}
	}
	return err
}

// Pack answers POST /coop/{coop}/packings.
func (h *Handlers) Pack(c *gin.Context) {
	var packed traceability.Lot
	err := func() error {
		units, err := page.WholeNumber("units", c.PostForm("units"))
		if err != nil {
			return err
		}
		p, err := h.packedProduct(c.Request.Context(), c.PostForm("sku"))
		if err != nil {
			return err
		}
		packed, err = h.d.Records.Pack(c.Request.Context(), page.Actor(c), c.Param("coop"), traceability.NewPacking{
			Lot: c.PostForm("lot"), Units: units, BestBefore: c.PostForm("best_before"), Product: p.Packed(),
			Serials: c.PostForm("serials") == "on",
		})
		return err
	}()
	h.done(c, err, "pack", lotPath(packed.Code), "saved", h.showLots)
}

// packedProduct reads the product to pack, as the API does: an unknown SKU
// is a mistake in the form's sku field.
func (h *Handlers) packedProduct(ctx context.Context, sku string) (catalog.Product, error) {
	if strings.TrimSpace(sku) == "" {
		return catalog.Product{}, problem.Field("sku", "is required")
	}
	p, err := h.d.Products.Product(ctx, sku)
	if problem.CodeOf(err) == problem.NotFound {
		err = problem.Field("sku", "no product %s in the catalogue", sku)
	}
	return p, err
}

// ---- One lot -------------------------------------------------------------

type eventRow struct {
	traceability.Event
	Label  string
	Amount string
	Short  string
	Note   string // what a person reads of the event's note (shadows Event.Note)
}

// eventNote is the part of an event's note a person reads, in the page's
// language: a step's name for a consumption ("drying" → "Séchage"), the
// reason of a change of members' shares without its coded list, nothing of
// a laboratory result's digest (the result has its own section); what a
// person wrote (a correction's reason, a justification) as it was written.
func eventNote(l *i18n.Locale, e traceability.Event) string {
	switch e.Type {
	case traceability.EventConsumed:
		if step := l.Term("step", e.Note); step != e.Note {
			return step
		}
	case traceability.EventTested:
		return ""
	case traceability.EventSharesChanged:
		why, _, _ := strings.Cut(e.Note, "; shares:")
		return why
	}
	return e.Note
}

type refRow struct {
	Lot, Amount string
}

type originRow struct {
	traceability.OriginLine
	Amount string
}

type claimRow struct {
	traceability.ClaimStatus
	Label string
}

type flagRow struct {
	traceability.Flag
	Which string // the form's name: the flag's ID
	Text  string // the finding in the page's language (flagText)
}

// flagText is a flag's finding as the page's reader reads it: a harvest
// flag names the harvest's day, parcel and quantity in the language; other
// flags keep the reason they were raised with.
func flagText(l *i18n.Locale, f traceability.Flag) string {
	h := f.Harvest
	if h == nil {
		return f.Reason
	}
	return l.T("flag_harvest", h.Date, h.ParcelName, l.Quantity(h.Quantity, traceability.Milligram), l.Number(h.AreaM2), l.Kind(h.Crop))
}

func flagRows(l *i18n.Locale, flags []traceability.Flag) []flagRow {
	out := make([]flagRow, 0, len(flags))
	for _, f := range flags {
		out = append(out, flagRow{Flag: f, Which: f.ID, Text: flagText(l, f)})
	}
	return out
}

type lotView struct {
	page.Page
	Lot         traceability.Lot
	KindName    string
	Source      string
	Process     string
	Origin      []originRow
	Cooperative traceability.Cooperative
	Quantity    string
	Available   string
	UnitSize    string
	Inputs      []refRow
	Outputs     []refRow
	Claims      []claimRow
	Flags       []flagRow
	Events      []eventRow
	CanManage   bool
	CanAudit    bool
	// Quality (issue 18): the category the lot shows, its own results, and
	// whether the result form is offered (dried saffron, its manager).
	Category   string
	Quality    *traceability.Quality
	LabResults []labRow
	CanTest    bool
	// The correction form: the units the lot may be counted in, and whether
	// it can be corrected here at all (not when nothing is left to correct
	// and nothing can be raised).
	CorrectionUnits []string
	Corrected       bool
}

func refRows(l *i18n.Locale, refs []traceability.EventRef) []refRow {
	out := make([]refRow, 0, len(refs))
	for _, r := range refs {
		out = append(out, refRow{Lot: r.Lot, Amount: l.Quantity(r.Quantity, r.Unit)})
	}
	return out
}

// LotPage answers GET /lots/{code}: a lot's summary, origin, inputs and
// outputs, claims, flags and hash-chained history.
func (h *Handlers) LotPage(c *gin.Context) { h.showLot(c, nil, "") }

func (h *Handlers) showLot(c *gin.Context, formErr error, which string) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	lot, err := h.d.Records.Lot(ctx, actor, c.Param("code"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	claims, err := h.d.Records.ClaimStatuses(ctx, lot)
	if err != nil {
		page.Fail(c, err)
		return
	}
	coop, err := h.d.Cooperatives.CooperativeName(ctx, lot.Cooperative)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &lotView{Page: h.d.Pages.Page(c, l.T("lot")), Lot: lot, KindName: l.Kind(lot.ProductKind), Source: l.Term("source", lot.Source),
		Cooperative: coop, Quantity: l.Quantity(lot.CurrentQuantity(), lot.Unit), Available: l.Quantity(lot.Available, lot.Unit),
		Inputs: refRows(l, lot.Inputs), Outputs: refRows(l, lot.Outputs),
		CanManage: actor.ManageCoop(lot.Cooperative) == nil, CanAudit: actor.ReadCoop(lot.Cooperative) == nil,
		CorrectionUnits: unitsOf(lot.Unit), Corrected: lot.Corrected()}
	if lot.Process != "" {
		v.Process = l.Term("step", lot.Process)
	}
	if lot.UnitSize > 0 {
		v.UnitSize = l.Quantity(lot.UnitSize, lot.UnitSizeOf)
	}
	for _, cl := range claims {
		v.Claims = append(v.Claims, claimRow{ClaimStatus: cl, Label: l.Term("status", cl.Status)})
	}
	v.Flags = flagRows(l, lot.Flags)
	for _, o := range lot.Origin {
		v.Origin = append(v.Origin, originRow{OriginLine: o, Amount: l.Quantity(o.Quantity, traceability.Milligram)})
	}
	for _, e := range lot.Events {
		v.Events = append(v.Events, eventRow{Event: e, Label: l.Term("event", e.Type), Amount: l.Quantity(e.Quantity, e.Unit), Short: e.Hash[:min(12, len(e.Hash))],
			Note: eventNote(l, e)})
	}
	v.Category, v.LabResults = qualityRows(l, lot)
	v.Quality, v.CanTest = lot.Quality, v.CanManage && lot.ProductKind == "saffron_dried"
	if formErr == nil {
		v.Form.Set("unit", defaultUnit(lot.Unit))
	}
	h.render(c, &v.Page, formErr, which, "backoffice/lot", v)
}

// unitsOf are the units a quantity of base unit u may be typed in, the
// most usual first.
func unitsOf(u traceability.Unit) []string {
	switch traceability.Dimension(u) {
	case traceability.Dimension(traceability.Milligram):
		return []string{"g", "kg", "mg"}
	case traceability.Dimension(traceability.Millilitre):
		return []string{"ml", "l"}
	}
	return []string{"pcs"}
}

func defaultUnit(u traceability.Unit) string { return unitsOf(u)[0] }

// correctionOf reads a correction form: the true quantity, the reason, and
// the box that confirms it is recorded for good (the form's confirmation,
// without a script).
func correctionOf(c *gin.Context) (traceability.Quantity, string, error) {
	amount, err := page.WholeNumber("quantity", c.PostForm("amount"))
	if err != nil {
		return traceability.Quantity{}, "", err
	}
	reason := c.PostForm("reason")
	if strings.TrimSpace(reason) == "" {
		return traceability.Quantity{}, "", problem.Field("reason", "say why the quantity is corrected")
	}
	if c.PostForm("confirm") != "on" {
		return traceability.Quantity{}, "", problem.Field("confirm", "tick the box to confirm: a correction stays in the lot's history for good")
	}
	return traceability.Quantity{Amount: amount, Unit: c.PostForm("unit")}, reason, nil
}

// CorrectLot answers POST /lots/{code}/corrections: the lot's true
// quantity with a reason, recorded as a corrected event.
func (h *Handlers) CorrectLot(c *gin.Context) {
	code := traceability.NormalizeLotCode(c.Param("code"))
	err := func() error {
		// Who may not correct the lot is refused as such before the form is
		// read.
		if lot, err := h.d.Records.PublicLot(c.Request.Context(), code); err == nil {
			if err := page.Actor(c).ManageCoop(lot.Cooperative); err != nil {
				return err
			}
		}
		q, reason, err := correctionOf(c)
		if err != nil {
			return err
		}
		_, err = h.d.Records.CorrectLot(c.Request.Context(), page.Actor(c), code, q, reason)
		return err
	}()
	h.done(c, err, "correct", lotPath(code)+"#history", "correction_saved", h.showLot)
}

// JustifyFlag answers POST /lots/{code}/flags/{flag}/justification.
func (h *Handlers) JustifyFlag(c *gin.Context) {
	if lot, err := h.d.Records.PublicLot(c.Request.Context(), c.Param("code")); err == nil {
		if err := page.Actor(c).ManageCoop(lot.Cooperative); err != nil {
			page.Fail(c, err)
			return
		}
	}
	_, err := h.d.Records.JustifyFlag(c.Request.Context(), page.Actor(c), c.Param("code"), c.Param("flag"), c.PostForm("justification"))
	if errors.Is(err, traceability.ErrFlagNotFound) {
		err = problem.Field("justification", "this flag is not on the lot any more; reload the page")
	}
	h.done(c, err, c.Param("flag"), lotPath(traceability.NormalizeLotCode(c.Param("code"))), "saved", h.showLot)
}
