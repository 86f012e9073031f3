package orders

import (
	"context"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/shops"
)

// SetUnpaidLimit sets how many units of a product one customer may hold in
// unpaid online orders at once (0: Config.UnpaidLimit). The admin or the
// manager of an online platform may; a boutique's manager may not (its
// till sells paid at once).
func (s *Service) SetUnpaidLimit(ctx context.Context, actor access.Actor, sku string, limit int64) (catalog.Product, error) {
	platform := actor.Org
	if actor.Role != access.Admin {
		if err := actor.ManageShop(actor.Org); err != nil {
			return catalog.Product{}, err
		}
		if sh, err := s.shops.Shop(ctx, actor.Org); err != nil || sh.Kind != shops.KindPlatform {
			return catalog.Product{}, access.ErrForbidden
		}
	}
	return s.catalog.SetUnpaidLimit(ctx, actor, sku, platform, limit)
}

// UnpaidLimitOf is the limit that applies to p: its own, or the default.
func (s *Service) UnpaidLimitOf(p catalog.Product) int64 {
	if p.UnpaidLimit > 0 {
		return p.UnpaidLimit
	}
	return s.cfg.UnpaidLimit
}
