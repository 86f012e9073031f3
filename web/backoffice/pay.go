package backoffice

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/currency"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/i18n"
	"github.com/terroir-coop/terroir/web/page"
)

// Members' pay (issue 17): what each member of a cooperative earned from
// the grams she brought, the terms the cooperative records (retention,
// monthly rates), payout runs and a member's printable slip. Every figure
// comes from orders.MemberPay; the pages only format it.

// MemberPay is the members' pay of the cooperatives (orders.MemberPay).
type MemberPay interface {
	MemberStatements(ctx context.Context, actor access.Actor, coop, month string) (orders.MemberStatements, error)
	MemberSlip(ctx context.Context, actor access.Actor, coop, month, member string) (orders.MemberSlip, error)
	Terms(ctx context.Context, actor access.Actor, coop string) (orders.MemberTerms, error)
	SetRetention(ctx context.Context, actor access.Actor, coop, percent, from string) (orders.MemberTerms, error)
	SetRate(ctx context.Context, actor access.Actor, coop, month, currency, rate string) (orders.MemberTerms, error)
	PayMembers(ctx context.Context, actor access.Actor, coop string, req orders.NewPayoutRun, idemKey string) (orders.MemberPayoutRun, bool, error)
	PayoutRuns(ctx context.Context, actor access.Actor, coop string) ([]orders.MemberPayoutRun, error)
	Impact(ctx context.Context, actor access.Actor, season int, coop string) (orders.ImpactReport, error)
}

// payRow is a member's line as the page shows it.
type payRow struct {
	Member, Name, Grams                                                    string
	Opening, Earnings, Retention, Advances, Repaid, Payouts, Balance, Owed string
	Negative                                                               bool
	Pending                                                                []string
}

func payRowOf(l *i18n.Locale, m orders.MemberStatement) payRow {
	cur := m.Balance.Currency
	r := payRow{Member: m.Member, Name: m.Name, Grams: l.Quantity(m.Grams.Amount, traceability.Milligram),
		Opening: l.Money(m.OpeningBalance.Amount, cur), Earnings: l.Money(m.Earnings.Amount, cur), Retention: l.Money(m.Retention.Amount, cur),
		Advances: l.Money(m.Advances.Amount, cur), Repaid: l.Money(m.AdvanceRepaid.Amount, cur), Payouts: l.Money(m.Payouts.Amount, cur),
		Balance: l.Money(m.Balance.Amount, cur), Owed: l.Money(m.AdvanceLeft.Amount, cur), Negative: m.Balance.Amount < 0}
	for _, p := range m.Pending {
		r.Pending = append(r.Pending, l.Money(p.Amount, p.Currency))
	}
	return r
}

type runRow struct {
	ID, At, Method, Total, By string
	Members                   int
}

type rateRow struct{ Month, Currency, Rate, Into string }

type payView struct {
	page.Page
	coopTop
	Month, Prev, Next, CSVURL            string
	Rows                                 []payRow
	Totals                               payRow
	ProducerShare, Retention, Unassigned string
	Distributed                          string // Σ members' earnings + unassigned: the producer share
	Reconciles                           bool
	Pending                              []string
	Rules                                []orders.RetentionRule
	Rates                                []rateRow
	Runs                                 []runRow
	Currencies                           []string // other currencies a rate may be recorded for
	Today                                string
}

// PayNow answers GET /coop/{coop}/pay: this month's members' pay.
func (h *Handlers) PayNow(c *gin.Context) {
	coop, err := h.d.Cooperatives.Cooperative(c.Request.Context(), page.Actor(c), c.Param("coop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/coop/"+esc(coop.Code)+"/pay/"+h.d.Now().UTC().Format("2006-01"))
}

// PayPage answers GET /coop/{coop}/pay/{month} (and its .csv): each
// member's grams, earnings, retention, advances repaid, payouts and
// balance, with the totals that add up to the cooperative's producer share.
func (h *Handlers) PayPage(c *gin.Context) {
	month, csvFile := strings.CutSuffix(c.Param("month"), ".csv")
	if csvFile {
		st, err := h.d.MemberPay.MemberStatements(c.Request.Context(), page.Actor(c), c.Param("coop"), month)
		if err != nil {
			page.Fail(c, err)
			return
		}
		rows := st.CSV()
		rows[0] = strings.Split(page.Locale(c).T("csv.member_statements"), ",")
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="member-statements-`+st.Cooperative+`-`+month+`.csv"`)
		cw := csv.NewWriter(c.Writer)
		_ = cw.WriteAll(rows)
		return
	}
	h.showPay(c, nil, "", month)
}

func (h *Handlers) showPay(c *gin.Context, formErr error, which, month string) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	top, err := h.coopTop(c, secPay)
	if err != nil {
		page.Fail(c, err)
		return
	}
	st, err := h.d.MemberPay.MemberStatements(ctx, actor, top.Cooperative.Code, month)
	if err != nil {
		page.Fail(c, err)
		return
	}
	terms, err := h.d.MemberPay.Terms(ctx, actor, top.Cooperative.Code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	runs, err := h.d.MemberPay.PayoutRuns(ctx, actor, top.Cooperative.Code)
	if err != nil {
		page.Fail(c, err)
		return
	}
	cur := st.Currency
	first, _ := time.Parse("2006-01", month)
	v := &payView{Page: h.d.Pages.Page(c, l.T("pay_title")), coopTop: top, Month: month,
		Prev: first.AddDate(0, -1, 0).Format("2006-01"), Next: first.AddDate(0, 1, 0).Format("2006-01"),
		CSVURL: coopPath(top.Cooperative.Code, "pay/"+month+".csv"), Totals: payRowOf(l, st.Totals),
		ProducerShare: l.Money(st.ProducerShare.Amount, cur), Retention: l.Money(st.Retention.Amount, cur),
		Unassigned: l.Money(st.Unassigned.Amount, cur), Distributed: l.Money(st.Totals.Earnings.Amount+st.Unassigned.Amount, cur),
		Reconciles: st.Totals.Earnings.Amount+st.Unassigned.Amount == st.ProducerShare.Amount && st.Totals.Retention.Amount == st.Retention.Amount,
		Rules:      terms.Retention, Today: h.d.Now().UTC().Format(time.DateOnly)}
	if v.Next > h.d.Now().UTC().Format("2006-01") {
		v.Next = ""
	}
	for _, m := range st.Members {
		v.Rows = append(v.Rows, payRowOf(l, m))
	}
	for _, p := range st.Pending {
		v.Pending = append(v.Pending, l.Money(p.Amount, p.Currency))
	}
	for _, r := range terms.Rates {
		v.Rates = append(v.Rates, rateRow{Month: r.Month, Currency: r.Currency, Rate: r.Rate.String(), Into: r.Into})
	}
	for i := len(runs) - 1; i >= 0 && len(v.Runs) < 12; i-- {
		r := runs[i]
		v.Runs = append(v.Runs, runRow{ID: r.ID, At: r.At.UTC().Format("2006-01-02 15:04"), Method: l.Term("pay_method", r.Method),
			Total: l.Money(r.Total.Amount, r.Total.Currency), By: r.By, Members: len(r.Lines)})
	}
	v.Currencies = slices.DeleteFunc(slices.Clone(currency.Codes), func(x string) bool { return x == cur })
	if v.Form.Values.Get("rate_month") == "" {
		v.Form.Set("rate_month", month)
	}
	h.render(c, &v.Page, formErr, which, "backoffice/pay", v)
}

// formMonth is the month a pay page's form came from (to show it again).
func (h *Handlers) formMonth(c *gin.Context) string {
	m := c.PostForm("back")
	if _, err := time.Parse("2006-01", m); err != nil {
		m = h.d.Now().UTC().Format("2006-01")
	}
	return m
}

// SetRetention answers POST /coop/{coop}/pay/retention: the retention its
// general assembly decided.
func (h *Handlers) SetRetention(c *gin.Context) {
	coop, back := id.NormalizeCode(c.Param("coop")), h.formMonth(c)
	_, err := h.d.MemberPay.SetRetention(c.Request.Context(), page.Actor(c), coop, page.DigitsASCII(c.PostForm("percent")), c.PostForm("from"))
	h.done(c, err, "retention", coopPath(coop, "pay/"+back), "pay_retention_saved", func(c *gin.Context, err error, which string) {
		h.showPay(c, err, which, back)
	})
}

// SetRate answers POST /coop/{coop}/pay/rates: a month's exchange rate.
func (h *Handlers) SetRate(c *gin.Context) {
	coop, back := id.NormalizeCode(c.Param("coop")), h.formMonth(c)
	_, err := h.d.MemberPay.SetRate(c.Request.Context(), page.Actor(c), coop, c.PostForm("rate_month"), c.PostForm("currency"), page.DigitsASCII(c.PostForm("rate")))
	h.done(c, err, "rate", coopPath(coop, "pay/"+back), "pay_rate_saved", func(c *gin.Context, err error, which string) {
		h.showPay(c, err, which, back)
	})
}

type payoutView struct {
	page.Page
	coopTop
	Month string
	Rows  []payRow
	Total string
	Key   string // the run's Idempotency-Key: a second click records nothing more
}

// PayoutConfirm answers GET /coop/{coop}/payouts/new: who a payout run
// would pay now (every positive balance) and the form that starts it.
func (h *Handlers) PayoutConfirm(c *gin.Context) { h.showPayout(c, nil, "") }

func (h *Handlers) showPayout(c *gin.Context, formErr error, which string) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	top, err := h.coopTop(c, secPay)
	if err != nil {
		page.Fail(c, err)
		return
	}
	month := h.d.Now().UTC().Format("2006-01")
	st, err := h.d.MemberPay.MemberStatements(ctx, actor, top.Cooperative.Code, month)
	if err != nil {
		page.Fail(c, err)
		return
	}
	v := &payoutView{Page: h.d.Pages.Page(c, l.T("pay_run_title")), coopTop: top, Month: month, Key: c.PostForm("key")}
	var total int64
	for _, m := range st.Members {
		if m.Balance.Amount > 0 {
			v.Rows = append(v.Rows, payRowOf(l, m))
			total += m.Balance.Amount
		}
	}
	v.Total = l.Money(total, st.Currency)
	if v.Key == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		v.Key = hex.EncodeToString(b)
	}
	h.render(c, &v.Page, formErr, which, "backoffice/payout", v)
}

// PayMembers answers POST /coop/{coop}/payouts: the confirmed payout run,
// recorded once under the form's key (a second submission of the same
// form shows the same run, paying nothing more).
func (h *Handlers) PayMembers(c *gin.Context) {
	coop := id.NormalizeCode(c.Param("coop"))
	key := c.PostForm("key")
	if key != "" {
		key = "page:" + key
	}
	run, _, err := h.d.MemberPay.PayMembers(c.Request.Context(), page.Actor(c), coop, orders.NewPayoutRun{Method: c.PostForm("method"), Note: c.PostForm("note")}, key)
	h.done(c, err, "payout", coopPath(coop, "pay/"+run.At.UTC().Format("2006-01")), "pay_run_done", h.showPayout, int64(len(run.Lines)))
}

type slipEntry struct {
	Date, Kind, Channel, SKU, Lots, Earnings, Retention, Net string
	Units                                                    int64
}

type slipDelivery struct{ Date, Grams, Lot, Advance, Method string }

type slipView struct {
	page.Page
	coopTop
	Month      string
	Row        payRow
	Member     orders.MemberStatement
	Deliveries []slipDelivery
	Entries    []slipEntry
	Payouts    []runRow
	Rates      []rateRow
	Lots       string
	Generated  string
}

// MemberSlipPage answers GET /coop/{coop}/pay/{month}/members/{member}:
// one member's statement of the month, worded for her and printable.
func (h *Handlers) MemberSlipPage(c *gin.Context) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	top, err := h.coopTop(c, secPay)
	if err != nil {
		page.Fail(c, err)
		return
	}
	slip, err := h.d.MemberPay.MemberSlip(ctx, actor, top.Cooperative.Code, c.Param("month"), c.Param("member"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	s := slip.Statement
	v := &slipView{Page: h.d.Pages.Page(c, l.T("slip_title")+" · "+s.Name), coopTop: top, Month: slip.Month, Row: payRowOf(l, s), Member: s,
		Lots: strings.Join(s.Lots, " "), Generated: slip.Generated.UTC().Format("2006-01-02 15:04")}
	for _, d := range slip.Deliveries {
		sd := slipDelivery{Date: d.Date, Grams: l.Quantity(d.Grams.Amount, traceability.Milligram), Lot: d.Lot}
		if d.Advance != nil {
			sd.Advance, sd.Method = l.Money(d.Advance.Amount, d.Advance.Currency), l.Term("pay_method", d.Method)
		}
		v.Deliveries = append(v.Deliveries, sd)
	}
	for _, x := range slip.Entries {
		var lots []string
		for _, lu := range x.Lots {
			lots = append(lots, lu.Lot)
		}
		v.Entries = append(v.Entries, slipEntry{Date: x.Date, Kind: l.Term("pay_entry", x.Kind), Channel: x.Channel, SKU: x.SKU, Units: x.Units,
			Lots: strings.Join(lots, " "), Earnings: l.Money(x.Earnings, x.Currency), Retention: l.Money(x.Retention, x.Currency), Net: l.Money(x.Net, x.Currency)})
	}
	for _, p := range slip.Payouts {
		v.Payouts = append(v.Payouts, runRow{ID: p.Run, At: p.At.UTC().Format("2006-01-02"), Method: l.Term("pay_method", p.Method), Total: l.Money(p.Amount.Amount, p.Amount.Currency)})
	}
	for _, r := range slip.Rates {
		v.Rates = append(v.Rates, rateRow{Month: r.Month, Currency: r.Currency, Rate: r.Rate.String(), Into: r.Into})
	}
	h.d.Pages.Render(c, http.StatusOK, "backoffice/slip", v)
}
