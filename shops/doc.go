// Package shops holds the sales points of the network — the solidarity shops
// (each a channel selling in MAD) and the EU platform (a channel selling in
// EUR with its own warehouse) — and their stock, lot by lot.
//
// Invariants:
//   - Stock is held per (shop, lot): a balance whose _id is "shop|lot", with
//     units on the shelf and units reserved for online orders. Neither ever
//     goes below zero, and reserved never exceeds units.
//   - A balance changes only together with an immutable movement (receipt,
//     transfer out/in, sale, return, adjustment, loss) in one Atomically, so
//     the sum of a balance's movements always equals its units; `terroir
//     verify` checks it for every shop.
//   - The units a shop receives come out of the packed lot's available
//     quantity at its cooperative in the same atomic step, so the same units
//     can never be received twice across the network.
//   - Sales pick lots first-expired-first-out and never sell an expired lot.
//   - A shelf ("shop|sku") indexes a shop's lots of one product, so a sale
//     finds its lots with one _id read on the embedded store.
//   - What a sale or a reservation costs is the catalogue's price in the
//     channel, asked through Pricer (catalog.Service in production): a Line
//     carries a SKU and units, never a price. Quote prices a cart the same
//     way for display.
//   - The shop permission is the service's: Sell and Send for the shop's own
//     manager (OperateShop), the rest for its manager and the admin
//     (ManageShop); pages ask ManagedShop or OperatedShop for the shop.
//   - Every committed change of a (shop, sku) is announced to the OnChange
//     subscribers (the web layer's catalogue cache).
//
// store.go is the only file that talks to MongoDB.
package shops
