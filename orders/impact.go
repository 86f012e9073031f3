package orders

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/mongodb"
	"github.com/terroir-coop/terroir/traceability"
)

// The impact report the network publishes every season ("133 people, of
// whom 25 women…"), computed from the members' statements of the season's
// months, so that it always matches them: who took part (members who
// delivered a harvest in the season, by gender), the grams they delivered,
// sales by channel, the producer share as a part of the consumer price, what
// was paid to members (advances at delivery and payouts) and the women's
// share of it, members' advances outstanding and repaid, and the revolving
// fund's advances to the cooperatives. Months gives the series for charts.

// GenderCount counts members by gender.
type GenderCount struct {
	Total int `json:"total"`
	Women int `json:"women"`
	Men   int `json:"men"`
}

// GenderGrams are masses delivered by gender (mg).
type GenderGrams struct {
	Total traceability.Quantity `json:"total"`
	Women traceability.Quantity `json:"women"`
	Men   traceability.Quantity `json:"men"`
}

// ChannelSales are a season's sales through one channel, net of refunds
// and returns, in its currency.
type ChannelSales struct {
	Channel       string `json:"channel"`
	Source        string `json:"source"` // till or online
	Currency      string `json:"currency"`
	Units         int64  `json:"units"`
	Gross         int64  `json:"gross"`
	ProducerShare int64  `json:"producer_share"`
}

// ProducerSharePart is the producer share as a part of the consumer price,
// in one currency: ProducerShare / Gross exactly, and in basis points
// (rounded down).
type ProducerSharePart struct {
	Currency      string                `json:"currency"`
	Gross         int64                 `json:"gross"`
	ProducerShare int64                 `json:"producer_share"`
	Share         traceability.Fraction `json:"share"`
	BasisPoints   int64                 `json:"basis_points"`
}

// AdvanceFigures are members' advances at delivery over a season.
type AdvanceFigures struct {
	Paid        catalog.Money `json:"paid"`
	Repaid      catalog.Money `json:"repaid"`      // by their earnings of the season
	Outstanding catalog.Money `json:"outstanding"` // at the end of the season
}

// FundFigures are the revolving fund's advances to cooperatives in one
// currency: granted up to the season's end, repaid by the season's closed
// months, outstanding at its end.
type FundFigures struct {
	Currency    string `json:"currency"`
	Granted     int64  `json:"granted"`
	Repaid      int64  `json:"repaid"`
	Outstanding int64  `json:"outstanding"`
}

// ImpactMonth is one month of the series.
type ImpactMonth struct {
	Month         string          `json:"month"`
	Units         int64           `json:"units"`
	Sales         []catalog.Money `json:"sales"` // gross per currency
	Earnings      catalog.Money   `json:"earnings"`
	PaidToMembers catalog.Money   `json:"paid_to_members"`
	PaidToWomen   catalog.Money   `json:"paid_to_women"`
}

// ImpactFigures are the report's figures for one cooperative or for all.
// Money is in the cooperative's currency (MAD) except sales and producer
// shares, in the currency sold.
type ImpactFigures struct {
	Cooperative    string                `json:"cooperative,omitempty"`
	Name           string                `json:"name,omitempty"`
	ActiveMembers  GenderCount           `json:"active_members"`
	Grams          GenderGrams           `json:"grams_delivered"`
	Sales          []ChannelSales        `json:"sales"`
	ProducerShare  []ProducerSharePart   `json:"producer_share"`
	Earnings       catalog.Money         `json:"earnings"`  // members' part of the producer shares
	Retention      catalog.Money         `json:"retention"` // kept by the cooperatives
	PaidToMembers  catalog.Money         `json:"paid_to_members"`
	PaidToWomen    catalog.Money         `json:"paid_to_women"`
	WomenShare     traceability.Fraction `json:"women_share"`
	WomenPerMille  int64                 `json:"women_per_mille"` // of what was paid, rounded down
	MemberAdvances AdvanceFigures        `json:"member_advances"`
	RevolvingFund  []FundFigures         `json:"revolving_fund"`
	Pending        []catalog.Money       `json:"pending"` // producer share not converted yet (no rate recorded)
	Months         []ImpactMonth         `json:"months"`
}

// ImpactReport is GET /api/v1/impact?season=YYYY[&cooperative=CODE]: the
// network's figures (or one cooperative's) and each cooperative's.
type ImpactReport struct {
	Season int    `json:"season"`
	From   string `json:"from"` // first month
	To     string `json:"to"`   // last month (this month for a season under way)
	ImpactFigures
	Cooperatives []ImpactFigures `json:"cooperatives"`
}

// Impact computes the impact report of a season for one cooperative or,
// when coop is "", for every cooperative the actor may read. The admin and
// auditors may read it (an auditor, the cooperatives of its scope).
// Errors: 400 on "season"; access.ErrForbidden for other roles or a
// cooperative outside an auditor's scope; ErrCooperativeNotFound.
func (p *MemberPay) Impact(ctx context.Context, actor access.Actor, season int, coop string) (ImpactReport, error) {
	if actor.Anonymous() {
		return ImpactReport{}, access.ErrUnauthorized
	}
	if actor.Role != access.Admin && actor.Role != access.Auditor {
		return ImpactReport{}, access.ErrForbidden
	}
	from, to, err := p.seasonMonths(season)
	if err != nil {
		return ImpactReport{}, err
	}
	var codes []string
	if coop = id.NormalizeCode(coop); coop != "" {
		codes = []string{coop}
	} else {
		for page := (mongodb.Page{Limit: mongodb.MaxPageSize}); ; page.Offset += page.Limit {
			cs, err := p.trace.Cooperatives(ctx, actor, page)
			if err != nil {
				return ImpactReport{}, err
			}
			for _, c := range cs {
				codes = append(codes, c.Code)
			}
			if len(cs) < page.Limit {
				break
			}
		}
	}
	// The whole network's register is read once; an auditor's, per cooperative.
	var reg *register
	if actor.Role == access.Admin && len(codes) > 1 {
		reg = &register{}
		if reg.members, err = p.trace.AllMembers(ctx, actor, ""); err != nil {
			return ImpactReport{}, err
		}
		if reg.harvests, err = p.trace.AllHarvests(ctx, actor, ""); err != nil {
			return ImpactReport{}, err
		}
		if reg.runs, err = p.orders.store.memberPayoutRuns(ctx, ""); err != nil {
			return ImpactReport{}, err
		}
	}
	books := make([]*book, 0, len(codes))
	first := from
	for _, code := range codes {
		b, err := p.newBook(ctx, actor, code, reg)
		if err != nil {
			return ImpactReport{}, err
		}
		books = append(books, b)
		first = min(first, b.first)
	}
	// The sales of the whole period, read once for every cooperative.
	src, err := p.orders.readPeriod(ctx, monthStart(first), monthStart(addMonths(to, 1)))
	if err != nil {
		return ImpactReport{}, err
	}
	advances, err := p.orders.store.allAdvances(ctx)
	if err != nil {
		return ImpactReport{}, err
	}
	repaid, err := p.orders.store.allRepayments(ctx)
	if err != nil {
		return ImpactReport{}, err
	}
	rep := ImpactReport{Season: season, From: from, To: to, Cooperatives: []ImpactFigures{}}
	var all []ImpactFigures
	for _, b := range books {
		b.source = src
		st, err := b.statements(ctx, from, to)
		if err != nil {
			return ImpactReport{}, err
		}
		f := impactOf(b, st)
		f.RevolvingFund = fundOf(b.coop.Code, from, to, advances, repaid)
		rep.Cooperatives = append(rep.Cooperatives, f)
		all = append(all, f)
	}
	rep.ImpactFigures = sumImpact(all, traceability.Cooperative{}.Currency())
	if coop != "" {
		rep.Cooperative, rep.Name = rep.Cooperatives[0].Cooperative, rep.Cooperatives[0].Name
	}
	return rep, nil
}

// impactOf reads a cooperative's season figures off its members' statements.
func impactOf(b *book, st MemberStatements) ImpactFigures {
	f := newImpactFigures(b.coop.Currency())
	f.Cooperative, f.Name = b.coop.Code, b.coop.Name
	f.Pending = st.Pending
	women := map[string]bool{}
	for _, m := range st.Members {
		female := m.Gender == "female"
		women[m.Member] = female
		if m.Deliveries > 0 {
			f.ActiveMembers.Total++
			f.Grams.Total.Amount += m.Grams.Amount
			if female {
				f.ActiveMembers.Women++
				f.Grams.Women.Amount += m.Grams.Amount
			} else {
				f.ActiveMembers.Men++
				f.Grams.Men.Amount += m.Grams.Amount
			}
		}
		f.Earnings.Amount += m.Earnings.Amount
		f.Retention.Amount += m.Retention.Amount
		paid := m.Advances.Amount + m.Payouts.Amount
		f.PaidToMembers.Amount += paid
		if female {
			f.PaidToWomen.Amount += paid
		}
		f.MemberAdvances.Paid.Amount += m.Advances.Amount
		f.MemberAdvances.Repaid.Amount += m.AdvanceRepaid.Amount
		f.MemberAdvances.Outstanding.Amount += m.AdvanceLeft.Amount
	}
	sales := map[[3]string]*ChannelSales{}
	for _, x := range st.entries {
		k := [3]string{x.Channel, x.Source, x.Currency}
		if sales[k] == nil {
			sales[k] = &ChannelSales{Channel: x.Channel, Source: x.Source, Currency: x.Currency}
		}
		sales[k].Units += x.Units
		sales[k].Gross += x.Gross
		sales[k].ProducerShare += x.ProducerShare
	}
	for _, k := range slices.SortedFunc(maps.Keys(sales), func(a, b [3]string) int { return strings.Compare(strings.Join(a[:], "|"), strings.Join(b[:], "|")) }) {
		f.Sales = append(f.Sales, *sales[k])
	}
	for _, res := range st.months {
		m := ImpactMonth{Month: res.month, Sales: []catalog.Money{}, Earnings: b.money(0), PaidToMembers: b.money(0), PaidToWomen: b.money(0)}
		gross := map[string]int64{}
		for _, x := range res.entries {
			m.Units += x.Units
			gross[x.Currency] += x.Gross
		}
		for _, c := range slices.Sorted(maps.Keys(gross)) {
			m.Sales = append(m.Sales, catalog.Money{Amount: gross[c], Currency: c})
		}
		for member, ml := range res.lines {
			m.Earnings.Amount += ml.earnings
			m.PaidToMembers.Amount += ml.advances + ml.payouts
			if women[member] || (b.members[member].Gender == "female") {
				m.PaidToWomen.Amount += ml.advances + ml.payouts
			}
		}
		f.Months = append(f.Months, m)
	}
	finishImpact(&f)
	return f
}

func newImpactFigures(cur string) ImpactFigures {
	zero := catalog.Money{Currency: cur}
	mg := traceability.Quantity{Unit: string(traceability.Milligram)}
	return ImpactFigures{Grams: GenderGrams{Total: mg, Women: mg, Men: mg}, Sales: []ChannelSales{}, ProducerShare: []ProducerSharePart{},
		Earnings: zero, Retention: zero, PaidToMembers: zero, PaidToWomen: zero,
		MemberAdvances: AdvanceFigures{Paid: zero, Repaid: zero, Outstanding: zero}, RevolvingFund: []FundFigures{},
		Pending: []catalog.Money{}, Months: []ImpactMonth{}}
}

// finishImpact derives the parts: producer share of the price per currency
// and the women's share of what was paid.
func finishImpact(f *ImpactFigures) {
	by := map[string]*ProducerSharePart{}
	for _, s := range f.Sales {
		if by[s.Currency] == nil {
			by[s.Currency] = &ProducerSharePart{Currency: s.Currency}
		}
		by[s.Currency].Gross += s.Gross
		by[s.Currency].ProducerShare += s.ProducerShare
	}
	f.ProducerShare = []ProducerSharePart{}
	for _, c := range slices.Sorted(maps.Keys(by)) {
		ps := by[c]
		ps.Share = traceability.Fraction{Numerator: ps.ProducerShare, Denominator: ps.Gross}
		if ps.Gross > 0 {
			ps.BasisPoints = ps.ProducerShare * 10_000 / ps.Gross
		}
		f.ProducerShare = append(f.ProducerShare, *ps)
	}
	f.WomenShare = traceability.Fraction{Numerator: f.PaidToWomen.Amount, Denominator: f.PaidToMembers.Amount}
	f.WomenPerMille = 0
	if f.PaidToMembers.Amount > 0 {
		f.WomenPerMille = f.PaidToWomen.Amount * 1000 / f.PaidToMembers.Amount
	}
}

// fundOf is the revolving fund's figures for a cooperative's season.
func fundOf(coop, from, to string, advances []Advance, repaid []Repayment) []FundFigures {
	by := map[string]*FundFigures{}
	get := func(c string) *FundFigures {
		if by[c] == nil {
			by[c] = &FundFigures{Currency: c}
		}
		return by[c]
	}
	end := monthStart(addMonths(to, 1))
	for _, a := range advances {
		if a.Cooperative == coop && a.GrantedAt.Before(end) {
			get(a.Currency).Granted += a.Amount
		}
	}
	var back = map[string]int64{}
	for _, r := range repaid {
		if r.Cooperative != coop || r.Month > to {
			continue
		}
		back[r.Currency] += r.Amount
		if r.Month >= from {
			get(r.Currency).Repaid += r.Amount
		}
	}
	out := []FundFigures{}
	for _, c := range slices.Sorted(maps.Keys(by)) {
		f := by[c]
		f.Outstanding = max(f.Granted-back[c], 0)
		out = append(out, *f)
	}
	return out
}

// sumImpact adds up cooperatives' figures.
func sumImpact(all []ImpactFigures, cur string) ImpactFigures {
	f := newImpactFigures(cur)
	sales := map[[3]string]*ChannelSales{}
	fund := map[string]*FundFigures{}
	pending := map[string]int64{}
	months := map[string]*ImpactMonth{}
	for _, c := range all {
		f.ActiveMembers.Total += c.ActiveMembers.Total
		f.ActiveMembers.Women += c.ActiveMembers.Women
		f.ActiveMembers.Men += c.ActiveMembers.Men
		f.Grams.Total.Amount += c.Grams.Total.Amount
		f.Grams.Women.Amount += c.Grams.Women.Amount
		f.Grams.Men.Amount += c.Grams.Men.Amount
		for _, x := range []struct{ to, from *catalog.Money }{{&f.Earnings, &c.Earnings}, {&f.Retention, &c.Retention},
			{&f.PaidToMembers, &c.PaidToMembers}, {&f.PaidToWomen, &c.PaidToWomen}, {&f.MemberAdvances.Paid, &c.MemberAdvances.Paid},
			{&f.MemberAdvances.Repaid, &c.MemberAdvances.Repaid}, {&f.MemberAdvances.Outstanding, &c.MemberAdvances.Outstanding}} {
			x.to.Amount += x.from.Amount
		}
		for _, s := range c.Sales {
			k := [3]string{s.Channel, s.Source, s.Currency}
			if sales[k] == nil {
				sales[k] = &ChannelSales{Channel: s.Channel, Source: s.Source, Currency: s.Currency}
			}
			sales[k].Units += s.Units
			sales[k].Gross += s.Gross
			sales[k].ProducerShare += s.ProducerShare
		}
		for _, r := range c.RevolvingFund {
			if fund[r.Currency] == nil {
				fund[r.Currency] = &FundFigures{Currency: r.Currency}
			}
			fund[r.Currency].Granted += r.Granted
			fund[r.Currency].Repaid += r.Repaid
			fund[r.Currency].Outstanding += r.Outstanding
		}
		for _, p := range c.Pending {
			pending[p.Currency] += p.Amount
		}
		for _, m := range c.Months {
			t := months[m.Month]
			if t == nil {
				t = &ImpactMonth{Month: m.Month, Sales: []catalog.Money{}, Earnings: catalog.Money{Currency: cur},
					PaidToMembers: catalog.Money{Currency: cur}, PaidToWomen: catalog.Money{Currency: cur}}
				months[m.Month] = t
			}
			t.Units += m.Units
			t.Earnings.Amount += m.Earnings.Amount
			t.PaidToMembers.Amount += m.PaidToMembers.Amount
			t.PaidToWomen.Amount += m.PaidToWomen.Amount
			for _, s := range m.Sales {
				i := slices.IndexFunc(t.Sales, func(x catalog.Money) bool { return x.Currency == s.Currency })
				if i < 0 {
					t.Sales = append(t.Sales, catalog.Money{Currency: s.Currency})
					i = len(t.Sales) - 1
				}
				t.Sales[i].Amount += s.Amount
			}
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(sales), func(a, b [3]string) int { return strings.Compare(strings.Join(a[:], "|"), strings.Join(b[:], "|")) }) {
		f.Sales = append(f.Sales, *sales[k])
	}
	for _, c := range slices.Sorted(maps.Keys(fund)) {
		f.RevolvingFund = append(f.RevolvingFund, *fund[c])
	}
	for _, c := range slices.Sorted(maps.Keys(pending)) {
		f.Pending = append(f.Pending, catalog.Money{Amount: pending[c], Currency: c})
	}
	for _, m := range slices.Sorted(maps.Keys(months)) {
		slices.SortFunc(months[m].Sales, func(a, b catalog.Money) int { return strings.Compare(a.Currency, b.Currency) })
		f.Months = append(f.Months, *months[m])
	}
	finishImpact(&f)
	return f
}
