// Package orders sells the catalogue online: orders on a channel (the EU
// platform), stock reserved per lot while the customer pays through Stripe,
// the webhook that moves orders to paid, expired or refunded, fulfilment,
// and settlement of the proceeds to the cooperatives.
//
// Invariants:
//   - Prices are recomputed here from the catalogue; a client's totals are
//     never used.
//   - An order reserves its units at creation (FEFO lots, inside
//     Atomically), so 200 customers racing for 100 jars reserve at most 100.
//     A reservation lives 30 minutes; the sweeper releases it and the order
//     expires, and an expired order is never marked paid (a late payment is
//     refunded).
//   - Each Stripe event is applied once: its ID is stored in the same atomic
//     step as the order change, and a replay changes nothing. The order is
//     found from the session's client_reference_id (or metadata.order_id),
//     never from the session ID alone.
//   - The same Idempotency-Key with the same body returns the same order.
//   - The customer's e-mails are written by Config.Letters (web/i18n writes
//     them from the catalogues); the outbox stores them with the change they
//     announce.
//   - Members' pay (members.go) divides every settlement entry's producer
//     share among the members of its lots by their shares, to the minor
//     unit: members' amounts + the cooperative's retention = the entry's
//     producer share, exactly; a refund or a return reverses its sale's
//     division. A member's balance = earnings − retention − advances −
//     payouts; a payout run is recorded once and two runs at once pay a
//     balance once (payouts.go). The impact report is computed from the
//     members' statements, so it always matches them (impact.go).
//
// stripe.go is the only file that imports stripe-go, behind the Payments
// interface; store.go is the only file that talks to MongoDB.
package orders
