package web

import (
	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/replay"
)

// Indexes are the indexes of every package the server uses, for
// mongodb.Store.EnsureIndexes at start (serve, the CLI, the load tool's
// seed and the test harness open the store the same way). A collection
// that is missing here is created without its _id lookup index on the
// embedded store, so every package lists all of its collections.
func Indexes() []mongodb.Index {
	var idx []mongodb.Index
	idx = append(idx, traceability.Indexes()...)
	idx = append(idx, shops.Indexes()...)
	idx = append(idx, catalog.Indexes()...)
	idx = append(idx, orders.Indexes()...)
	idx = append(idx, replay.Indexes()...)
	idx = append(idx, accounts.Indexes()...)
	return idx
}
