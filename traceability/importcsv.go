package traceability

import (
	"context"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/internal/problem"
)

// HarvestCSVHeader is the header a harvest file for ImportHarvests starts
// with. Amounts are whole numbers in the given unit (g or kg for every
// crop). The register import (Preview, Apply with ImportKindHarvests) reads
// this header too, and any other that names the columns.
var HarvestCSVHeader = []string{"parcel", "member", "date", "crop", "amount", "unit"}

// RowError is one problem of an import file. Row is the row as the user
// sees it in the spreadsheet (its header is usually row 1), or the 1-based
// feature of a map file; problems of the header or of a whole column carry
// the header's row. Field is the field at fault, Column the spreadsheet's
// letter of its column. Key is the English format string of the message,
// which is also its translation key, and Args its arguments; Message is
// the two put together, in English.
//
// ImportHarvests, whose answer predates the register import, counts Row
// from 1 for the first line under the header.
type RowError struct {
	Row     int      `json:"row"`
	Field   string   `json:"field,omitempty"`
	Message string   `json:"message"`
	Column  string   `json:"column,omitempty"`
	Key     string   `json:"key,omitempty"`
	Args    []string `json:"args,omitempty"`
	// Problem is the refusal itself, for pages that say it in their
	// reader's language (Message is its English text).
	Problem *problem.Error `json:"-"`
}

// ImportHarvests reads a CSV file of harvests (header HarvestCSVHeader,
// dates as YYYY-MM-DD, whole amounts) and records them all, or none: every
// row is checked first and, when any is wrong, the answer lists every
// refused row (up to 100) and nothing is written. Parcels and members may
// be given by ID, code or name. A row already recorded (same parcel,
// member, day, crop and quantity) is not recorded again, so a manager on a
// weak connection can send the same file twice. It answers how many
// harvests were recorded.
//
// It is the register import (Apply with ImportKindHarvests) held to the file
// format of the harvests page and of POST …/harvests/import, which kept
// it until the web side moves to /imports.
func (s *Service) ImportHarvests(ctx context.Context, actor access.Actor, coop string, r io.Reader) (int, error) {
	p, err := s.Apply(ctx, actor, coop, ImportKindHarvests, "harvests.csv", r, func(o *importOptions) {
		o.legacyHarvests = true
		o.maxRows = 50_000 // its limit before the register import
		o.maxBytes = 50 << 20
	})
	if pe, ok := problem.As(err); ok && pe.Code == problem.Unprocessable {
		if len(p.Rows) == 0 {
			return 0, problem.Field("file", "has no harvest rows")
		}
		// Rows counted from the first line under the header, as before.
		index := map[int]int{}
		for i, row := range p.Rows {
			index[row.Row] = i + 1
		}
		details, _ := pe.Details.([]RowError)
		legacy := make([]RowError, len(details))
		for i, e := range details {
			e.Row, e.Column = index[e.Row], ""
			legacy[i] = e
		}
		c := *pe
		c.Details = legacy
		return 0, &c
	}
	if err != nil {
		return 0, err
	}
	return p.Counts.Create, nil
}

// checkLegacyHeader holds ImportHarvests's file to its fixed header.
func checkLegacyHeader(t *importTable) error {
	if t.format != FormatCSV || len(t.rows) == 0 {
		return problem.Field("file", "is empty or not CSV: the first line must be %s", strings.Join(HarvestCSVHeader, ","))
	}
	header := t.rows[0]
	if header.parseErr != "" || strings.Join(header.cells, ",") != strings.Join(HarvestCSVHeader, ",") {
		return problem.Field("file", "the first line must be %s", strings.Join(HarvestCSVHeader, ","))
	}
	t.headerRow, t.header = header.number, header.cells
	var data []tableRow
	for _, r := range t.rows[1:] {
		if r.parseErr == "" && blankCells(r.cells) {
			continue
		}
		data = append(data, r)
	}
	t.rows = data
	return nil
}

// Harvests are matched to the records by all their values: a row equal
// to a recorded harvest (parcel, member, day, crop, quantity) is that
// harvest. Two equal pickings in one file are two harvests, and a file
// holding them is unchanged once both are recorded.
func harvestKey(h Harvest) string {
	return h.Parcel + "|" + h.Member + "|" + h.Date + "|" + h.Crop + "|" + strconv.FormatInt(h.Quantity, 10) + string(h.Unit)
}

func (r *importRun) planHarvests(ctx context.Context) error {
	coop := r.coop.Code
	members, err := r.s.store.members(ctx, coop, mongodb.Page{Limit: math.MaxInt32})
	if err != nil {
		return err
	}
	parcels, err := r.s.store.parcels(ctx, coop, mongodb.Page{Limit: math.MaxInt32})
	if err != nil {
		return err
	}
	recorded, err := r.s.store.harvests(ctx, coop, mongodb.Page{Limit: math.MaxInt32})
	if err != nil {
		return err
	}
	already := map[string][]string{}
	for _, h := range recorded {
		already[harvestKey(h)] = append(already[harvestKey(h)], h.ID)
	}
	mrefs, prefs := memberRefs(members), parcelRefs(parcels)
	r.requireColumns([]string{"parcel", "date", "amount"}, nil)
	for _, f := range r.preview.Missing {
		r.fileProblem(issue(f, "no column gives the %s: add one (for example %s)", f, columnExample(ImportKindHarvests, f)))
	}
	amountUnit, unitKnown := r.amountColumnUnit()
	// seasons holds each parcel's season totals with the rows so far
	// added, so a file whose sum would overflow is refused before
	// anything is written.
	seasons := map[string]int64{}
	r.eachRow(func(rr *importRowRun) {
		if r.opts.legacyHarvests && len(rr.raw.cells) != len(HarvestCSVHeader) {
			rr.fail(issue("", "has %s columns, want %s", strconv.Itoa(len(rr.raw.cells)), strconv.Itoa(len(HarvestCSVHeader))))
			return
		}
		member := rr.member(mrefs)
		parcel := rr.harvestParcel(prefs, member)
		date := rr.date("date", true)
		if date != "" {
			if day, _ := time.Parse(time.DateOnly, date); day.After(r.s.now().UTC().Add(24 * time.Hour)) {
				rr.fail(issue("date", "is in the future"))
			}
		}
		crop := ""
		if v := rr.cell("crop"); v != "" {
			var ok bool
			if crop, ok = parseCrop(v); !ok {
				rr.fail(issue("crop", "%q is not a crop: use one of %s", v, strings.Join(Crops, ", ")))
			}
		}
		q, qok := rr.amount(amountUnit, unitKnown)
		if rr.failed() || parcel == nil || !qok {
			return
		}
		if member == nil {
			if rr.has("member") {
				return
			}
			m, ok := mrefs.byID[parcel.Member]
			if !ok {
				rr.fail(issue("member", "is required: the parcel's member is not recorded"))
				return
			}
			member = m // a parcel's harvest is its member's unless the row says
		}
		nh := NewHarvest{Parcel: parcel.ID, Member: member.ID, Date: date, Crop: cmpOrString(crop, parcel.Crop), Quantity: q}
		h, err := r.s.harvestFields(r.actor, coop, nh)
		if err == nil {
			err = harvestOn(h, *parcel)
		}
		if err != nil {
			if p, ok := problem.As(err); ok && p.Field == "quantity" {
				err = renamed(err, "amount")
			}
			rr.fail(issueOf(err))
			return
		}
		rr.set("parcel", parcel.ID)
		rr.set("parcel_name", parcel.Name)
		rr.set("member", member.ID)
		rr.set("member_name", member.Name)
		rr.set("crop", h.Crop)
		rr.set("quantity", FormatQuantity(h.Quantity, h.Unit))
		key := harvestKey(h)
		if ids := already[key]; len(ids) > 0 {
			rr.row.Action, rr.row.ID = ImportUnchanged, ids[0]
			already[key] = ids[1:]
			return
		}
		day, _ := time.Parse(time.DateOnly, h.Date)
		skey := parcel.ID + "|" + seasonKey(seasonOf(day), h.Crop)
		season, seen := seasons[skey]
		if !seen {
			season = parcel.SeasonTotals[seasonKey(seasonOf(day), h.Crop)]
		}
		season, ok := addQuantities(season, h.Quantity)
		if !ok {
			rr.fail(issueOf(errTotalTooLarge("amount")))
			return
		}
		if err := HarvestLimit("amount", h.Crop, season, parcel.AreaM2); err != nil {
			rr.fail(issueOf(err))
			return
		}
		seasons[skey] = season
		rr.row.Action = ImportCreate
		r.write(func(ctx context.Context) (string, error) {
			h.ID, h.CreatedAt = id.New("hrv"), r.s.now().UTC()
			return h.ID, r.s.recordHarvest(ctx, &h)
		})
	})
	return nil
}

// harvestParcel resolves the row's parcel by ID, code or name (among the
// member's parcels when the row names the member).
func (rr *importRowRun) harvestParcel(prefs refIndex[Parcel], member *Member) *Parcel {
	ref := rr.cell("parcel")
	if ref == "" {
		rr.fail(issue("parcel", "is required"))
		return nil
	}
	found := prefs.find(ref)
	if len(found) > 1 && member != nil {
		var mine []*Parcel
		for _, p := range found {
			if p.Member == member.ID {
				mine = append(mine, p)
			}
		}
		found = mine
	}
	switch len(found) {
	case 0:
		rr.fail(issue("parcel", "%q is not a parcel of this cooperative (give the parcel's code or name as recorded)", ref))
		return nil
	case 1:
		return found[0]
	}
	rr.fail(issue("parcel", "%q names %s parcels: give the parcel's code, or its member", ref, strconv.Itoa(len(found))))
	return nil
}

// amountColumnUnit is the unit the amounts are in when no unit column says
// it: the amount header's ("Poids (kg)"). unitKnown is false, after
// reporting it once, when neither a unit column, the header nor a cell
// ("1,5 kg") says it.
func (r *importRun) amountColumnUnit() (string, bool) {
	i, ok := r.fields["amount"]
	if !ok {
		return "", true
	}
	if _, ok := r.fields["unit"]; ok {
		return r.preview.Columns[i].Unit, true
	}
	if u := r.preview.Columns[i].Unit; u != "" {
		return u, true
	}
	for _, row := range r.table.rows {
		if v := row.value(i, "amount"); v != "" {
			if _, u := splitNumberUnit(v); canonicalUnit(u, "quantity") == "" {
				r.fileProblem(issue("amount", "the column %s does not say its unit: add a unit column, or name it, for example, Quantité (kg)", r.preview.Columns[i].Header))
				return "", false
			}
		}
	}
	return "", true
}

// amount reads the row's quantity: a decimal amount (1,5) in the unit of
// the unit column, of the cell ("1,5 kg") or of the header, written whole
// in the largest unit that holds it (1500 g).
func (rr *importRowRun) amount(headerUnit string, unitKnown bool) (Quantity, bool) {
	v := rr.cell("amount")
	if v == "" {
		rr.fail(issue("amount", "is required"))
		return Quantity{}, false
	}
	if rr.run.opts.legacyHarvests {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			rr.fail(issue("amount", "%q is not a whole number", v))
			return Quantity{}, false
		}
		return Quantity{Amount: n, Unit: rr.cell("unit")}, true
	}
	number, cellUnit := splitNumberUnit(v)
	unit := headerUnit
	if u := rr.cell("unit"); u != "" {
		if unit = canonicalUnit(u, "quantity"); unit == "" {
			rr.fail(issue("unit", "unknown unit %q (use mg, g, kg, ml, l or pcs)", u))
			return Quantity{}, false
		}
	} else if _, ok := rr.run.fields["unit"]; ok && cellUnit == "" && headerUnit == "" {
		rr.fail(issue("unit", "is required (one of mg, g, kg, ml, l, pcs)"))
		return Quantity{}, false
	}
	if cellUnit != "" {
		if unit = canonicalUnit(cellUnit, "quantity"); unit == "" {
			rr.fail(issue("amount", "%q is not a quantity: write it in g, kg, ml, l or pcs", v))
			return Quantity{}, false
		}
	}
	if unit == "" {
		if unitKnown {
			rr.fail(issue("unit", "is required (one of mg, g, kg, ml, l, pcs)"))
		}
		return Quantity{}, false
	}
	d, ok := parseDecimal(number)
	if !ok {
		rr.fail(issue("amount", "%q is not a number", v))
		return Quantity{}, false
	}
	if d.Sign() <= 0 {
		rr.fail(issue("amount", "must be more than zero, got %s", v))
		return Quantity{}, false
	}
	q, ok := exactQuantity(d, unit)
	if !ok {
		rr.fail(issue("amount", "%s %s cannot be counted: amounts are kept in whole milligrams, millilitres or pieces", formatRat(d), unit))
		return Quantity{}, false
	}
	return q, true
}
