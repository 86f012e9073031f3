// Package catalog is the shared catalogue of the network: products (SKU,
// names in French, English and Arabic, kind, cooperative, unit size,
// optional GTIN, photo), their prices and producers' shares per sales
// channel. It prices till sales (UnitPrice, the shops.Pricer) and announces
// every product it changes (OnChange) so caches follow.
//
// Invariants: a product's SKU is its identity (_id) and never changes; its
// unit size is in the base unit of its kind (mg, ml or pcs), so packing a lot
// into units is exact integer arithmetic; a GTIN, when given, has a valid
// check digit and is stored as GTIN-14.
//
// store.go is the only file that talks to MongoDB.
package catalog
