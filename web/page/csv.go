package page

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
)

// The CSV exports that a page's link and the API's ?format=csv both write:
// headers from the catalogue in l's language (the API's are English),
// quantities in base units and amounts in minor units, for spreadsheets.

// WriteBalanceCSV writes a season's mass balance.
func WriteBalanceCSV(w io.Writer, l *i18n.Locale, rows []traceability.BalanceRow) {
	cw := csv.NewWriter(w)
	_ = cw.Write(strings.Split(l.T("csv.balance"), ","))
	for _, r := range rows {
		i := func(v int64) string { return strconv.FormatInt(v, 10) }
		// The first twelve columns are those of earlier files; the columns
		// of one unit per row (issue 10) follow, so old sheets still read.
		_ = cw.Write([]string{r.ProductKind, string(r.Unit), strconv.Itoa(r.Lots), i(r.Harvested), i(r.Produced), i(r.Transformed),
			i(r.Packed), i(r.Shipped), i(r.Adjusted), i(r.OnHand), i(r.Losses), r.YieldPercent,
			i(r.Corrections), i(r.TransformationLoss), i(r.Unexplained), i(r.PackedUnits), i(r.UnitCorrections), i(r.ShippedUnits),
			i(r.Sold), i(r.SoldUnits), i(r.OnHandUnits), i(r.OnHandPacked), strings.Join(r.InconsistentLots, " ")})
	}
	cw.Flush()
}

// WriteStatementCSV writes a monthly statement: one row a line, then the
// totals per currency.
func WriteStatementCSV(w io.Writer, l *i18n.Locale, st orders.Statement) {
	cw := csv.NewWriter(w)
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	_ = cw.Write(strings.Split(l.T("csv.statement_lines"), ","))
	for _, ln := range st.Lines {
		_ = cw.Write([]string{ln.Date, ln.Channel, ln.Source, ln.Ref, ln.SKU, i(ln.Units), strings.Join(ln.Lots, " "), ln.Currency,
			i(ln.Gross), i(ln.ProducerShare), i(ln.ShopMargin), i(ln.Fees)})
	}
	_ = cw.Write(nil)
	_ = cw.Write(strings.Split(l.T("csv.statement_totals"), ","))
	for _, t := range st.Totals {
		_ = cw.Write([]string{t.Currency, i(t.Units), i(t.Gross), i(t.ProducerShare), i(t.ShopMargin), i(t.Fees),
			i(t.AdvanceRepayment), i(t.Payouts), i(t.NetDue), i(t.AdvanceLeft)})
	}
	cw.Flush()
}
