package orders

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
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

// OrderNumber is the number of the order the e-mail is about (id.Number).
func (e Email) OrderNumber() string { return id.Number(e.Order) }

func orderLink(publicURL string, o Order) string {
	return publicURL + "/orders/" + o.ID + "?token=" + o.Token
}

// Letters writes the e-mails a customer receives. The order carries what
// they say (lines, lots, total, tracking); link is the order page.
type Letters interface {
	Paid(o Order, link string) (subject, body string)
	Shipped(o Order, link string) (subject, body string)
}

// plainLetters is the English text used when no Letters is configured
// (the package's own tests); the server configures the catalogue's.
type plainLetters struct{}

func (plainLetters) Paid(o Order, link string) (string, string) {
	return "Your order " + o.Number() + " is paid", fmt.Sprintf("Hello %s,\n\nYour payment of %s has been received.\n\n%s\nFollow the order: %s\n", o.Customer.Name, o.Total.String(), linesText(o), link)
}

func (plainLetters) Shipped(o Order, link string) (string, string) {
	return "Your order " + o.Number() + " has shipped", fmt.Sprintf("Hello %s,\n\nTracking number: %s\n\n%s\nFollow the order: %s\n", o.Customer.Name, o.Tracking, linesText(o), link)
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

func (s *Service) letters() Letters {
	if s.cfg.Letters != nil {
		return s.cfg.Letters
	}
	return plainLetters{}
}

func (s *Service) confirmationEmail(o Order, now time.Time) Email {
	subject, body := s.letters().Paid(o, orderLink(s.cfg.PublicURL, o))
	return Email{ID: id.New("eml"), To: o.Customer.Email, Order: o.ID, Channel: o.Channel, CreatedAt: now.UTC(), Subject: subject, Body: body}
}

func (s *Service) shipmentEmail(o Order, now time.Time) Email {
	subject, body := s.letters().Shipped(o, orderLink(s.cfg.PublicURL, o))
	return Email{ID: id.New("eml"), To: o.Customer.Email, Order: o.ID, Channel: o.Channel, CreatedAt: now.UTC(), Subject: subject, Body: body}
}

// Outbox lists a channel's emails, newest first.
func (s *Service) Outbox(ctx context.Context, actor access.Actor, channel string, page mongodb.Page) ([]Email, error) {
	channel = id.NormalizeCode(channel)
	if err := actor.ManageShop(channel); err != nil {
		return nil, err
	}
	return s.store.outbox(ctx, channel, page.Normalized())
}
