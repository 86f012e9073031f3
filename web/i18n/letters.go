package i18n

import (
	"strings"

	"github.com/terroir-coop/terroir/orders"
)

// Letters writes the customer e-mails of orders (orders.Letters) from the
// catalogues. An order does not record its customer's language, so a
// letter is written in French and in English, the languages of the
// platform's customers in Europe: both subjects on one line, both texts
// one after the other.
type Letters struct {
	Bundle    *Bundle
	Languages []string // default fr and en
}

func (w Letters) languages() []*Locale {
	tags := w.Languages
	if len(tags) == 0 {
		tags = []string{"fr", "en"}
	}
	out := make([]*Locale, 0, len(tags))
	for _, t := range tags {
		out = append(out, w.Bundle.Locale(t))
	}
	return out
}

// Paid is the confirmation of a payment.
func (w Letters) Paid(o orders.Order, link string) (string, string) {
	return w.write(func(l *Locale) (string, string) {
		return l.T("email.paid.subject", o.Number()),
			l.T("email.paid.body", o.Customer.Name, l.Money(o.Total.Amount, o.Total.Currency), lines(l, o), link)
	})
}

// Shipped tells the customer the parcel left, with its tracking number.
func (w Letters) Shipped(o orders.Order, link string) (string, string) {
	return w.write(func(l *Locale) (string, string) {
		return l.T("email.shipped.subject", o.Number()), l.T("email.shipped.body", o.Customer.Name, o.Tracking, lines(l, o), link)
	})
}

func (w Letters) write(each func(*Locale) (string, string)) (string, string) {
	var subjects, bodies []string
	for _, l := range w.languages() {
		s, b := each(l)
		subjects = append(subjects, s)
		bodies = append(bodies, b+"\n"+l.T("email.signature")+"\n")
	}
	return strings.Join(subjects, " / "), strings.Join(bodies, "\n— — —\n\n")
}

// lines lists an order's lines and the lots they came from.
func lines(l *Locale, o orders.Order) string {
	var b strings.Builder
	for _, ln := range o.Lines {
		b.WriteString(l.T("email.line", ln.Units, o.Names[ln.SKU], ln.SKU))
		for _, lu := range ln.Lots {
			b.WriteString(l.T("email.line_lot", lu.Lot))
		}
		b.WriteString("\n")
	}
	return b.String()
}
