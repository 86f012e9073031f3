package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/web/accounts"
	"github.com/terroir-coop/terroir/web/i18n"
)

// The demo's online orders: one in each state the platform manager works
// with — paid and waiting to be packed, shipped, delivered, refunded — and
// their e-mails in the outbox, so the platform pages tell their story on a
// laptop with no Stripe account.
//
// They are placed through the orders service like any order; only the
// payment provider differs: demoPayments, used by this seeding alone (the
// server itself keeps the configured provider, and without a key answers
// that online payment is unavailable). Each payment arrives as the verified
// event Stripe would send, with the order's own amount.

// demoPayments is the payment provider of the demo's seeded orders.
type demoPayments struct{}

func (demoPayments) Available() bool { return true }

func (demoPayments) CreateCheckout(_ context.Context, req orders.CheckoutRequest) (orders.Checkout, error) {
	return orders.Checkout{SessionID: "cs_demo_" + req.OrderID, URL: req.SuccessURL}, nil
}

func (demoPayments) ExpireCheckout(context.Context, string) error { return nil }

func (demoPayments) Refund(_ context.Context, _, orderID string) (string, error) {
	return "re_demo_" + orderID, nil
}

func (demoPayments) ParseWebhook([]byte, string) (orders.Event, error) {
	return orders.Event{}, errors.New("the demo's payment provider receives no webhooks")
}

type demoOrder struct {
	customer orders.Customer
	lines    []orders.OrderLine
	then     string // "paid", "shipped", "delivered", "refunded"
	tracking string
}

var demoOrders = []demoOrder{
	{customer: orders.Customer{Email: "claire.martin@example.fr", Name: "Claire Martin",
		Address: orders.Address{Line1: "3 rue des Lilas", PostalCode: "69003", City: "Lyon", Country: "FR"}},
		lines: []orders.OrderLine{{SKU: "SAF-TAL-1G", Units: 2}, {SKU: "ARG-250ML", Units: 1}}, then: "paid"},
	{customer: orders.Customer{Email: "jan.devries@example.nl", Name: "Jan de Vries",
		Address: orders.Address{Line1: "Prinsengracht 112", PostalCode: "1015 EA", City: "Amsterdam", Country: "NL"}},
		lines: []orders.OrderLine{{SKU: "PAM-ROMARIN-10ML", Units: 3}}, then: "paid"},
	{customer: orders.Customer{Email: "sofia.rossi@example.it", Name: "Sofia Rossi",
		Address: orders.Address{Line1: "Via Garibaldi 8", PostalCode: "10122", City: "Torino", Country: "IT"}},
		lines: []orders.OrderLine{{SKU: "SAF-TAL-1G", Units: 1}}, then: "shipped", tracking: "6A12345678901"},
	{customer: orders.Customer{Email: "lea.dubois@example.be", Name: "Léa Dubois",
		Address: orders.Address{Line1: "Rue Haute 41", PostalCode: "1000", City: "Bruxelles", Country: "BE"}},
		lines: []orders.OrderLine{{SKU: "ARG-250ML", Units: 2}}, then: "delivered", tracking: "6A98765432109"},
	{customer: orders.Customer{Email: "marc.lefebvre@example.fr", Name: "Marc Lefebvre",
		Address: orders.Address{Line1: "12 avenue Jean Jaurès", PostalCode: "13005", City: "Marseille", Country: "FR"}},
		lines: []orders.OrderLine{{SKU: "SAF-TAL-1G", Units: 1}}, then: "refunded"},
}

// seedDemoOrders places, pays and moves the demo's orders on the EU platform.
func seedDemoOrders(ctx context.Context, a *app, publicURL string) error {
	bundle, err := i18n.Load()
	if err != nil {
		return err
	}
	svc := orders.NewService(orders.NewStore(a.store), a.catalog, a.shops, a.stock, demoPayments{},
		orders.Config{PublicURL: publicURL, Letters: i18n.Letters{Bundle: bundle}}, time.Now)
	sys := accounts.System
	for i, d := range demoOrders {
		placed, _, err := svc.Create(ctx, orders.NewOrder{Channel: "EU-PLATFORM", Lines: d.lines, Customer: d.customer}, "")
		if err != nil {
			return fmt.Errorf("demo order of %s: %w", d.customer.Name, err)
		}
		o := placed.Order
		err = svc.HandleEvent(ctx, orders.Event{ID: fmt.Sprintf("evt_demo_%d", i+1), Type: orders.EventCheckoutCompleted,
			OrderID: o.ID, SessionID: o.SessionID, PaymentIntent: fmt.Sprintf("pi_demo_%d", i+1), Created: time.Now(),
			PaymentStatus: "paid", AmountTotal: o.Total.Amount, Currency: o.Total.Currency})
		if err != nil {
			return fmt.Errorf("demo payment of %s: %w", d.customer.Name, err)
		}
		switch d.then {
		case "shipped", "delivered":
			if _, err := svc.Ship(ctx, sys, o.ID, d.tracking); err != nil {
				return fmt.Errorf("demo shipping to %s: %w", d.customer.Name, err)
			}
			if d.then == "delivered" {
				if _, err := svc.Deliver(ctx, sys, o.ID); err != nil {
					return fmt.Errorf("demo delivery to %s: %w", d.customer.Name, err)
				}
			}
		case "refunded":
			if _, err := svc.Refund(ctx, sys, o.ID, true, "pot arrivé fêlé, remboursé et remis en rayon"); err != nil {
				return fmt.Errorf("demo refund to %s: %w", d.customer.Name, err)
			}
		}
	}
	return nil
}
