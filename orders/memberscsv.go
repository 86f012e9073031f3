package orders

import (
	"strconv"
	"strings"

	"github.com/terroir-coop/terroir/catalog"
)

// CSV rows of members' statements and of the impact report, for the
// back office's downloads (web writes them with encoding/csv). Amounts are
// decimal numbers of the currency's units ("1234.56"), masses grams with
// three decimals, so a spreadsheet reads them as numbers; headers are
// stable English column names.

// decimal writes minor units as units with two decimals.
func decimal(minor int64) string {
	sign := ""
	a := uint64(minor)
	if minor < 0 {
		sign, a = "-", -a
	}
	cents := strconv.FormatUint(a%100, 10)
	if len(cents) < 2 {
		cents = "0" + cents
	}
	return sign + strconv.FormatUint(a/100, 10) + "." + cents
}

// grams writes milligrams as grams with three decimals.
func grams(mg int64) string {
	sign := ""
	a := uint64(mg)
	if mg < 0 {
		sign, a = "-", -a
	}
	frac := strconv.FormatUint(a%1000, 10)
	for len(frac) < 3 {
		frac = "0" + frac
	}
	return sign + strconv.FormatUint(a/1000, 10) + "." + frac
}

func moneyList(ms []catalog.Money) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, decimal(m.Amount)+" "+m.Currency)
	}
	return strings.Join(parts, "; ")
}

// CSV returns the statements as rows: a header, one row per member, and a
// total row.
func (st MemberStatements) CSV() [][]string {
	rows := [][]string{{"cooperative", "period", "member", "name", "gender", "grams_delivered", "deliveries", "lots", "units_sold",
		"opening_balance", "earnings", "retention", "advances", "advance_repaid", "payouts", "balance", "advance_outstanding", "currency", "pending"}}
	period := st.Month
	if period == "" {
		period = st.From + "/" + st.To
	}
	row := func(m MemberStatement) []string {
		var units int64
		for _, s := range m.Sold {
			units += s.Units
		}
		return []string{st.Cooperative, period, m.Member, m.Name, m.Gender, grams(m.Grams.Amount), strconv.Itoa(m.Deliveries),
			strings.Join(m.Lots, " "), strconv.FormatInt(units, 10), decimal(m.OpeningBalance.Amount), decimal(m.Earnings.Amount),
			decimal(m.Retention.Amount), decimal(m.Advances.Amount), decimal(m.AdvanceRepaid.Amount), decimal(m.Payouts.Amount),
			decimal(m.Balance.Amount), decimal(m.AdvanceLeft.Amount), st.Currency, moneyList(m.Pending)}
	}
	for _, m := range st.Members {
		rows = append(rows, row(m))
	}
	total := row(st.Totals)
	total[2], total[3] = "", "total"
	total[18] = moneyList(st.Pending)
	return append(rows, total)
}

// CSV returns the impact report as rows: a header, the network's (or the
// cooperative's) figures, then one row per cooperative.
func (r ImpactReport) CSV() [][]string {
	rows := [][]string{{"season", "cooperative", "active_members", "women", "men", "grams_delivered", "grams_women", "sales_mad", "sales_eur",
		"producer_share_mad", "producer_share_eur", "producer_share_percent_mad", "producer_share_percent_eur", "earnings", "retention",
		"paid_to_members", "paid_to_women", "women_per_mille", "member_advances_paid", "member_advances_repaid", "member_advances_outstanding",
		"revolving_fund_outstanding", "currency"}}
	season := strconv.Itoa(r.Season)
	row := func(name string, f ImpactFigures) []string {
		gross, share, pct := map[string]string{}, map[string]string{}, map[string]string{}
		for _, p := range f.ProducerShare {
			gross[p.Currency], share[p.Currency] = decimal(p.Gross), decimal(p.ProducerShare)
			pct[p.Currency] = decimal(p.BasisPoints)
		}
		var fund []catalog.Money
		for _, x := range f.RevolvingFund {
			fund = append(fund, catalog.Money{Amount: x.Outstanding, Currency: x.Currency})
		}
		return []string{season, name, strconv.Itoa(f.ActiveMembers.Total), strconv.Itoa(f.ActiveMembers.Women), strconv.Itoa(f.ActiveMembers.Men),
			grams(f.Grams.Total.Amount), grams(f.Grams.Women.Amount), gross["MAD"], gross["EUR"], share["MAD"], share["EUR"], pct["MAD"], pct["EUR"],
			decimal(f.Earnings.Amount), decimal(f.Retention.Amount), decimal(f.PaidToMembers.Amount), decimal(f.PaidToWomen.Amount),
			strconv.FormatInt(f.WomenPerMille, 10), decimal(f.MemberAdvances.Paid.Amount), decimal(f.MemberAdvances.Repaid.Amount),
			decimal(f.MemberAdvances.Outstanding.Amount), moneyList(fund), f.Earnings.Currency}
	}
	name := r.Cooperative
	if name == "" {
		name = "network"
	}
	rows = append(rows, row(name, r.ImpactFigures))
	for _, c := range r.Cooperatives {
		rows = append(rows, row(c.Cooperative, c))
	}
	return rows
}
