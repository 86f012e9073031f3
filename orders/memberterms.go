package orders

import (
	"context"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/currency"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
)

// The terms of members' pay a cooperative records: the retention its
// general assembly decided (a percentage of every producer share kept for
// operating costs or a reserve, from a start date) and the exchange rates
// at which its members' statements convert what was sold in another
// currency (EUR on the platform) into its own (MAD), one per month. Both
// are kept in one document per cooperative (member_accounts), which payout
// runs also lock, so a change of terms and a payout run never interleave.

// Rate is an exact positive decimal number: Units / 10^Scale. Rates are
// written and read as decimal text ("10.8345"), never through a float.
type Rate struct {
	Units int64 `json:"-" bson:"units"`
	Scale int   `json:"-" bson:"scale"`
}

// maxRateDecimals bounds a rate's decimals; maxRate its value.
const (
	maxRateDecimals = 8
	maxRate         = 1_000_000
)

// ParseRate reads a rate: a positive decimal number with at most 8
// decimals (a dot or a comma before them), at most 1 000 000. Anything
// else is a 400 naming field.
func ParseRate(field, text string) (Rate, error) {
	r, ok := parseDecimal(text, maxRateDecimals)
	if !ok || r.Units <= 0 {
		return Rate{}, problem.Field(field, "must be a positive decimal number, such as 10.85")
	}
	if r.Units/pow10(r.Scale) >= maxRate {
		return Rate{}, problem.Field(field, "must be less than %d", maxRate)
	}
	return r, nil
}

// parseDecimal reads an unsigned decimal with at most maxDecimals decimals.
func parseDecimal(text string, maxDecimals int) (Rate, bool) {
	text = strings.ReplaceAll(strings.TrimSpace(text), ",", ".")
	whole, frac, dot := strings.Cut(text, ".")
	if whole == "" || len(frac) > maxDecimals || (dot && frac == "") || len(whole) > 12 {
		return Rate{}, false
	}
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return Rate{}, false
		}
	}
	units, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return Rate{}, false
	}
	return Rate{Units: units, Scale: len(frac)}, true
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// String writes the rate as decimal text, without trailing zeros.
func (r Rate) String() string {
	s := strconv.FormatInt(r.Units, 10)
	if r.Scale == 0 {
		return s
	}
	for len(s) <= r.Scale {
		s = "0" + s
	}
	s = s[:len(s)-r.Scale] + "." + s[len(s)-r.Scale:]
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

// MarshalJSON writes the rate as a JSON string of its decimal text, which
// no float ever rounds.
func (r Rate) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(r.String())), nil }

// Convert converts a signed amount of minor units at the rate, rounding
// half away from zero, in 128 bits (exact for every amount of money).
func (r Rate) Convert(amount int64) int64 {
	neg := amount < 0
	a := uint64(amount)
	if neg {
		a = -a
	}
	den := uint64(pow10(r.Scale))
	hi, lo := bits.Mul64(a, uint64(r.Units))
	// Round half up: add den/2 before dividing.
	var carry uint64
	lo, carry = bits.Add64(lo, den/2, 0)
	hi += carry
	q, _ := bits.Div64(hi, lo, den)
	if neg {
		return -int64(q)
	}
	return int64(q)
}

// RetentionRule is a retention decided by the cooperative's general
// assembly: from a day on, BasisPoints / 100 percent of each producer share
// is kept by the cooperative before the rest goes to the members.
type RetentionRule struct {
	From        string    `json:"from" bson:"from"`                 // YYYY-MM-DD
	BasisPoints int64     `json:"basis_points" bson:"basis_points"` // 1000 = 10 %
	Percent     string    `json:"percent" bson:"percent"`           // as recorded, e.g. "7.5"
	SetBy       string    `json:"set_by" bson:"set_by"`
	SetAt       time.Time `json:"set_at" bson:"set_at"`
}

// ExchangeRate is the rate at which a month's members' statement converts
// what was sold in Currency into the cooperative's currency (Into): one
// unit of Currency is Rate units of Into.
type ExchangeRate struct {
	Month    string    `json:"month" bson:"month"`
	Currency string    `json:"currency" bson:"currency"`
	Into     string    `json:"into" bson:"into"`
	Rate     Rate      `json:"rate" bson:"rate"`
	SetBy    string    `json:"set_by" bson:"set_by"`
	SetAt    time.Time `json:"set_at" bson:"set_at"`
}

// MemberTerms are a cooperative's terms of members' pay.
type MemberTerms struct {
	Cooperative string          `json:"cooperative" bson:"_id"`
	Currency    string          `json:"currency" bson:"currency"`
	Retention   []RetentionRule `json:"retention" bson:"retention"` // by From
	Rates       []ExchangeRate  `json:"rates" bson:"rates"`         // by month, currency
	// Version changes with every write and every payout run (the lock).
	Version int64 `json:"-" bson:"version"`
}

// retentionOn is the retention in force on a day (YYYY-MM-DD): the last
// rule that starts on or before it, else none.
func (t MemberTerms) retentionOn(day string) int64 {
	var bp int64
	for _, r := range t.Retention {
		if r.From <= day {
			bp = r.BasisPoints
		}
	}
	return bp
}

// rate is the recorded rate of a month for a currency.
func (t MemberTerms) rate(month, currency string) (Rate, bool) {
	for _, r := range t.Rates {
		if r.Month == month && r.Currency == currency {
			return r.Rate, true
		}
	}
	return Rate{}, false
}

// Terms returns a cooperative's terms of members' pay to those who may read
// its records.
func (p *MemberPay) Terms(ctx context.Context, actor access.Actor, coop string) (MemberTerms, error) {
	c, err := p.trace.Cooperative(ctx, actor, coop)
	if err != nil {
		return MemberTerms{}, err
	}
	return p.orders.store.memberTerms(ctx, c)
}

// SetRetention records the retention a cooperative's general assembly
// decided: percent (decimal text, at most two decimals: "10", "7.5") of
// every producer share from the day from (YYYY-MM-DD) on; a rule from the
// same day is replaced. The cooperative's manager or the admin records it.
// Errors: 400 on "percent" outside 0–100 % and on "from"; 409 on "from"
// when members were already paid after that day (a payout run paid their
// balances on the retention then in force), naming the first day allowed.
// Nothing is written when it fails.
func (p *MemberPay) SetRetention(ctx context.Context, actor access.Actor, coop, percent, from string) (MemberTerms, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ManageCoop(coop); err != nil {
		return MemberTerms{}, err
	}
	c, err := p.trace.Cooperative(ctx, actor, coop)
	if err != nil {
		return MemberTerms{}, err
	}
	d, ok := parseDecimal(percent, 2)
	if !ok || d.Units*pow10(2-d.Scale) > 10_000 {
		return MemberTerms{}, problem.Field("percent", "must be a percentage from 0 to 100, with at most two decimals")
	}
	bp := d.Units * pow10(2-d.Scale)
	from = strings.TrimSpace(from)
	day, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return MemberTerms{}, problem.Field("from", "must be a calendar date as YYYY-MM-DD")
	}
	var terms MemberTerms
	err = p.orders.db.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if terms, err = p.orders.store.memberTerms(ctx, c); err != nil {
			return err
		}
		runs, err := p.orders.store.memberPayoutRuns(ctx, coop)
		if err != nil {
			return err
		}
		for _, r := range runs {
			if paid := r.At.UTC().Format(time.DateOnly); from <= paid {
				err := problem.New(problem.Conflict, "members were paid on %s on the retention then in force; a new retention can start from %s",
					paid, r.At.UTC().AddDate(0, 0, 1).Format(time.DateOnly))
				err.Field = "from"
				return err
			}
		}
		rule := RetentionRule{From: day.Format(time.DateOnly), BasisPoints: bp, Percent: bpText(bp), SetBy: actor.Email, SetAt: p.now().UTC()}
		terms.Retention = slices.DeleteFunc(terms.Retention, func(r RetentionRule) bool { return r.From == rule.From })
		terms.Retention = append(terms.Retention, rule)
		slices.SortFunc(terms.Retention, func(a, b RetentionRule) int { return strings.Compare(a.From, b.From) })
		return p.orders.store.saveMemberTerms(ctx, &terms)
	})
	return terms, err
}

// bpText writes basis points as a percentage: 750 → "7.5".
func bpText(bp int64) string { return Rate{Units: bp, Scale: 2}.String() }

// SetRate records the rate at which a month's members' statement converts
// what was sold in currency into the cooperative's own: rate is decimal
// text ("10.85": one EUR is 10.85 MAD). A month's rate is recorded once:
// the same rate again changes nothing, another is refused, since members'
// balances were computed with it. The cooperative's manager or the admin
// records it. Errors: 400 on "month", "currency" (a currency sold in, other
// than the cooperative's) and "rate" (zero, negative or not a decimal);
// 409 on "rate" when another rate is recorded for the month. Nothing is
// written when it fails.
func (p *MemberPay) SetRate(ctx context.Context, actor access.Actor, coop, month, cur, rate string) (MemberTerms, error) {
	coop = id.NormalizeCode(coop)
	if err := actor.ManageCoop(coop); err != nil {
		return MemberTerms{}, err
	}
	c, err := p.trace.Cooperative(ctx, actor, coop)
	if err != nil {
		return MemberTerms{}, err
	}
	if _, _, err := parseMonth(month); err != nil {
		return MemberTerms{}, err
	}
	cur = strings.ToUpper(strings.TrimSpace(cur))
	if !slices.Contains(currency.Codes, cur) || cur == c.Currency() {
		return MemberTerms{}, problem.Field("currency", "must be a currency sold in other than %s: %s", c.Currency(), strings.Join(otherCurrencies(c.Currency()), ", "))
	}
	r, err := ParseRate("rate", rate)
	if err != nil {
		return MemberTerms{}, err
	}
	var terms MemberTerms
	err = p.orders.db.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if terms, err = p.orders.store.memberTerms(ctx, c); err != nil {
			return err
		}
		if was, ok := terms.rate(month, cur); ok {
			if was.String() == r.String() {
				return nil
			}
			err := problem.New(problem.Conflict, "the rate of %s for %s is recorded already: %s", cur, month, was.String())
			err.Field = "rate"
			return err
		}
		terms.Rates = append(terms.Rates, ExchangeRate{Month: month, Currency: cur, Into: c.Currency(), Rate: r, SetBy: actor.Email, SetAt: p.now().UTC()})
		slices.SortFunc(terms.Rates, func(a, b ExchangeRate) int { return strings.Compare(a.Month+a.Currency, b.Month+b.Currency) })
		return p.orders.store.saveMemberTerms(ctx, &terms)
	})
	return terms, err
}

func otherCurrencies(own string) []string {
	return slices.DeleteFunc(slices.Clone(currency.Codes), func(c string) bool { return c == own })
}
