package orders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"

	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
)

// Fair shares of scarce stock. Without them one customer could reserve a
// whole shelf for half an hour by placing orders and never paying (100
// orders in half a second took all 60 jars). Two rules:
//
//   - A customer may hold at most a product's unpaid limit of its units in
//     unpaid orders. A customer is recognised by e-mail and, separately, by
//     delivery address (changing one of them is not enough to start over).
//   - When a product is nearly sold out (after the reservation, fewer free
//     units than the limit or a quarter of the shelf), the order holds its
//     units for Config.ContendedHold instead of ReservationTTL, and its
//     payment page is closed when the hold ends.
//
// A customer's pending orders are listed in a hold document per channel
// and key (hashed e-mail, hashed address): the list is read and pruned when
// the customer orders again, and an ID whose order is no longer pending, or
// no longer exists (an order withdrawn when Stripe was down), simply stops
// counting, so the list needs no upkeep when orders are paid or expire.

// maxPendingPerCustomer bounds a hold list (and the reads it costs).
const maxPendingPerCustomer = 50

// holdKey is one of a customer's identities on a channel.
type holdKey struct {
	id      string   // hold document _id: channel|e:… or channel|a:…
	pending []string // the pending orders still listed
	held    map[string]int64
}

func customerKeys(channel string, c Customer) []string {
	norm := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:12])
	}
	addr := norm(c.Address.Line1) + "|" + norm(c.Address.PostalCode) + "|" + strings.ToUpper(c.Address.Country)
	return []string{channel + "|e:" + hash(strings.ToLower(c.Email)), channel + "|a:" + hash(addr)}
}

// checkUnpaidLimits refuses an order that would take a customer over a
// product's unpaid limit, and returns the customer's hold lists (callers
// hold Atomically and save them with the new order).
func (s *Service) checkUnpaidLimits(ctx context.Context, channel string, c Customer, lines []OrderLine, limits map[string]int64) ([]holdKey, error) {
	var keys []holdKey
	for _, id := range customerKeys(channel, c) {
		ids, err := s.store.holdList(ctx, id)
		if err != nil {
			return nil, err
		}
		k := holdKey{id: id, held: map[string]int64{}}
		for _, oid := range ids {
			o, err := s.store.order(ctx, oid)
			if err != nil || o.Status != StatusPendingPayment {
				continue
			}
			k.pending = append(k.pending, oid)
			for _, l := range o.Lines {
				k.held[l.SKU] += l.Units
			}
		}
		if len(k.pending) >= maxPendingPerCustomer {
			return nil, problem.New(problem.Conflict, "you have %d unpaid orders waiting; pay or cancel them before ordering again", len(k.pending))
		}
		keys = append(keys, k)
	}
	for i, l := range lines {
		sku := strings.ToUpper(strings.TrimSpace(l.SKU))
		if sh, err := s.stock.Shelf(ctx, channel, sku); err == nil && sh.Units-sh.Reserved < l.Units {
			continue // not in stock anyway: the reservation says so, which is what the customer needs to know
		}
		limit := limits[sku]
		for _, k := range keys {
			if held := k.held[sku]; held+l.Units > limit {
				return nil, &problem.Error{Code: problem.Conflict, Field: fmt.Sprintf("lines[%d].units", i),
					Message: fmt.Sprintf("you already hold %d of %s in unpaid orders, and one customer may hold at most %d until they are paid: pay the waiting order (its link is in your e-mail) or let it expire, then order again", held, sku, limit)}
			}
		}
	}
	return keys, nil
}

// contended reports whether a product of the order is nearly sold out on
// the channel once the order's units are reserved.
func (s *Service) contended(ctx context.Context, channel string, lines []shops.Line, limits map[string]int64) (bool, error) {
	for _, l := range lines {
		sh, err := s.stock.Shelf(ctx, channel, l.SKU)
		if err != nil {
			return false, err
		}
		free := sh.Units - sh.Reserved
		if free < limits[l.SKU] || free*4 < sh.Units {
			return true, nil
		}
	}
	return false, nil
}
