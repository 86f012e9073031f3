package main

import (
	"context"
	"fmt"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/web/accounts"
)

// The demo's members' pay (issue 17): the saffron cooperative's general
// assembly keeps 5 % from the start of the season, a rate for this month's
// euro sales is recorded, and the Taroudannt till sells saffron jars today,
// so the cooperative's pay page shows each member's part of them this month
// and the advances paid at delivery (demoChains) being repaid from it.
func seedDemoPay(ctx context.Context, a *app) error {
	pay := orders.NewMemberPay(a.orders, a.trace)
	if _, err := pay.SetRetention(ctx, accounts.System, "SIROUA-SAFRAN", "5", "2026-09-01"); err != nil {
		return fmt.Errorf("saffron retention: %w", err)
	}
	month := time.Now().UTC().Format("2006-01")
	if _, err := pay.SetRate(ctx, accounts.System, "SIROUA-SAFRAN", month, "EUR", "10.85"); err != nil {
		return fmt.Errorf("saffron rate: %w", err)
	}
	till := access.Actor{UserID: "demo-till", Email: "taroudannt@terroir.demo", Role: access.ShopManager, Org: "TAROUDANNT"}
	for _, units := range []int64{6, 4, 2} {
		if _, err := a.stock.Sell(ctx, till, "TAROUDANNT", shops.SaleRequest{Lines: []shops.Line{{SKU: "SAF-TAL-1G", Units: units}}, Payment: "cash"}); err != nil {
			return fmt.Errorf("saffron till sale: %w", err)
		}
	}
	return nil
}
