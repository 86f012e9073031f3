package orders

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
)

// Settlement credits each cooperative its agreed share of every sale line,
// at a till or online, and reports it per month:
//
//	gross          what the customer paid for the line
//	producer share the cooperative's part (catalog.Share: fixed per unit or a percentage, rounded down)
//	shop margin    gross − producer share, the channel's part
//	fees           payment fees of online orders, borne by the channel's margin
//	net due        producer share − advance repayment − payouts already made
//
// Statements are computed from the sales and orders themselves, so they
// always reconcile with what was sold: Σ gross = Σ producer share + Σ shop
// margin, to the minor unit, per currency. Refunded orders credit nothing.

// Online payment fee rule: Stripe's standard pricing for EEA cards, 1.5 %
// + 0.25 EUR per payment, rounded up to the cent. Allocated over an order's
// lines in proportion to their amounts (largest remainder), so the lines'
// fees add up to the order's fee exactly.
const (
	onlineFeeBasisPoints = 150
	onlineFeeFixed       = 25
)

// OrderFee is the payment fee of an online order's total.
func OrderFee(total int64) int64 {
	return (total*onlineFeeBasisPoints+9_999)/10_000 + onlineFeeFixed
}

// allocate splits amount over weights by largest remainder: the parts add
// up to amount exactly.
func allocate(amount int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	var sum int64
	for _, w := range weights {
		sum += w
	}
	if sum == 0 {
		return out
	}
	type rem struct {
		i int
		r int64
	}
	var rems []rem
	var given int64
	for i, w := range weights {
		out[i] = amount * w / sum
		given += out[i]
		rems = append(rems, rem{i, amount * w % sum})
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.r > b.r:
			return -1
		case a.r < b.r:
			return 1
		}
		return 0
	})
	for k := int64(0); k < amount-given; k++ {
		out[rems[k].i]++
	}
	return out
}

// StatementLine is one sale line of a cooperative's product.
type StatementLine struct {
	Date          string   `json:"date"`
	Channel       string   `json:"channel"`
	Source        string   `json:"source"` // till or online
	Ref           string   `json:"ref"`    // sale or order ID
	SKU           string   `json:"sku"`
	Units         int64    `json:"units"`
	Lots          []string `json:"lots"`
	Currency      string   `json:"currency"`
	Gross         int64    `json:"gross"`
	ProducerShare int64    `json:"producer_share"`
	ShopMargin    int64    `json:"shop_margin"`
	Fees          int64    `json:"fees"`
}

// StatementTotals are one currency's totals.
type StatementTotals struct {
	Currency         string `json:"currency"`
	Units            int64  `json:"units"`
	Gross            int64  `json:"gross"`
	ProducerShare    int64  `json:"producer_share"`
	ShopMargin       int64  `json:"shop_margin"`
	Fees             int64  `json:"fees"`
	AdvanceRepayment int64  `json:"advance_repayment"`
	Payouts          int64  `json:"payouts"`
	NetDue           int64  `json:"net_due"`
	AdvanceLeft      int64  `json:"advance_outstanding"`
}

// Statement is a cooperative's settlement for one month.
type Statement struct {
	Cooperative string            `json:"cooperative"`
	Month       string            `json:"month"` // YYYY-MM
	Closed      bool              `json:"closed"`
	Lines       []StatementLine   `json:"lines"`
	Totals      []StatementTotals `json:"totals"`
}

// Advance is a repayable advance from the revolving fund.
type Advance struct {
	ID          string    `json:"id" bson:"_id"`
	Cooperative string    `json:"cooperative" bson:"coop"`
	Amount      int64     `json:"amount" bson:"amount"`
	Currency    string    `json:"currency" bson:"currency"`
	RatePercent int64     `json:"repayment_percent" bson:"rate"` // of each month's producer share
	Note        string    `json:"note" bson:"note"`
	GrantedAt   time.Time `json:"granted_at" bson:"granted_at"`
}

// Repayment is an advance repaid by deduction when a month is closed.
type Repayment struct {
	ID          string    `json:"id" bson:"_id"` // coop|month|currency: a month is closed once
	Cooperative string    `json:"cooperative" bson:"coop"`
	Month       string    `json:"month" bson:"month"`
	Currency    string    `json:"currency" bson:"currency"`
	Amount      int64     `json:"amount" bson:"amount"`
	At          time.Time `json:"at" bson:"at"`
}

// Payout is money paid to a cooperative against a month.
type Payout struct {
	ID          string    `json:"id" bson:"_id"`
	Cooperative string    `json:"cooperative" bson:"coop"`
	Month       string    `json:"month" bson:"month"`
	Amount      int64     `json:"amount" bson:"amount"`
	Currency    string    `json:"currency" bson:"currency"`
	Reference   string    `json:"reference" bson:"reference"`
	At          time.Time `json:"at" bson:"at"`
}

func parseMonth(month string) (time.Time, time.Time, error) {
	from, err := time.Parse("2006-01", month)
	if err != nil {
		return time.Time{}, time.Time{}, problem.Field("month", "must be a month as YYYY-MM")
	}
	return from, from.AddDate(0, 1, 0), nil
}

// Statement computes a cooperative's statement for a month. Its manager,
// auditors in scope and the admin may read it.
func (s *Service) Statement(ctx context.Context, actor access.Actor, coop, month string) (Statement, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return Statement{}, err
	}
	from, to, err := parseMonth(month)
	if err != nil {
		return Statement{}, err
	}
	st := Statement{Cooperative: coop, Month: month, Lines: []StatementLine{}}
	products := map[string]catalog.Product{}
	productOf := func(sku string) (catalog.Product, bool) {
		if p, ok := products[sku]; ok {
			return p, true
		}
		p, err := s.catalog.Product(ctx, sku)
		if err != nil {
			return catalog.Product{}, false
		}
		products[sku] = p
		return p, true
	}
	sales, err := s.stock.SalesBetween(ctx, from, to)
	if err != nil {
		return Statement{}, err
	}
	for _, sale := range sales {
		for _, l := range sale.Lines {
			p, ok := productOf(l.SKU)
			if !ok || p.Cooperative != coop {
				continue
			}
			st.Lines = append(st.Lines, line(sale.At, sale.Shop, "till", sale.ID, l.SKU, l.Units, l.Amount, sale.Currency, lotsOf(l.Lots), p.ShareIn(sale.Shop), 0))
		}
	}
	orders, err := s.store.paidBetween(ctx, from, to)
	if err != nil {
		return Statement{}, err
	}
	for _, o := range orders {
		weights := make([]int64, len(o.Lines))
		for i, l := range o.Lines {
			weights[i] = l.Amount
		}
		fees := allocate(OrderFee(o.Total.Amount), weights)
		for i, l := range o.Lines {
			p, ok := productOf(l.SKU)
			if !ok || p.Cooperative != coop {
				continue
			}
			st.Lines = append(st.Lines, line(o.PaidAt, o.Channel, "online", o.ID, l.SKU, l.Units, l.Amount, o.Total.Currency, lotsOf(l.Lots), p.ShareIn(o.Channel), fees[i]))
		}
	}
	slices.SortStableFunc(st.Lines, func(a, b StatementLine) int { return strings.Compare(a.Date+a.Ref, b.Date+b.Ref) })
	return st, s.totals(ctx, &st)
}

func lotsOf(lus []shops.LotUnits) []string {
	out := make([]string, 0, len(lus))
	for _, lu := range lus {
		out = append(out, fmt.Sprintf("%s×%d", lu.Lot, lu.Units))
	}
	return out
}

func line(at time.Time, channel, source, ref, sku string, units, gross int64, currency string, lots []string, share catalog.Share, fees int64) StatementLine {
	producer := share.ProducerShare(units, gross)
	return StatementLine{Date: at.UTC().Format(time.DateOnly), Channel: channel, Source: source, Ref: ref, SKU: sku, Units: units,
		Lots: lots, Currency: currency, Gross: gross, ProducerShare: producer, ShopMargin: gross - producer, Fees: fees}
}

// totals adds up the lines per currency, then the advance repayment (the
// recorded one when the month is closed, else the proposed one) and payouts.
func (s *Service) totals(ctx context.Context, st *Statement) error {
	by := map[string]*StatementTotals{}
	var currencies []string
	get := func(cur string) *StatementTotals {
		t := by[cur]
		if t == nil {
			t = &StatementTotals{Currency: cur}
			by[cur] = t
			currencies = append(currencies, cur)
		}
		return t
	}
	for _, l := range st.Lines {
		t := get(l.Currency)
		t.Units += l.Units
		t.Gross += l.Gross
		t.ProducerShare += l.ProducerShare
		t.ShopMargin += l.ShopMargin
		t.Fees += l.Fees
	}
	advances, err := s.store.advancesOf(ctx, st.Cooperative)
	if err != nil {
		return err
	}
	repaid, err := s.store.repaymentsOf(ctx, st.Cooperative)
	if err != nil {
		return err
	}
	payouts, err := s.store.payoutsOf(ctx, st.Cooperative, st.Month)
	if err != nil {
		return err
	}
	for _, a := range advances {
		get(a.Currency)
	}
	for _, p := range payouts {
		get(p.Currency).Payouts += p.Amount
	}
	slices.Sort(currencies)
	for _, cur := range currencies {
		t := by[cur]
		var granted, rate, back int64
		for _, a := range advances {
			if a.Currency == cur {
				granted += a.Amount
				rate = max(rate, a.RatePercent)
			}
		}
		closedHere := false
		for _, r := range repaid {
			if r.Currency != cur {
				continue
			}
			if r.Month == st.Month {
				t.AdvanceRepayment, closedHere = r.Amount, true
				st.Closed = true
			} else if r.Month < st.Month {
				back += r.Amount
			}
		}
		outstanding := max(granted-back, 0)
		if !closedHere {
			t.AdvanceRepayment = min(outstanding, t.ProducerShare*rate/100)
		}
		t.AdvanceLeft = outstanding - t.AdvanceRepayment
		t.NetDue = t.ProducerShare - t.AdvanceRepayment - t.Payouts
		st.Totals = append(st.Totals, *t)
	}
	if st.Totals == nil {
		st.Totals = []StatementTotals{}
	}
	return nil
}

// CloseStatement records the month's advance repayments, so later
// statements see what is still outstanding. A month closes once.
func (s *Service) CloseStatement(ctx context.Context, actor access.Actor, coop, month string) (Statement, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Statement{}, err
	}
	var st Statement
	err := s.db.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if st, err = s.Statement(ctx, actor, coop, month); err != nil {
			return err
		}
		if st.Closed {
			return problem.New(problem.Conflict, "%s is already closed for %s", month, st.Cooperative)
		}
		for _, t := range st.Totals {
			r := Repayment{ID: st.Cooperative + "|" + month + "|" + t.Currency, Cooperative: st.Cooperative, Month: month,
				Currency: t.Currency, Amount: t.AdvanceRepayment, At: s.now().UTC()}
			if err := s.store.insertRepayment(ctx, r); err != nil {
				return err
			}
		}
		st.Closed = true
		return nil
	})
	return st, err
}

// GrantAdvance records an advance from the revolving fund. Admins only.
func (s *Service) GrantAdvance(ctx context.Context, actor access.Actor, coop string, amount catalog.Money, ratePercent int64, note string) (Advance, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Advance{}, err
	}
	if err := amount.Validate("amount"); err != nil {
		return Advance{}, err
	}
	if amount.Amount == 0 {
		return Advance{}, problem.Field("amount.amount", "must be positive")
	}
	if ratePercent <= 0 || ratePercent > 100 {
		return Advance{}, problem.Field("repayment_percent", "must be 1 to 100 (the part of each month's producer share deducted)")
	}
	a := Advance{ID: id.New("adv"), Cooperative: id.NormalizeCode(coop), Amount: amount.Amount,
		Currency: amount.Currency, RatePercent: ratePercent, Note: strings.TrimSpace(note), GrantedAt: s.now().UTC()}
	return a, s.store.insertAdvance(ctx, a)
}

// RecordPayout records money paid to a cooperative against a month.
func (s *Service) RecordPayout(ctx context.Context, actor access.Actor, coop, month string, amount catalog.Money, reference string) (Payout, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Payout{}, err
	}
	if _, _, err := parseMonth(month); err != nil {
		return Payout{}, err
	}
	if err := amount.Validate("amount"); err != nil {
		return Payout{}, err
	}
	if err := problem.RequireText("reference", reference, 100); err != nil {
		return Payout{}, err
	}
	p := Payout{ID: id.New("pay"), Cooperative: id.NormalizeCode(coop), Month: month, Amount: amount.Amount,
		Currency: amount.Currency, Reference: strings.TrimSpace(reference), At: s.now().UTC()}
	return p, s.store.insertPayout(ctx, p)
}
