package backoffice

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/web/page"
)

// StatementsNow answers GET /coop/{coop}/statements: this month's statement.
func (h *Handlers) StatementsNow(c *gin.Context) {
	coop, err := h.d.Cooperatives.Cooperative(c.Request.Context(), page.Actor(c), c.Param("coop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/coop/"+esc(coop.Code)+"/statements/"+h.d.Now().UTC().Format("2006-01"))
}

type statementView struct {
	page.Page
	coopTop
	St        orders.Statement
	Lines     []statementLine
	Totals    []statementTotals
	Later     []laterEntry // entries dated in this closed month, booked in a later one
	Prev      string
	Next      string
	CSVURL    string
	MonthName string
	ClosedAt  string
	// CanClose: the admin may close this month now (open and ended);
	// ClosableFrom is when an open month that has not ended can be.
	CanClose     bool
	ClosableFrom string
	CloseURL     string
}

type statementLine struct {
	orders.StatementLine
	Gross, Share, Margin, Fees string
	KindName                   string
	LateURL                    string // the closed month the entry is dated in
}

type laterEntry struct {
	orders.LaterEntry
	KindName, Gross, Share string
	BookedURL              string
}

type statementTotals struct {
	orders.StatementTotals
	Gross, Share, Margin, Fees, Repayment, Payouts, NetDue, Outstanding string
}

// StatementPage answers GET /coop/{coop}/statements/{month} (and its .csv):
// a cooperative's sales of the month with its share, the shops' margins,
// fees, advance repayments and payouts — for its manager, auditors in scope
// and the admin. A closed month is shown frozen, with the entries dated in
// it that were booked after the close in the next open month.
func (h *Handlers) StatementPage(c *gin.Context) {
	if strings.HasSuffix(c.Param("month"), ".csv") {
		ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
		coop, month := id.NormalizeCode(c.Param("coop")), strings.TrimSuffix(c.Param("month"), ".csv")
		st, err := h.d.Orders.Statement(ctx, actor, coop, month)
		if err != nil {
			page.Fail(c, err)
			return
		}
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="statement-`+coop+`-`+month+`.csv"`)
		page.WriteStatementCSV(c.Writer, l, st)
		return
	}
	h.showStatement(c, nil, "")
}

// CloseStatement answers POST /coop/{coop}/statements/{month}/close: the
// admin closes an ended month. The domain refuses a month that has not
// ended or is closed already; the page shows why, in its language.
func (h *Handlers) CloseStatement(c *gin.Context) {
	coop, month := id.NormalizeCode(c.Param("coop")), c.Param("month")
	_, err := h.d.Orders.CloseStatement(c.Request.Context(), page.Actor(c), coop, month)
	h.done(c, err, "close", "/coop/"+esc(coop)+"/statements/"+esc(month), "stm_closed_done", h.showStatement)
}

func (h *Handlers) showStatement(c *gin.Context, formErr error, which string) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	coop, month := id.NormalizeCode(c.Param("coop")), c.Param("month")
	st, err := h.d.Orders.Statement(ctx, actor, coop, month)
	if err != nil {
		page.Fail(c, err)
		return
	}
	top, err := h.coopTop(c, secStatements)
	if err != nil {
		page.Fail(c, err)
		return
	}
	m := func(amount int64, cur string) string { return l.Money(amount, cur) }
	monthURL := func(mo string) string { return "/coop/" + esc(coop) + "/statements/" + esc(mo) }
	first, _ := time.Parse("2006-01", month)
	end := first.AddDate(0, 1, 0)
	v := &statementView{Page: h.d.Pages.Page(c, l.T("stm_title")), coopTop: top, St: st,
		Prev: first.AddDate(0, -1, 0).Format("2006-01"), Next: end.Format("2006-01"),
		CSVURL: monthURL(month) + ".csv", MonthName: month, CloseURL: monthURL(month) + "/close"}
	if st.Closed {
		v.ClosedAt = dateOf(st.ClosedAt) + " UTC"
	} else if actor.Role == access.Admin {
		if h.d.Now().Before(end) {
			v.ClosableFrom = end.Format(time.DateOnly)
		} else {
			v.CanClose = true
		}
	}
	for _, ln := range st.Lines {
		row := statementLine{StatementLine: ln, Gross: m(ln.Gross, ln.Currency), Share: m(ln.ProducerShare, ln.Currency),
			Margin: m(ln.ShopMargin, ln.Currency), Fees: m(ln.Fees, ln.Currency), KindName: l.Term("entry_kind", ln.Kind)}
		if ln.LateFrom != "" {
			row.LateURL = monthURL(ln.LateFrom)
		}
		v.Lines = append(v.Lines, row)
	}
	for _, t := range st.Totals {
		cur := t.Currency
		v.Totals = append(v.Totals, statementTotals{t, m(t.Gross, cur), m(t.ProducerShare, cur), m(t.ShopMargin, cur), m(t.Fees, cur),
			m(t.AdvanceRepayment, cur), m(t.Payouts, cur), m(t.NetDue, cur), m(t.AdvanceLeft, cur)})
	}
	for _, le := range st.LaterEntries {
		v.Later = append(v.Later, laterEntry{LaterEntry: le, KindName: l.Term("entry_kind", le.Kind), Gross: m(le.Gross, le.Currency),
			Share: m(le.ProducerShare, le.Currency), BookedURL: monthURL(le.BookedIn)})
	}
	h.render(c, &v.Page, formErr, which, "backoffice/statement", v)
}
