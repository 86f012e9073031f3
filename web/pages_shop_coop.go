package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
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
}

// soldRow is what one shop sold of one lot: its "sold" custody events
// less its "returned" ones.
type soldRow struct {
	Shop, ShopName, Lot, SKU, Name string
	Units                          int64
}

type holdingsView struct {
	coopRecords
	Shops     []holdingShop
	Sold      []soldRow
	SoldTotal int64
	Capped    bool
}

// holdingsPage shows a cooperative where its lots are and what sold.
//
// Cost on the embedded store: Holdings filters balances by cooperative,
// which is one scan of the balances collection (only _id equality is pushed
// down); then one _id read per lot for its sales, and one per shop for its
// name. Sales come from each lot's custody events rather than from the
// shops' movements, which have no cooperative field and would need a scan
// of every movement of the network.
func (s *Server) holdingsPage(c *gin.Context) {
	ctx, actor := c.Request.Context(), actorOf(c)
	top, err := s.coopRecords(c, "holdings")
	if err != nil {
		s.pageFail(c, err)
		return
	}
	bals, err := s.deps.Stock.Holdings(ctx, actor, top.Cooperative.Code)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &holdingsView{coopRecords: top}
	lang := langOf(c)
	names := map[string]string{}
	nameOf := func(sku string) string {
		if n, ok := names[sku]; ok {
			return n
		}
		n := sku
		if p, err := s.deps.Catalog.Product(ctx, sku); err == nil {
			n = p.Names.In(lang)
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
			sh, err := s.deps.Shops.Shop(ctx, b.Shop)
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
		if sh, err := s.deps.Shops.Shop(ctx, code); err == nil {
			byShop[code] = &holdingShop{Shop: sh}
			return sh.Name
		}
		return code
	}
	for _, code := range lots {
		l, err := s.deps.Traceability.Lot(ctx, actor, code)
		if err != nil {
			continue
		}
		sold := map[string]int64{}
		for _, e := range l.Events {
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
	s.render(c, http.StatusOK, "holdings", s.data(c, "sh_holdings", v))
}
