package page

import (
	"context"
	"errors"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
)

// OrderLine is a line of an order as the customer's order page and the
// platform's packing list show it.
type OrderLine struct {
	SKU, Name        string
	Units            int64
	UnitPrice, Total string
	Lots             []OrderLot
}

// OrderLot is the part of a line taken from one lot, with its trace link.
type OrderLot struct {
	Lot        string
	Units      int64
	BestBefore string
	TraceURL   string
}

// OrderSources are what OrderLines reads: the catalogue's names and the
// lots' public records.
type OrderSources interface {
	Product(ctx context.Context, sku string) (catalog.Product, error)
}

// PublicLots reads a lot's public record.
type PublicLots interface {
	PublicLot(ctx context.Context, code string) (traceability.Lot, error)
}

// OrderLines joins an order with the catalogue's names in the page's
// language and each lot's signed trace link. A lot that cannot be read is
// shown without its link rather than failing the page.
func OrderLines(ctx context.Context, l *i18n.Locale, o orders.Order, products OrderSources, lots PublicLots, codes traceability.Codes) ([]OrderLine, error) {
	var out []OrderLine
	for _, ln := range o.Lines {
		name := o.Names[ln.SKU]
		if p, err := products.Product(ctx, ln.SKU); err == nil {
			name = p.Names.In(l.Code())
		}
		lv := OrderLine{SKU: ln.SKU, Name: name, Units: ln.Units,
			UnitPrice: l.Money(ln.UnitPrice, o.Total.Currency), Total: l.Money(ln.Amount, o.Total.Currency)}
		for _, lu := range ln.Lots {
			ol := OrderLot{Lot: lu.Lot, Units: lu.Units}
			lot, err := lots.PublicLot(ctx, lu.Lot)
			switch {
			case err == nil:
				ol.TraceURL = codes.URL(traceability.RefOf(lot, ""))
				ol.BestBefore = lot.BestBefore
			case !errors.Is(err, traceability.ErrLotNotFound) && problem.CodeOf(err) != problem.NotFound:
				return nil, err
			}
			lv.Lots = append(lv.Lots, ol)
		}
		out = append(out, lv)
	}
	return out, nil
}
