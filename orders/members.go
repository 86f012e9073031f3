package orders

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
)

// Members' pay. Settlement (settlement.go) credits a cooperative its
// producer share of every entry — a sale at a till or online, a refund, a
// return — dated when it happened and booked in a month. MemberPay carries
// that money on to the members who brought what was sold:
//
//   - An entry's producer share is split over the lots its units came from
//     (by units), then each lot's part over the lot's members by their
//     shares (traceability, shares.go) in force when the sale happened, by
//     largest remainder: the members' earnings add up to the entry's
//     producer share exactly, to the minor unit, in the currency sold.
//   - The cooperative keeps its retention (the rule of its general assembly
//     in force on the sale's day, memberterms.go): the entry's retention is
//     its producer share × the rate, rounded down, split over the members in
//     proportion to their earnings by largest remainder, so members' amounts
//     + retention = the producer share, exactly.
//   - A refund or a return reverses its sale: the same shares and retention
//     rule, the same division, negated (a full refund gives back exactly what
//     each member got).
//   - A month's statement converts what was sold in another currency (EUR)
//     into the cooperative's (MAD) at the rate it recorded for the month; a
//     sign's parts convert together (the positive parts' total is converted
//     and split back over them by largest remainder, the negative ones
//     likewise), so the converted parts still add up. Until the rate is
//     recorded, those earnings are shown as pending and are not in balances.
//   - Advances paid at delivery (a harvest's advance) are repaid first from
//     later earnings: a member's balance = earnings − retention − advances −
//     payouts, carried month to month, and only a positive balance is paid.
//
// Nothing is kept as a second ledger: statements are computed from the
// sales, the lots' shares, the harvests and the payout runs, so they always
// reconcile with the cooperative's settlement.

// MemberPay computes members' earnings, statements, payout runs and the
// network's impact report. It is safe for concurrent use.
type MemberPay struct {
	orders *Service
	trace  *traceability.Service
	now    func() time.Time
}

// NewMemberPay returns the members' pay service over the orders service
// (its settlement and store) and the traceability records.
func NewMemberPay(o *Service, trace *traceability.Service) *MemberPay {
	return &MemberPay{orders: o, trace: trace, now: o.now}
}

// MemberPart is one member's part of an entry, in the entry's currency.
type MemberPart struct {
	Member    string `json:"member"`
	Earnings  int64  `json:"earnings"`  // her part of the producer share
	Retention int64  `json:"retention"` // what the cooperative keeps of it
}

// EntrySplit is one settlement entry divided among the members of its
// lots. Σ Parts.Earnings + Unassigned = ProducerShare, Σ Parts.Retention =
// Retention, so the members' amounts + Retention + Unassigned =
// ProducerShare.
type EntrySplit struct {
	Entry         string           `json:"entry"`
	Kind          string           `json:"kind"`
	Date          string           `json:"date"`
	BookedIn      string           `json:"booked_in"` // the month whose statement holds it
	Channel       string           `json:"channel"`
	Source        string           `json:"source"` // till or online
	SKU           string           `json:"sku"`
	Units         int64            `json:"units"`
	Lots          []shops.LotUnits `json:"lots"`
	Currency      string           `json:"currency"`
	Gross         int64            `json:"gross"` // what the customer paid (negative for a refund or a return)
	ProducerShare int64            `json:"producer_share"`
	// RetentionBasisPoints is the retention in force on the sale's day.
	RetentionBasisPoints int64 `json:"retention_basis_points"`
	Retention            int64 `json:"retention"`
	// Unassigned is the part of lots with no known member (none today:
	// every lot has an origin); the cooperative keeps it.
	Unassigned int64        `json:"unassigned"`
	Parts      []MemberPart `json:"parts"`
}

// splitEntry divides an entry's producer share among the members of its
// lots. lots are the units of each lot (as sold, positive); sharesOf gives a
// lot's shares in force at the sale; bp is the retention in basis points.
func splitEntry(x StatementLine, lots []shops.LotUnits, bp int64, sharesOf func(lot string) []traceability.MemberShare) EntrySplit {
	sp := EntrySplit{Entry: x.Entry, Kind: x.Kind, Date: x.Date, Channel: x.Channel, Source: x.Source, SKU: x.SKU, Units: x.Units,
		Lots: lots, Currency: x.Currency, Gross: x.Gross, ProducerShare: x.ProducerShare, RetentionBasisPoints: bp, Parts: []MemberPart{}}
	sign, share := int64(1), x.ProducerShare
	if share < 0 {
		sign, share = -1, -share
	}
	units := make([]int64, len(lots))
	for i, lu := range lots {
		units[i] = max(lu.Units, 0)
	}
	lotParts := traceability.SplitLargestRemainder(share, units)
	earned := map[string]int64{}
	var given int64
	for j, lu := range lots {
		sh := sharesOf(lu.Lot)
		weights := make([]int64, len(sh))
		for i, s := range sh {
			weights[i] = s.Weight
		}
		if traceability.ShareBasis(sh) <= 0 {
			continue
		}
		for i, part := range traceability.SplitLargestRemainder(lotParts[j], weights) {
			earned[sh[i].Member] += part
			given += part
		}
	}
	unassigned := share - given
	members := make([]string, 0, len(earned))
	for m := range earned {
		members = append(members, m)
	}
	slices.Sort(members)
	weights := make([]int64, len(members))
	for i, m := range members {
		weights[i] = earned[m]
	}
	retention := given * bp / 10_000 // given ≤ 10^12 and bp ≤ 10^4: no overflow
	kept := traceability.SplitLargestRemainder(retention, weights)
	for i, m := range members {
		if earned[m] == 0 {
			continue
		}
		sp.Parts = append(sp.Parts, MemberPart{Member: m, Earnings: sign * earned[m], Retention: sign * kept[i]})
	}
	sp.Retention, sp.Unassigned = sign*retention, sign*unassigned
	return sp
}

// convertParts converts signed amounts at a rate so that they still add up:
// the positive parts' total is converted (half away from zero) and split
// back over them by largest remainder, and likewise the negative parts'.
func convertParts(parts []int64, r Rate) []int64 {
	out := make([]int64, len(parts))
	for _, sign := range []int64{1, -1} {
		weights := make([]int64, len(parts))
		var total int64
		for i, p := range parts {
			if p*sign > 0 {
				weights[i] = p * sign
				total += p * sign
			}
		}
		for i, q := range traceability.SplitLargestRemainder(r.Convert(total), weights) {
			if weights[i] > 0 {
				out[i] = sign * q
			}
		}
	}
	return out
}

// ChannelUnits are units sold through one channel.
type ChannelUnits struct {
	Channel string `json:"channel"`
	Source  string `json:"source"` // till or online
	Units   int64  `json:"units"`  // net of refunds and returns
}

// MemberStatement is one member's line of a statement. Every amount is in
// the cooperative's currency; Balance = OpeningBalance + Earnings −
// Retention − Advances − Payouts.
type MemberStatement struct {
	Member string `json:"member"`
	Name   string `json:"name"`
	Gender string `json:"gender"`
	// Grams is the mass of her harvests delivered in the period (mg), in
	// Deliveries harvests.
	Grams      traceability.Quantity `json:"grams"`
	Deliveries int                   `json:"deliveries"`
	// Lots are the lots sold in the period that she has a share in; Sold
	// the units sold from them, by channel.
	Lots           []string        `json:"lots"`
	Sold           []ChannelUnits  `json:"sold"`
	OpeningBalance catalog.Money   `json:"opening_balance"`
	Earnings       catalog.Money   `json:"earnings"`  // her part of the producer shares
	Retention      catalog.Money   `json:"retention"` // what the cooperative kept of it
	Advances       catalog.Money   `json:"advances"`  // paid to her at delivery
	Payouts        catalog.Money   `json:"payouts"`
	Balance        catalog.Money   `json:"balance"`
	AdvanceRepaid  catalog.Money   `json:"advance_repaid"`      // of her advances, by her earnings of the period
	AdvanceLeft    catalog.Money   `json:"advance_outstanding"` // still to repay at the end of the period
	Pending        []catalog.Money `json:"pending"`             // earnings sold in a currency whose rate is not recorded yet
}

// CurrencyTotals are a period's producer share in one currency sold,
// before conversion: it is the cooperative's settlement producer share.
type CurrencyTotals struct {
	Currency      string `json:"currency"`
	ProducerShare int64  `json:"producer_share"`
	Retention     int64  `json:"retention"`
	Unassigned    int64  `json:"unassigned"`
	Members       int64  `json:"members"` // Σ members' amounts (earnings − retention)
}

// MemberStatements are a cooperative's members' statements for a month (or
// a season): GET /api/v1/cooperatives/{coop}/member-statements/{YYYY-MM}.
// ProducerShare = Σ members' Earnings + Unassigned and Retention = Σ
// members' Retention, in the cooperative's currency.
type MemberStatements struct {
	Cooperative     string            `json:"cooperative"`
	CooperativeName string            `json:"cooperative_name"`
	Month           string            `json:"month,omitempty"`  // YYYY-MM
	Season          int               `json:"season,omitempty"` // a season's statements
	From            string            `json:"from"`             // first month
	To              string            `json:"to"`               // last month
	Currency        string            `json:"currency"`
	ProducerShare   catalog.Money     `json:"producer_share"`
	Retention       catalog.Money     `json:"retention"`
	Unassigned      catalog.Money     `json:"unassigned"`
	Pending         []catalog.Money   `json:"pending"` // producer share sold in a currency whose rate is not recorded yet
	ByCurrency      []CurrencyTotals  `json:"by_currency"`
	RetentionRules  []RetentionRule   `json:"retention_rules"` // the cooperative's rules
	Rates           []ExchangeRate    `json:"rates"`           // those of the period
	Members         []MemberStatement `json:"members"`
	Totals          MemberStatement   `json:"totals"` // the members' lines added up
	Generated       time.Time         `json:"generated_at"`
	entries         []EntrySplit      // every entry divided (MemberSlip, tests)
	deliveries      []Delivery        // every delivery (MemberSlip)
	payouts         []MemberPaid      // every payout (MemberSlip)
	months          []*monthResult    // the period's months (Impact)
}

// Delivery is a harvest a member delivered, with its advance.
type Delivery struct {
	Member  string                `json:"member"`
	Harvest string                `json:"harvest"`
	Date    string                `json:"date"`
	Grams   traceability.Quantity `json:"grams"`
	Lot     string                `json:"lot,omitempty"`
	Advance *catalog.Money        `json:"advance,omitempty"`
	Method  string                `json:"method,omitempty"` // of the advance
}

// MemberPaid is a payout to a member by a payout run.
type MemberPaid struct {
	Member string        `json:"member"`
	Run    string        `json:"run"`
	At     time.Time     `json:"at"`
	Method string        `json:"method"`
	Amount catalog.Money `json:"amount"`
}

// MemberStatements computes a cooperative's members' statements for a
// month (YYYY-MM, not in the future). Its manager, auditors in its scope and
// the admin may read them. Errors: 400 on "month"; access errors;
// traceability.ErrCooperativeNotFound.
func (p *MemberPay) MemberStatements(ctx context.Context, actor access.Actor, coop, month string) (MemberStatements, error) {
	if err := p.checkMonth(month); err != nil {
		return MemberStatements{}, err
	}
	b, err := p.newBook(ctx, actor, coop, nil)
	if err != nil {
		return MemberStatements{}, err
	}
	st, err := b.statements(ctx, month, month)
	st.Month = month
	return st, err
}

// MemberSeasonStatements computes a cooperative's members' statements for a
// season (1 September of season to 31 August of the next year, up to this
// month), as MemberStatements does for a month.
func (p *MemberPay) MemberSeasonStatements(ctx context.Context, actor access.Actor, coop string, season int) (MemberStatements, error) {
	from, to, err := p.seasonMonths(season)
	if err != nil {
		return MemberStatements{}, err
	}
	b, err := p.newBook(ctx, actor, coop, nil)
	if err != nil {
		return MemberStatements{}, err
	}
	st, err := b.statements(ctx, from, to)
	st.Season = season
	return st, err
}

// MemberSlip is one member's statement with its detail, for her page and
// her printable slip: each delivery, each entry of lots she is in with her
// part, and each payout.
type MemberSlip struct {
	Cooperative     string          `json:"cooperative"`
	CooperativeName string          `json:"cooperative_name"`
	Month           string          `json:"month,omitempty"`
	Season          int             `json:"season,omitempty"`
	From            string          `json:"from"`
	To              string          `json:"to"`
	Currency        string          `json:"currency"`
	Statement       MemberStatement `json:"statement"`
	Deliveries      []Delivery      `json:"deliveries"`
	Entries         []MemberEntry   `json:"entries"`
	Payouts         []MemberPaid    `json:"payouts"`
	Rates           []ExchangeRate  `json:"rates"`
	Generated       time.Time       `json:"generated_at"`
}

// MemberEntry is one entry of a lot she is in, with her part, in the
// currency sold.
type MemberEntry struct {
	Date      string           `json:"date"`
	BookedIn  string           `json:"booked_in"`
	Kind      string           `json:"kind"`
	Channel   string           `json:"channel"`
	Source    string           `json:"source"`
	SKU       string           `json:"sku"`
	Units     int64            `json:"units"`
	Lots      []shops.LotUnits `json:"lots"`
	Currency  string           `json:"currency"`
	Earnings  int64            `json:"earnings"`
	Retention int64            `json:"retention"`
	Net       int64            `json:"net"`
}

// MemberSlip returns one member's statement for a month with its detail.
// Errors as MemberStatements, and traceability.ErrMemberNotFound for a
// member who is not the cooperative's.
func (p *MemberPay) MemberSlip(ctx context.Context, actor access.Actor, coop, month, member string) (MemberSlip, error) {
	if err := p.checkMonth(month); err != nil {
		return MemberSlip{}, err
	}
	b, err := p.newBook(ctx, actor, coop, nil)
	if err != nil {
		return MemberSlip{}, err
	}
	if _, ok := b.members[member]; !ok {
		return MemberSlip{}, traceability.ErrMemberNotFound
	}
	st, err := b.statements(ctx, month, month)
	if err != nil {
		return MemberSlip{}, err
	}
	slip := MemberSlip{Cooperative: st.Cooperative, CooperativeName: st.CooperativeName, Month: month, From: st.From, To: st.To,
		Currency: st.Currency, Rates: st.Rates, Generated: st.Generated, Deliveries: []Delivery{}, Entries: []MemberEntry{}, Payouts: []MemberPaid{}}
	slip.Statement = b.emptyLine(member)
	for _, m := range st.Members {
		if m.Member == member {
			slip.Statement = m
		}
	}
	for _, d := range st.deliveries {
		if d.Member == member {
			slip.Deliveries = append(slip.Deliveries, d)
		}
	}
	for _, x := range st.entries {
		for _, part := range x.Parts {
			if part.Member == member {
				slip.Entries = append(slip.Entries, MemberEntry{Date: x.Date, BookedIn: x.BookedIn, Kind: x.Kind, Channel: x.Channel, Source: x.Source,
					SKU: x.SKU, Units: x.Units, Lots: x.Lots, Currency: x.Currency, Earnings: part.Earnings, Retention: part.Retention,
					Net: part.Earnings - part.Retention})
			}
		}
	}
	for _, pd := range st.payouts {
		if pd.Member == member {
			slip.Payouts = append(slip.Payouts, pd)
		}
	}
	return slip, nil
}

// Entries returns every entry booked in a month divided among the members
// (for the back office's detail and for audits).
func (p *MemberPay) Entries(ctx context.Context, actor access.Actor, coop, month string) ([]EntrySplit, error) {
	if err := p.checkMonth(month); err != nil {
		return nil, err
	}
	b, err := p.newBook(ctx, actor, coop, nil)
	if err != nil {
		return nil, err
	}
	st, err := b.statements(ctx, month, month)
	if st.entries == nil {
		st.entries = []EntrySplit{}
	}
	return st.entries, err
}

func (p *MemberPay) checkMonth(month string) error {
	if _, _, err := parseMonth(month); err != nil {
		return err
	}
	if month > p.now().UTC().Format("2006-01") {
		return problem.Field("month", "%s has not begun yet", month)
	}
	return nil
}

// seasonMonths are a season's first and last months, the last no later
// than this month.
func (p *MemberPay) seasonMonths(season int) (string, string, error) {
	now := p.now().UTC().Format("2006-01")
	from := fmt.Sprintf("%04d-09", season)
	if season < 2000 || season > 2200 || from > now {
		return "", "", problem.Field("season", "must be a season that has begun, named by its first year (2025 for 2025–2026)")
	}
	return from, min(fmt.Sprintf("%04d-08", season+1), now), nil
}

// book is one cooperative's members' accounts, computed month by month
// from its first month of activity.
type book struct {
	p         *MemberPay
	coop      traceability.Cooperative
	terms     MemberTerms
	l         *ledger
	members   map[string]traceability.Member
	harvests  map[string][]traceability.Harvest // by month
	first     string                            // first month of activity
	runs      []MemberPayoutRun
	timelines map[string]*traceability.ShareTimeline // nil: a lot that is not the cooperative's
	source    *periodSales
}

// register is what a book reads of the records: given when the caller
// read them for several cooperatives at once (the impact report).
type register struct {
	members  []traceability.Member
	harvests []traceability.Harvest
	runs     []MemberPayoutRun
	source   *periodSales
}

// newBook reads a cooperative's records for its members' accounts. reg,
// when not nil, holds them already (read for many cooperatives).
func (p *MemberPay) newBook(ctx context.Context, actor access.Actor, coop string, reg *register) (*book, error) {
	c, err := p.trace.Cooperative(ctx, actor, coop)
	if err != nil {
		return nil, err
	}
	b := &book{p: p, coop: c, members: map[string]traceability.Member{}, harvests: map[string][]traceability.Harvest{},
		timelines: map[string]*traceability.ShareTimeline{}}
	if b.terms, err = p.orders.store.memberTerms(ctx, c); err != nil {
		return nil, err
	}
	if reg == nil {
		reg = &register{}
		if reg.members, err = p.trace.AllMembers(ctx, actor, c.Code); err != nil {
			return nil, err
		}
		if reg.harvests, err = p.trace.AllHarvests(ctx, actor, c.Code); err != nil {
			return nil, err
		}
		if reg.runs, err = p.orders.store.memberPayoutRuns(ctx, c.Code); err != nil {
			return nil, err
		}
	}
	b.first = p.now().UTC().Format("2006-01")
	if !c.CreatedAt.IsZero() {
		b.first = min(b.first, c.CreatedAt.UTC().Format("2006-01"))
	}
	for _, m := range reg.members {
		if m.Cooperative == c.Code {
			b.members[m.ID] = m
		}
	}
	for _, h := range reg.harvests {
		if h.Cooperative != c.Code || len(h.Date) < 7 {
			continue
		}
		b.harvests[h.Date[:7]] = append(b.harvests[h.Date[:7]], h)
		b.first = min(b.first, h.Date[:7])
	}
	for _, r := range reg.runs {
		if r.Cooperative == c.Code {
			b.runs = append(b.runs, r)
			b.first = min(b.first, r.At.UTC().Format("2006-01"))
		}
	}
	b.source = reg.source
	return b, nil
}

// memberState is a member's running account.
type memberState struct {
	balance, advanceLeft int64
}

// monthLine is one member's figures of one month.
type monthLine struct {
	grams                      int64
	deliveries                 int
	lots                       map[string]bool
	sold                       map[[2]string]int64 // channel, source → units
	earned, kept               map[string]int64    // per currency sold
	earnings, retention        int64               // converted
	pending                    map[string]int64    // per currency: net not converted yet
	advances, payouts          int64
	opening, balance           int64
	advanceRepaid, advanceLeft int64
}

func newMonthLine() *monthLine {
	return &monthLine{lots: map[string]bool{}, sold: map[[2]string]int64{}, earned: map[string]int64{}, kept: map[string]int64{}, pending: map[string]int64{}}
}

// monthResult is the book's month.
type monthResult struct {
	month      string
	lines      map[string]*monthLine
	byCurrency map[string]*CurrencyTotals
	entries    []EntrySplit
	deliveries []Delivery
	payouts    []MemberPaid
	producer   int64 // converted Σ earnings + unassigned
	retention  int64 // converted
	unassigned int64 // converted
	pending    map[string]int64
	rates      []ExchangeRate
}

// statements computes the months from the book's first to `to` and
// returns the statements of [from, to].
func (b *book) statements(ctx context.Context, from, to string) (MemberStatements, error) {
	// From the first month of activity, at most maxBookMonths before.
	start := max(min(b.first, from), addMonths(to, -maxBookMonths))
	if b.l == nil {
		src := b.source
		if src == nil || src.from.After(monthStart(start)) || src.to.Before(monthStart(addMonths(to, 1))) {
			var err error
			if src, err = b.p.orders.readPeriod(ctx, monthStart(start), monthStart(addMonths(to, 1))); err != nil {
				return MemberStatements{}, err
			}
		}
		b.l = newLedger(b.p.orders, b.coop.Code, src)
	}
	state := map[string]*memberState{}
	var months []*monthResult
	for m := start; m <= to; m = addMonths(m, 1) {
		res, err := b.month(ctx, m, state)
		if err != nil {
			return MemberStatements{}, err
		}
		if m >= from {
			months = append(months, res)
		}
	}
	return b.gather(from, to, months), nil
}

// maxBookMonths bounds how far back a book goes: twenty years.
const maxBookMonths = 240

func monthStart(month string) time.Time {
	t, _ := time.Parse("2006-01", month)
	return t
}

// month computes one month of the book, moving the members' running
// accounts in state.
func (b *book) month(ctx context.Context, month string, state map[string]*memberState) (*monthResult, error) {
	cur := b.coop.Currency()
	res := &monthResult{month: month, lines: map[string]*monthLine{}, byCurrency: map[string]*CurrencyTotals{}, pending: map[string]int64{}}
	line := func(m string) *monthLine {
		if res.lines[m] == nil {
			res.lines[m] = newMonthLine()
		}
		return res.lines[m]
	}
	st, err := b.p.orders.statementOf(ctx, b.l, month)
	if err != nil {
		return nil, err
	}
	for _, x := range st.Lines {
		det, err := b.detail(x)
		if err != nil {
			return nil, err
		}
		for _, lu := range det.lots {
			if _, err := b.timeline(ctx, lu.Lot); err != nil {
				return nil, err
			}
		}
		at := det.saleAt
		sp := splitEntry(x, det.lots, b.terms.retentionOn(at.UTC().Format(time.DateOnly)), func(lot string) []traceability.MemberShare {
			if tl := b.timelines[lot]; tl != nil {
				return tl.At(at)
			}
			return nil
		})
		sp.BookedIn = month
		res.entries = append(res.entries, sp)
		t := res.byCurrency[x.Currency]
		if t == nil {
			t = &CurrencyTotals{Currency: x.Currency}
			res.byCurrency[x.Currency] = t
		}
		t.ProducerShare += sp.ProducerShare
		t.Retention += sp.Retention
		t.Unassigned += sp.Unassigned
		for _, part := range sp.Parts {
			ml := line(part.Member)
			ml.earned[x.Currency] += part.Earnings
			ml.kept[x.Currency] += part.Retention
			t.Members += part.Earnings - part.Retention
			sign := int64(1)
			if sp.Units < 0 {
				sign = -1
			}
			for _, lu := range det.lots {
				if tl := b.timelines[lu.Lot]; tl != nil && slices.ContainsFunc(tl.At(at), func(s traceability.MemberShare) bool { return s.Member == part.Member }) {
					ml.lots[lu.Lot] = true
					ml.sold[[2]string{x.Channel, x.Source}] += sign * lu.Units
				}
			}
		}
	}
	// Convert into the cooperative's currency: its own as it is, another at
	// the month's rate, else pending.
	currencies := make([]string, 0, len(res.byCurrency))
	for c := range res.byCurrency {
		currencies = append(currencies, c)
	}
	slices.Sort(currencies)
	members := make([]string, 0, len(res.lines))
	for m := range res.lines {
		members = append(members, m)
	}
	slices.Sort(members)
	for _, c := range currencies {
		t := res.byCurrency[c]
		earned := make([]int64, len(members)+1)
		kept := make([]int64, len(members))
		for i, m := range members {
			earned[i], kept[i] = res.lines[m].earned[c], res.lines[m].kept[c]
		}
		earned[len(members)] = t.Unassigned
		if c != cur {
			r, ok := b.terms.rate(month, c)
			if !ok {
				res.pending[c] += t.ProducerShare
				for i, m := range members {
					if n := earned[i] - kept[i]; n != 0 {
						res.lines[m].pending[c] += n
					}
				}
				continue
			}
			for _, x := range b.terms.Rates {
				if x.Month == month && x.Currency == c {
					res.rates = append(res.rates, x)
				}
			}
			earned, kept = convertParts(earned, r), convertParts(kept, r)
		}
		for i, m := range members {
			res.lines[m].earnings += earned[i]
			res.lines[m].retention += kept[i]
			res.producer += earned[i]
			res.retention += kept[i]
		}
		res.unassigned += earned[len(members)]
		res.producer += earned[len(members)]
	}
	for _, h := range b.harvests[month] {
		ml := line(h.Member)
		ml.grams += h.Quantity
		ml.deliveries++
		d := Delivery{Member: h.Member, Harvest: h.ID, Date: h.Date, Grams: traceability.Quantity{Amount: h.Quantity, Unit: string(traceability.Milligram)}, Lot: h.Lot}
		if a := h.Advance; a != nil {
			ml.advances += a.Amount
			d.Advance, d.Method = &catalog.Money{Amount: a.Amount, Currency: a.Currency}, a.Method
		}
		res.deliveries = append(res.deliveries, d)
	}
	for _, r := range b.runs {
		if r.At.UTC().Format("2006-01") != month {
			continue
		}
		for _, pl := range r.Lines {
			line(pl.Member).payouts += pl.Amount.Amount
			res.payouts = append(res.payouts, MemberPaid{Member: pl.Member, Run: r.ID, At: r.At, Method: r.Method, Amount: pl.Amount})
		}
	}
	// Carry every member's account, including those with nothing this month.
	for m := range state {
		line(m)
	}
	for m, ml := range res.lines {
		s := state[m]
		if s == nil {
			s = &memberState{}
			state[m] = s
		}
		ml.opening = s.balance
		net := ml.earnings - ml.retention
		s.balance += net - ml.advances - ml.payouts
		owed := s.advanceLeft + ml.advances
		ml.advanceRepaid = min(owed, max(net, 0))
		s.advanceLeft = owed - ml.advanceRepaid
		ml.balance, ml.advanceLeft = s.balance, s.advanceLeft
	}
	return res, nil
}

// detail is what dividing a statement line needs: from the ledger (it read
// the entry), else from the line itself (a closed month's record holding
// an entry whose sale is gone): its lots as written, its day.
func (b *book) detail(x StatementLine) (entryDetail, error) {
	if d, ok := b.l.details[x.Entry]; ok {
		return d, nil
	}
	var d entryDetail
	day, err := time.Parse(time.DateOnly, x.Date)
	if err != nil {
		return d, fmt.Errorf("orders: entry %s has no valid date %q", x.Entry, x.Date)
	}
	d.saleAt = day
	for _, s := range x.Lots {
		code, n, ok := strings.Cut(s, "×")
		units, err := strconv.ParseInt(n, 10, 64)
		if !ok || err != nil {
			continue
		}
		d.lots = append(d.lots, shops.LotUnits{Lot: code, Units: max(units, -units)})
	}
	return d, nil
}

// timeline reads a lot's shares once; a lot of another cooperative (or
// unknown) has none here.
func (b *book) timeline(ctx context.Context, code string) (*traceability.ShareTimeline, error) {
	if tl, ok := b.timelines[code]; ok {
		return tl, nil
	}
	tl, err := b.p.trace.ShareTimeline(ctx, code)
	if err != nil && err != traceability.ErrLotNotFound {
		return nil, err
	}
	var out *traceability.ShareTimeline
	if err == nil && tl.Cooperative == b.coop.Code {
		out = &tl
	}
	b.timelines[code] = out
	return out, nil
}

func (b *book) money(amount int64) catalog.Money {
	return catalog.Money{Amount: amount, Currency: b.coop.Currency()}
}

func (b *book) emptyLine(member string) MemberStatement {
	m := b.members[member]
	zero := b.money(0)
	return MemberStatement{Member: member, Name: m.Name, Gender: m.Gender, Grams: traceability.Quantity{Unit: string(traceability.Milligram)},
		Lots: []string{}, Sold: []ChannelUnits{}, OpeningBalance: zero, Earnings: zero, Retention: zero, Advances: zero, Payouts: zero,
		Balance: zero, AdvanceRepaid: zero, AdvanceLeft: zero, Pending: []catalog.Money{}}
}

// gather adds up the months of [from, to] into statements.
func (b *book) gather(from, to string, months []*monthResult) MemberStatements {
	cur := b.coop.Currency()
	st := MemberStatements{Cooperative: b.coop.Code, CooperativeName: b.coop.Name, From: from, To: to, Currency: cur,
		ProducerShare: b.money(0), Retention: b.money(0), Unassigned: b.money(0), Pending: []catalog.Money{}, ByCurrency: []CurrencyTotals{},
		RetentionRules: b.terms.Retention, Rates: []ExchangeRate{}, Members: []MemberStatement{}, Generated: b.p.now().UTC()}
	lines := map[string]*MemberStatement{}
	sold := map[string]map[[2]string]int64{}
	lots := map[string]map[string]bool{}
	pending := map[string]map[string]int64{}
	byCur := map[string]*CurrencyTotals{}
	stPending := map[string]int64{}
	for i, res := range months {
		st.ProducerShare.Amount += res.producer
		st.Retention.Amount += res.retention
		st.Unassigned.Amount += res.unassigned
		st.Rates = append(st.Rates, res.rates...)
		st.entries = append(st.entries, res.entries...)
		st.deliveries = append(st.deliveries, res.deliveries...)
		st.payouts = append(st.payouts, res.payouts...)
		st.months = append(st.months, res)
		for c, n := range res.pending {
			stPending[c] += n
		}
		for c, t := range res.byCurrency {
			if byCur[c] == nil {
				byCur[c] = &CurrencyTotals{Currency: c}
			}
			byCur[c].ProducerShare += t.ProducerShare
			byCur[c].Retention += t.Retention
			byCur[c].Unassigned += t.Unassigned
			byCur[c].Members += t.Members
		}
		for m, ml := range res.lines {
			ms := lines[m]
			if ms == nil {
				l := b.emptyLine(m)
				ms = &l
				lines[m], sold[m], lots[m], pending[m] = ms, map[[2]string]int64{}, map[string]bool{}, map[string]int64{}
				ms.OpeningBalance.Amount = ml.opening
			}
			if i == 0 {
				ms.OpeningBalance.Amount = ml.opening
			}
			ms.Grams.Amount += ml.grams
			ms.Deliveries += ml.deliveries
			ms.Earnings.Amount += ml.earnings
			ms.Retention.Amount += ml.retention
			ms.Advances.Amount += ml.advances
			ms.Payouts.Amount += ml.payouts
			ms.AdvanceRepaid.Amount += ml.advanceRepaid
			ms.Balance.Amount, ms.AdvanceLeft.Amount = ml.balance, ml.advanceLeft
			for k, u := range ml.sold {
				sold[m][k] += u
			}
			for code := range ml.lots {
				lots[m][code] = true
			}
			for c, n := range ml.pending {
				pending[m][c] += n
			}
		}
	}
	for _, c := range slices.Sorted(maps.Keys(byCur)) {
		st.ByCurrency = append(st.ByCurrency, *byCur[c])
	}
	for _, c := range slices.Sorted(maps.Keys(stPending)) {
		st.Pending = append(st.Pending, catalog.Money{Amount: stPending[c], Currency: c})
	}
	tot := b.emptyLine("")
	for m, ms := range lines {
		for _, k := range slices.SortedFunc(maps.Keys(sold[m]), func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) }) {
			ms.Sold = append(ms.Sold, ChannelUnits{Channel: k[0], Source: k[1], Units: sold[m][k]})
		}
		ms.Lots = slices.Sorted(maps.Keys(lots[m]))
		for _, c := range slices.Sorted(maps.Keys(pending[m])) {
			ms.Pending = append(ms.Pending, catalog.Money{Amount: pending[m][c], Currency: c})
		}
		if ms.Grams.Amount == 0 && ms.Earnings.Amount == 0 && ms.Retention.Amount == 0 && ms.Advances.Amount == 0 && ms.Payouts.Amount == 0 &&
			ms.OpeningBalance.Amount == 0 && ms.Balance.Amount == 0 && len(ms.Pending) == 0 && len(ms.Lots) == 0 {
			continue
		}
		st.Members = append(st.Members, *ms)
		tot.Grams.Amount += ms.Grams.Amount
		tot.Deliveries += ms.Deliveries
		for _, x := range []struct{ to, from *catalog.Money }{{&tot.OpeningBalance, &ms.OpeningBalance}, {&tot.Earnings, &ms.Earnings},
			{&tot.Retention, &ms.Retention}, {&tot.Advances, &ms.Advances}, {&tot.Payouts, &ms.Payouts}, {&tot.Balance, &ms.Balance},
			{&tot.AdvanceRepaid, &ms.AdvanceRepaid}, {&tot.AdvanceLeft, &ms.AdvanceLeft}} {
			x.to.Amount += x.from.Amount
		}
	}
	slices.SortFunc(st.Members, func(a, b MemberStatement) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Member, b.Member)
	})
	tot.Name = "total"
	st.Totals = tot
	return st
}
