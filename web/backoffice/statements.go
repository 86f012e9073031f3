package backoffice

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

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
	Prev      string
	Next      string
	CSVURL    string
	MonthName string
}

type statementLine struct {
	orders.StatementLine
	Gross, Share, Margin, Fees string
}

type statementTotals struct {
	orders.StatementTotals
	Gross, Share, Margin, Fees, Repayment, Payouts, NetDue, Outstanding string
}

// StatementPage answers GET /coop/{coop}/statements/{month} (and its .csv):
// a cooperative's sales of the month with its share, the shops' margins,
// fees, advance repayments and payouts — for its manager, auditors in scope
// and the admin.
func (h *Handlers) StatementPage(c *gin.Context) {
	ctx, actor, l := c.Request.Context(), page.Actor(c), page.Locale(c)
	coop, month := id.NormalizeCode(c.Param("coop")), strings.TrimSuffix(c.Param("month"), ".csv")
	st, err := h.d.Orders.Statement(ctx, actor, coop, month)
	if err != nil {
		page.Fail(c, err)
		return
	}
	if strings.HasSuffix(c.Param("month"), ".csv") {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="statement-`+coop+`-`+month+`.csv"`)
		page.WriteStatementCSV(c.Writer, l, st)
		return
	}
	top, err := h.coopTop(c, secStatements)
	if err != nil {
		page.Fail(c, err)
		return
	}
	m := func(amount int64, cur string) string { return l.Money(amount, cur) }
	first, _ := time.Parse("2006-01", month)
	v := &statementView{Page: h.d.Pages.Page(c, l.T("stm_title")), coopTop: top, St: st,
		Prev: first.AddDate(0, -1, 0).Format("2006-01"), Next: first.AddDate(0, 1, 0).Format("2006-01"),
		CSVURL: "/coop/" + esc(coop) + "/statements/" + month + ".csv", MonthName: month}
	for _, ln := range st.Lines {
		v.Lines = append(v.Lines, statementLine{ln, m(ln.Gross, ln.Currency), m(ln.ProducerShare, ln.Currency), m(ln.ShopMargin, ln.Currency), m(ln.Fees, ln.Currency)})
	}
	for _, t := range st.Totals {
		cur := t.Currency
		v.Totals = append(v.Totals, statementTotals{t, m(t.Gross, cur), m(t.ProducerShare, cur), m(t.ShopMargin, cur), m(t.Fees, cur),
			m(t.AdvanceRepayment, cur), m(t.Payouts, cur), m(t.NetDue, cur), m(t.AdvanceLeft, cur)})
	}
	h.d.Pages.Render(c, http.StatusOK, "backoffice/statement", v)
}
