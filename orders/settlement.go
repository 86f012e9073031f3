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
// margin, to the minor unit, per currency. Every line is an entry dated
// when it happened: a sale (a till sale, an online order when it is paid),
// a refund (an online order's money given back, the sale's line reversed;
// the payment fee is not returned by Stripe and stays with the channel) or
// a return (units brought back to a till, their price reversed).
//
// Closed months stay closed. A month can be closed once it has ended
// (UTC); closing records the statement as it stands, and a closed month is
// always shown from that record (only payouts recorded against it since
// lower what it says is still due). An entry dated in a month that was
// already closed (a refund or a return of a closed month's sale is dated
// when it happens, so this is a webhook or a sale in flight across the
// close) is booked in the next open month, marked with the month it is
// dated in, and the closed statement lists it as booked there.

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

// Entry kinds of a statement line.
const (
	EntrySale   = "sale"   // a till sale, or an online order when paid
	EntryRefund = "refund" // an online order refunded: its line reversed
	EntryReturn = "return" // units brought back to a till: their price reversed
)

// StatementLine is one entry about a cooperative's product. Amounts are
// negative for refunds and returns.
type StatementLine struct {
	// Entry identifies the line across statements (kind|ref|sku, plus the
	// movement for a return), so a closed month's record can tell which
	// entries it holds.
	Entry         string   `json:"entry" bson:"entry"`
	Kind          string   `json:"kind" bson:"kind"`
	Date          string   `json:"date" bson:"date"`
	Channel       string   `json:"channel" bson:"channel"`
	Source        string   `json:"source" bson:"source"` // till or online
	Ref           string   `json:"ref" bson:"ref"`       // sale or order ID
	SKU           string   `json:"sku" bson:"sku"`
	Units         int64    `json:"units" bson:"units"`
	Lots          []string `json:"lots" bson:"lots"`
	Currency      string   `json:"currency" bson:"currency"`
	Gross         int64    `json:"gross" bson:"gross"`
	ProducerShare int64    `json:"producer_share" bson:"producer_share"`
	ShopMargin    int64    `json:"shop_margin" bson:"shop_margin"`
	Fees          int64    `json:"fees" bson:"fees"`
	// LateFrom is the closed month (YYYY-MM) the entry is dated in, when it
	// is booked in this later, open month instead.
	LateFrom string `json:"late_from,omitempty" bson:"late_from,omitempty"`
}

// LaterEntry is an entry dated in a closed month but booked in a later one.
type LaterEntry struct {
	StatementLine `bson:"inline"`
	BookedIn      string `json:"booked_in" bson:"booked_in"`
}

// StatementTotals are one currency's totals.
type StatementTotals struct {
	Currency         string `json:"currency" bson:"currency"`
	Units            int64  `json:"units" bson:"units"`
	Gross            int64  `json:"gross" bson:"gross"`
	ProducerShare    int64  `json:"producer_share" bson:"producer_share"`
	ShopMargin       int64  `json:"shop_margin" bson:"shop_margin"`
	Fees             int64  `json:"fees" bson:"fees"`
	AdvanceRepayment int64  `json:"advance_repayment" bson:"advance_repayment"`
	Payouts          int64  `json:"payouts" bson:"payouts"`
	NetDue           int64  `json:"net_due" bson:"net_due"`
	AdvanceLeft      int64  `json:"advance_outstanding" bson:"advance_outstanding"`
}

// Statement is a cooperative's settlement for one month.
type Statement struct {
	Cooperative string            `json:"cooperative" bson:"coop"`
	Month       string            `json:"month" bson:"month"` // YYYY-MM
	Closed      bool              `json:"closed" bson:"closed"`
	ClosedAt    time.Time         `json:"closed_at,omitzero" bson:"closed_at,omitempty"`
	Lines       []StatementLine   `json:"lines" bson:"lines"`
	Totals      []StatementTotals `json:"totals" bson:"totals"`
	// LaterEntries (closed months only) are entries dated in this month
	// that happened after it was closed, and the month that books them.
	LaterEntries []LaterEntry `json:"later_entries,omitempty" bson:"-"`
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
// auditors in scope and the admin may read it. A closed month is its
// record, whatever happened since.
func (s *Service) Statement(ctx context.Context, actor access.Actor, coop, month string) (Statement, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ReadCoop(coop); err != nil {
		return Statement{}, err
	}
	if _, _, err := parseMonth(month); err != nil {
		return Statement{}, err
	}
	return s.statementOf(ctx, newLedger(s, coop, nil), month)
}

// statementOf is the cooperative's statement for a month, read through l.
func (s *Service) statementOf(ctx context.Context, l *ledger, month string) (Statement, error) {
	coop := l.coop
	if st, closed, err := s.store.closedStatement(ctx, coop, month); err != nil {
		return Statement{}, err
	} else if closed {
		if err := s.payoutsSince(ctx, &st); err != nil {
			return Statement{}, err
		}
		return st, l.laterEntries(ctx, &st)
	}
	st := Statement{Cooperative: coop, Month: month, Lines: []StatementLine{}}
	lines, err := l.entries(ctx, month)
	if err != nil {
		return Statement{}, err
	}
	st.Lines = append(st.Lines, lines...)
	late, err := l.lateEntries(ctx, month)
	if err != nil {
		return Statement{}, err
	}
	st.Lines = append(st.Lines, late...)
	slices.SortStableFunc(st.Lines, func(a, b StatementLine) int { return strings.Compare(a.Date+a.Entry, b.Date+b.Entry) })
	return st, s.totals(ctx, &st)
}

// payoutsSince brings a closed statement's payouts up to date: its entries
// and totals are frozen, but paying what it says is due is what closing it
// is for, so payouts recorded against it lower its net due.
func (s *Service) payoutsSince(ctx context.Context, st *Statement) error {
	payouts, err := s.store.payoutsOf(ctx, st.Cooperative, st.Month)
	if err != nil {
		return err
	}
	for i := range st.Totals {
		t := &st.Totals[i]
		t.Payouts = 0
		for _, p := range payouts {
			if p.Currency == t.Currency {
				t.Payouts += p.Amount
			}
		}
		t.NetDue = t.ProducerShare - t.AdvanceRepayment - t.Payouts
	}
	return nil
}

// ledger reads one cooperative's entries, remembering what it has read.
type ledger struct {
	s        *Service
	coop     string
	products map[string]catalog.Product
	byMonth  map[string][]StatementLine
	closed   map[string]*Statement // nil: open
	// details says, per entry, what dividing it among the members needs.
	details map[string]entryDetail
	// source, when set, holds the sales and orders of a period already
	// read (members' statements and the impact report read a season once
	// for every month and cooperative).
	source *periodSales
}

// entryDetail is what dividing an entry among the members of its lots needs
// beyond its statement line: the lots its units came from, and when its
// sale happened (a refund or a return reverses its sale's division).
type entryDetail struct {
	lots   []shops.LotUnits
	saleAt time.Time
}

func newLedger(s *Service, coop string, source *periodSales) *ledger {
	return &ledger{s: s, coop: coop, products: map[string]catalog.Product{}, byMonth: map[string][]StatementLine{},
		closed: map[string]*Statement{}, details: map[string]entryDetail{}, source: source}
}

// periodSales are the network's till sales, till returns and online orders
// paid or refunded in [from, to).
type periodSales struct {
	from, to time.Time
	sales    []shops.Sale
	returns  []shops.SaleReturn
	paid     []Order
	refunded []Order
	// products is the whole catalogue, read once: a period's sales name
	// most of it, and every cooperative's ledger asks for each SKU.
	products map[string]catalog.Product
}

// readPeriod reads the sales and orders of [from, to) and the catalogue,
// for statements of many months or cooperatives.
func (s *Service) readPeriod(ctx context.Context, from, to time.Time) (*periodSales, error) {
	p, err := s.readSales(ctx, from, to)
	if err != nil {
		return nil, err
	}
	all, err := s.catalog.AllProducts(ctx)
	if err != nil {
		return nil, err
	}
	p.products = make(map[string]catalog.Product, len(all))
	for _, pr := range all {
		p.products[pr.SKU] = pr
	}
	return p, nil
}

// readSales reads the sales and orders of [from, to): one pass over each
// collection, whatever the length of the period.
func (s *Service) readSales(ctx context.Context, from, to time.Time) (*periodSales, error) {
	p := &periodSales{from: from, to: to}
	var err error
	if p.sales, err = s.stock.SalesBetween(ctx, from, to); err != nil {
		return nil, err
	}
	if p.returns, err = s.stock.ReturnsBetween(ctx, from, to); err != nil {
		return nil, err
	}
	if p.paid, err = s.store.paidBetween(ctx, from, to); err != nil {
		return nil, err
	}
	if p.refunded, err = s.store.refundedBetween(ctx, from, to); err != nil {
		return nil, err
	}
	return p, nil
}

// within is the part of p in [from, to), which p covers.
func (p *periodSales) within(from, to time.Time) *periodSales {
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	out := &periodSales{from: from, to: to, products: p.products}
	for _, x := range p.sales {
		if in(x.At) {
			out.sales = append(out.sales, x)
		}
	}
	for _, x := range p.returns {
		if in(x.Movement.At) {
			out.returns = append(out.returns, x)
		}
	}
	for _, o := range p.paid {
		if in(o.PaidAt) {
			out.paid = append(out.paid, o)
		}
	}
	for _, o := range p.refunded {
		if in(o.RefundedAt) {
			out.refunded = append(out.refunded, o)
		}
	}
	return out
}

// salesBetween reads [from, to) from the ledger's source when it covers
// it, else from the store.
func (l *ledger) salesBetween(ctx context.Context, from, to time.Time) (*periodSales, error) {
	if src := l.source; src != nil && !from.Before(src.from) && !to.After(src.to) {
		return src.within(from, to), nil
	}
	return l.s.readSales(ctx, from, to)
}

func (l *ledger) product(ctx context.Context, sku string) (catalog.Product, bool) {
	if p, ok := l.products[sku]; ok {
		return p, true
	}
	if src := l.source; src != nil && src.products != nil {
		p, ok := src.products[sku]
		return p, ok
	}
	p, err := l.s.catalog.Product(ctx, sku)
	if err != nil {
		return catalog.Product{}, false
	}
	l.products[sku] = p
	return p, true
}

// closedRecord returns the record of a closed month, nil for an open one.
func (l *ledger) closedRecord(ctx context.Context, month string) (*Statement, error) {
	if st, ok := l.closed[month]; ok {
		return st, nil
	}
	st, closed, err := l.s.store.closedStatement(ctx, l.coop, month)
	if err != nil {
		return nil, err
	}
	var rec *Statement
	if closed {
		rec = &st
	}
	l.closed[month] = rec
	return rec, nil
}

// maxLateMonths bounds how far back an open month looks for entries dated
// in a run of closed months before it.
const maxLateMonths = 36

// lateEntries are the entries dated in the closed months just before month
// (back to the last open one) that none of their records holds: they are
// booked in month.
func (l *ledger) lateEntries(ctx context.Context, month string) ([]StatementLine, error) {
	held := map[string]bool{}
	var out []StatementLine
	m := month
	for range maxLateMonths {
		m = addMonths(m, -1)
		rec, err := l.closedRecord(ctx, m)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			break
		}
		for _, x := range rec.Lines {
			held[x.Entry] = true
		}
		lines, err := l.entries(ctx, m)
		if err != nil {
			return nil, err
		}
		for _, x := range lines {
			if !held[x.Entry] {
				x.LateFrom = m
				out = append(out, x)
			}
		}
	}
	return out, nil
}

// laterEntries lists, on a closed month's record, the entries dated in it
// that it does not hold, with the month that books (or will book) them.
func (l *ledger) laterEntries(ctx context.Context, st *Statement) error {
	held := map[string]bool{}
	for _, x := range st.Lines {
		held[x.Entry] = true
	}
	lines, err := l.entries(ctx, st.Month)
	if err != nil {
		return err
	}
	now := l.s.now().UTC().Format("2006-01")
	for _, x := range lines {
		if held[x.Entry] {
			continue
		}
		booked := st.Month
		for range maxLateMonths {
			booked = addMonths(booked, 1)
			rec, err := l.closedRecord(ctx, booked)
			if err != nil {
				return err
			}
			if rec == nil || booked >= now || slices.ContainsFunc(rec.Lines, func(y StatementLine) bool { return y.Entry == x.Entry }) {
				break
			}
		}
		st.LaterEntries = append(st.LaterEntries, LaterEntry{StatementLine: x, BookedIn: booked})
	}
	return nil
}

// entries are the cooperative's entries dated in month.
func (l *ledger) entries(ctx context.Context, month string) ([]StatementLine, error) {
	if lines, ok := l.byMonth[month]; ok {
		return lines, nil
	}
	from, to, err := parseMonth(month)
	if err != nil {
		return nil, err
	}
	var out []StatementLine
	raw, err := l.salesBetween(ctx, from, to)
	if err != nil {
		return nil, err
	}
	for _, sale := range raw.sales {
		for _, sl := range sale.Lines {
			p, ok := l.product(ctx, sl.SKU)
			if !ok || p.Cooperative != l.coop {
				continue
			}
			x := line(sale.At, sale.Shop, "till", sale.ID, sl.SKU, sl.Units, sl.Amount, sale.Currency, lotsOf(sl.Lots), p.ShareIn(sale.Shop), 0)
			x.Kind, x.Entry = EntrySale, EntrySale+"|"+sale.ID+"|"+sl.SKU
			out = append(out, x)
			l.details[x.Entry] = entryDetail{lots: sl.Lots, saleAt: sale.At}
		}
	}
	for _, r := range raw.returns {
		sl, ok := saleLineOfLot(r.Sale, r.Movement.Lot)
		if !ok {
			continue
		}
		p, ok := l.product(ctx, sl.SKU)
		if !ok || p.Cooperative != l.coop {
			continue
		}
		units := r.Movement.Units
		gross := sl.UnitPrice * units
		x := line(r.Movement.At, r.Sale.Shop, "till", r.Sale.ID, sl.SKU, units, gross, r.Sale.Currency,
			[]string{fmt.Sprintf("%s×%d", r.Movement.Lot, units)}, p.ShareIn(r.Sale.Shop), 0)
		x.negate()
		x.Kind, x.Entry = EntryReturn, EntryReturn+"|"+r.Sale.ID+"|"+sl.SKU+"|"+r.Movement.ID
		out = append(out, x)
		l.details[x.Entry] = entryDetail{lots: []shops.LotUnits{{Lot: r.Movement.Lot, Units: units}}, saleAt: r.Sale.At}
	}
	for _, group := range []struct {
		kind   string
		orders []Order
	}{{EntrySale, raw.paid}, {EntryRefund, raw.refunded}} {
		for _, o := range group.orders {
			weights := make([]int64, len(o.Lines))
			for i, ol := range o.Lines {
				weights[i] = ol.Amount
			}
			fees := allocate(OrderFee(o.Total.Amount), weights)
			for i, ol := range o.Lines {
				p, ok := l.product(ctx, ol.SKU)
				if !ok || p.Cooperative != l.coop {
					continue
				}
				at, fee := o.PaidAt, fees[i]
				if group.kind == EntryRefund {
					at, fee = o.refundedAt(), 0 // Stripe keeps its fee on a refund
				}
				x := line(at, o.Channel, "online", o.ID, ol.SKU, ol.Units, ol.Amount, o.Total.Currency, lotsOf(ol.Lots), p.ShareIn(o.Channel), fee)
				if group.kind == EntryRefund {
					x.negate()
				}
				x.Kind, x.Entry = group.kind, group.kind+"|"+o.ID+"|"+ol.SKU
				out = append(out, x)
				l.details[x.Entry] = entryDetail{lots: ol.Lots, saleAt: o.PaidAt}
			}
		}
	}
	l.byMonth[month] = out
	return out, nil
}

func saleLineOfLot(sale shops.Sale, lot string) (shops.AllocatedLine, bool) {
	for _, sl := range sale.Lines {
		for _, lu := range sl.Lots {
			if lu.Lot == lot {
				return sl, true
			}
		}
	}
	return shops.AllocatedLine{}, false
}

// negate turns a sale line into its reversal.
func (x *StatementLine) negate() {
	x.Units, x.Gross, x.ProducerShare, x.ShopMargin, x.Fees = -x.Units, -x.Gross, -x.ProducerShare, -x.ShopMargin, -x.Fees
}

// addMonths moves a YYYY-MM month by n months.
func addMonths(month string, n int) string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	return t.AddDate(0, n, 0).Format("2006-01")
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

// ErrMonthNotOver refuses to close a month that has not ended yet.
var ErrMonthNotOver = problem.New(problem.Conflict, "a month can be closed only after it has ended")

// CloseStatement records the month's statement as it stands, with its
// advance repayments, so later statements see what is still outstanding
// and nothing that happens later changes it. A month closes once, and only
// after it has ended.
func (s *Service) CloseStatement(ctx context.Context, actor access.Actor, coop, month string) (Statement, error) {
	if err := actor.RequireAdmin(); err != nil {
		return Statement{}, err
	}
	_, to, err := parseMonth(month)
	if err != nil {
		return Statement{}, err
	}
	if s.now().Before(to) {
		// A format key and its arguments, so a page says it in its language.
		return Statement{}, problem.New(problem.Conflict, "%s has not ended yet; it can be closed from %s", month, to.Format(time.DateOnly)).At("month")
	}
	var st Statement
	err = s.db.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if st, err = s.Statement(ctx, actor, coop, month); err != nil {
			return err
		}
		if st.Closed {
			return problem.New(problem.Conflict, "%s is already closed for %s", month, st.Cooperative)
		}
		now := s.now().UTC()
		st.Closed, st.ClosedAt = true, now
		if err := s.store.insertClosedStatement(ctx, st); err != nil {
			return err
		}
		for _, t := range st.Totals {
			r := Repayment{ID: st.Cooperative + "|" + month + "|" + t.Currency, Cooperative: st.Cooperative, Month: month,
				Currency: t.Currency, Amount: t.AdvanceRepayment, At: now}
			if err := s.store.insertRepayment(ctx, r); err != nil {
				return err
			}
		}
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
