package orders

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/traceability"
)

// Email is a message waiting in the outbox. Sending is a later adapter; the
// outbox is written in the same atomic step as the change it announces, so
// no confirmation is lost and none is sent for a change that did not happen.
type Email struct {
	ID        string    `json:"id" bson:"_id"`
	To        string    `json:"to" bson:"to"`
	Subject   string    `json:"subject" bson:"subject"`
	Body      string    `json:"body" bson:"body"`
	Order     string    `json:"order" bson:"order"`
	Channel   string    `json:"channel" bson:"channel"`
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
	SentAt    time.Time `json:"sent_at,omitzero" bson:"sent_at,omitempty"`
}

func orderLink(publicURL string, o Order) string {
	return publicURL + "/orders/" + o.ID + "?token=" + o.Token
}

func linesText(o Order) string {
	var b strings.Builder
	for _, l := range o.Lines {
		fmt.Fprintf(&b, "- %d × %s (%s)", l.Units, o.Names[l.SKU], l.SKU)
		for _, lu := range l.Lots {
			fmt.Fprintf(&b, " — lot %s", lu.Lot)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func confirmationEmail(o Order, publicURL string, now time.Time) Email {
	return Email{ID: traceability.NewID("eml"), To: o.Customer.Email, Order: o.ID, Channel: o.Channel, CreatedAt: now.UTC(),
		Subject: "Votre commande " + o.ID + " est payée / Your order is paid",
		Body: fmt.Sprintf("Bonjour %s,\n\nMerci ! Votre paiement de %s est reçu.\n\n%s\nSuivre la commande : %s\n\nTerroir — coopératives du Souss-Massa-Drâa\n",
			o.Customer.Name, o.Total.String(), linesText(o), orderLink(publicURL, o))}
}

func shipmentEmail(o Order, publicURL string, now time.Time) Email {
	return Email{ID: traceability.NewID("eml"), To: o.Customer.Email, Order: o.ID, Channel: o.Channel, CreatedAt: now.UTC(),
		Subject: "Votre commande " + o.ID + " est expédiée / Your order has shipped",
		Body: fmt.Sprintf("Bonjour %s,\n\nVotre colis est parti. Numéro de suivi : %s\n\n%s\nSuivre la commande : %s\n\nTerroir\n",
			o.Customer.Name, o.Tracking, linesText(o), orderLink(publicURL, o))}
}

// Outbox lists a channel's emails, newest first.
func (s *Service) Outbox(ctx context.Context, actor access.Actor, channel string, page traceability.Page) ([]Email, error) {
	channel = traceability.NormalizeCode(channel)
	if err := actor.ManageShop(channel); err != nil {
		return nil, err
	}
	return s.store.outbox(ctx, channel, page.Normalized())
}
