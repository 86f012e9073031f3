package backoffice

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

// holdingsLotLimit bounds the lots whose sales the cooperative view reads:
// one _id read per lot (the lot document carries its custody events).
const holdingsLotLimit = 500

type holdingRow struct {
	shops.Balance
	Name string
}

type holdingShop struct {
	Shop            shops.Shop
	Rows            []holdingRow
	Units, Reserved int64
	UnitsText       string
}

// soldRow is what one shop sold of one lot: its "sold" custody events
// less its "returned" ones.
type soldRow struct {
	Shop, ShopName, Lot, SKU, Name string
	Units                          int64
}

type holdingsView struct {
	page.Page
	coopTop
	Shops     []holdingShop
	Sold      []soldRow
	SoldTotal int64
	Capped    bool
}

// HoldingsPage answers GET /coop/{coop}/holdings: where a cooperative's
// lots are and what sold.
//
// Cost on the embedded store: Holdings filters balances by cooperative,
// which is one scan of the balances collection (only _id equality is pushed
// down); then one _id read per lot for its sales, and one per shop for its
// name. Sales come from each lot's custody events rather than from the
// shops' movements, which have no cooperative field and would need a scan
// of every movement of the network.
func (h *Handlers) HoldingsPage(c *gin.Context) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	top, err := h.coopTop(c, secHoldings)
	if err != nil {
		page.Fail(c, err)
		return
	}
	bals, err := h.d.Stock.Holdings(ctx, actor, top.Cooperative.Code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &holdingsView{Page: h.d.Pages.Page(c, l.T("sh_holdings")), coopTop: top}
	names := map[string]string{}
	nameOf := func(sku string) string {
		if n, ok := names[sku]; ok {
			return n
		}
		n := sku
		if p, err := h.d.Products.Product(ctx, sku); err == nil {
			n = p.Names.In(l.Code())
		}
		names[sku] = n
		return n
	}
	byShop := map[string]*holdingShop{}
	var lots []string
	skuOf := map[string]string{}
	for _, b := range bals {
		if !slices.Contains(lots, b.Lot) {
			lots = append(lots, b.Lot)
			skuOf[b.Lot] = b.SKU
		}
		if b.Units == 0 && b.Reserved == 0 {
			continue
		}
		hs := byShop[b.Shop]
		if hs == nil {
			sh, err := h.d.Shops.Shop(ctx, b.Shop)
			if err != nil {
				sh = shops.Shop{Code: b.Shop, Name: b.Shop}
			}
			hs = &holdingShop{Shop: sh}
			byShop[b.Shop] = hs
		}
		hs.Rows = append(hs.Rows, holdingRow{Balance: b, Name: nameOf(b.SKU)})
		hs.Units += b.Units
		hs.Reserved += b.Reserved
	}
	for _, hs := range byShop {
		hs.UnitsText = l.T("units_count", hs.Units)
		v.Shops = append(v.Shops, *hs)
	}
	slices.SortFunc(v.Shops, func(a, b holdingShop) int { return strings.Compare(a.Shop.Code, b.Shop.Code) })
	if len(lots) > holdingsLotLimit {
		lots, v.Capped = lots[:holdingsLotLimit], true
	}
	shopName := func(code string) string {
		if hs := byShop[code]; hs != nil {
			return hs.Shop.Name
		}
		if sh, err := h.d.Shops.Shop(ctx, code); err == nil {
			byShop[code] = &holdingShop{Shop: sh}
			return sh.Name
		}
		return code
	}
	for _, code := range lots {
		lot, err := h.d.Records.Lot(ctx, actor, code)
		if err != nil {
			continue
		}
		sold := map[string]int64{}
		for _, e := range lot.Events {
			switch e.Type {
			case traceability.EventSold:
				sold[e.Place] += e.Quantity
			case traceability.EventReturned:
				sold[e.Place] -= e.Quantity
			}
		}
		for shop, n := range sold {
			if n == 0 {
				continue
			}
			v.Sold = append(v.Sold, soldRow{Shop: shop, ShopName: shopName(shop), Lot: code, SKU: skuOf[code], Name: nameOf(skuOf[code]), Units: n})
			v.SoldTotal += n
		}
	}
	slices.SortFunc(v.Sold, func(a, b soldRow) int { return strings.Compare(a.Shop+a.Lot, b.Shop+b.Lot) })
	h.d.Pages.Render(c, http.StatusOK, "backoffice/holdings", v)
}
