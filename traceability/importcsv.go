package traceability

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
)

// HarvestCSVHeader is the header a harvest import file starts with. Amounts
// are whole numbers in the given unit (g or kg for every crop).
var HarvestCSVHeader = []string{"parcel", "member", "date", "crop", "amount", "unit"}

// RowError is one refused row of an import; Row counts from 1 for the first
// data line (the header is row 0), as a spreadsheet user sees it minus one.
type RowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// maxImportRows bounds one file; larger imports are split by the caller.
const maxImportRows = 50_000

// ImportHarvests reads a CSV file of harvests and records them all, or none:
// every row is checked first and, when any is wrong, the answer lists every
// refused row (up to 100) and nothing is written. A cooperative manager on a
// weak connection can fix the file and send it again without duplicates.
func (s *Service) ImportHarvests(ctx context.Context, actor access.Actor, coop string, r io.Reader) (int, error) {
	coop = NormalizeCode(coop)
	if err := actor.ManageCoop(coop); err != nil {
		return 0, err
	}
	if _, err := s.store.cooperative(ctx, coop); err != nil {
		return 0, err
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return 0, problem.Field("file", "is empty or not CSV: the first line must be %s", strings.Join(HarvestCSVHeader, ","))
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // spreadsheets write a BOM
	}
	if strings.Join(header, ",") != strings.Join(HarvestCSVHeader, ",") {
		return 0, problem.Field("file", "the first line must be %s", strings.Join(HarvestCSVHeader, ","))
	}
	var (
		rows    []Harvest
		refused []RowError
		// seasons holds each parcel's season totals with the rows so far
		// added, so a file whose sum would overflow is refused before
		// anything is written (the embedded store has no transactions).
		seasons = map[string]int64{}
	)
	refuse := func(row int, err error) {
		if len(refused) >= 100 {
			return
		}
		re := RowError{Row: row, Message: err.Error()}
		if p, ok := problem.As(err); ok {
			re.Field, re.Message = p.Field, p.Message
		}
		refused = append(refused, re)
	}
	now := s.now().UTC()
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if row > maxImportRows {
			return 0, problem.Field("file", "has more than %d rows; split it", maxImportRows)
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				refuse(row, fmt.Errorf("not valid CSV: %v", pe.Err))
				continue
			}
			return 0, err
		}
		if len(rec) != len(HarvestCSVHeader) {
			refuse(row, fmt.Errorf("has %d columns, want %d", len(rec), len(HarvestCSVHeader)))
			continue
		}
		amount, err := strconv.ParseInt(strings.TrimSpace(rec[4]), 10, 64)
		if err != nil {
			refuse(row, problem.Field("amount", "%q is not a whole number", rec[4]))
			continue
		}
		h, p, err := s.validateHarvest(ctx, actor, coop, NewHarvest{Parcel: rec[0], Member: rec[1], Date: rec[2], Crop: rec[3],
			Quantity: Quantity{Amount: amount, Unit: rec[5]}})
		if err != nil {
			if p, ok := problem.As(err); ok && p.Field == "quantity" {
				err = renamed(err, "amount")
			}
			refuse(row, err)
			continue
		}
		day, _ := time.Parse(time.DateOnly, h.Date)
		key := seasonKey(seasonOf(day), h.Crop)
		season, seen := seasons[p.ID+"|"+key]
		if !seen {
			season = p.SeasonTotals[key]
		}
		season, ok := addQuantities(season, h.Quantity)
		if !ok {
			refuse(row, errTotalTooLarge("amount"))
			continue
		}
		if err := HarvestLimit("amount", h.Crop, season, p.AreaM2); err != nil {
			refuse(row, err)
			continue
		}
		seasons[p.ID+"|"+key] = season
		h.ID = NewID("hrv")
		h.CreatedAt = now
		rows = append(rows, h)
	}
	if len(refused) > 0 {
		return 0, &problem.Error{Code: problem.Unprocessable, Field: "file", Details: refused,
			Message: fmt.Sprintf("%d rows were refused; nothing was imported: correct them and send the whole file again", len(refused))}
	}
	if len(rows) == 0 {
		return 0, problem.Field("file", "has no harvest rows")
	}
	err = s.store.db.Atomically(ctx, func(ctx context.Context) error {
		for i := range rows {
			if err := s.recordHarvest(ctx, &rows[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return len(rows), err
}
