package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
)

// settlementPages registers a cooperative's monthly statements: the page
// (its manager, auditors in scope, the admin) and its CSV.
func (s *Server) settlementPages(pages *gin.RouterGroup) {
	pages.GET("/coop/:coop/statements", func(c *gin.Context) {
		coop := traceability.NormalizeCode(c.Param("coop"))
		if err := actorOf(c).ReadCoop(coop); err != nil {
			s.pageFail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/coop/"+coop+"/statements/"+s.now().UTC().Format("2006-01"))
	})
	pages.GET("/coop/:coop/statements/:month", s.statementPage)
}

type statementView struct {
	St        orders.Statement
	Coop      traceability.Cooperative
	Lines     []statementLineView
	Totals    []statementTotalsView
	Prev      string
	Next      string
	CSVURL    string
	MonthName string
}

type statementLineView struct {
	orders.StatementLine
	Gross, Share, Margin, Fees string
}

type statementTotalsView struct {
	orders.StatementTotals
	Gross, Share, Margin, Fees, Repayment, Payouts, NetDue, Outstanding string
}

func (s *Server) statementPage(c *gin.Context) {
	ctx, actor := c.Request.Context(), actorOf(c)
	coop, month := traceability.NormalizeCode(c.Param("coop")), strings.TrimSuffix(c.Param("month"), ".csv")
	st, err := s.deps.Orders.Statement(ctx, actor, coop, month)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	if strings.HasSuffix(c.Param("month"), ".csv") {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="statement-`+coop+`-`+month+`.csv"`)
		writeStatementCSV(c.Writer, st)
		return
	}
	co, err := s.deps.Traceability.Cooperative(ctx, actor, coop)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	lang := langOf(c)
	m := func(amount int64, cur string) string {
		return formatMoney(catalog.Money{Amount: amount, Currency: cur}, lang)
	}
	first, _ := time.Parse("2006-01", month)
	v := &statementView{St: st, Coop: co, Prev: first.AddDate(0, -1, 0).Format("2006-01"), Next: first.AddDate(0, 1, 0).Format("2006-01"),
		CSVURL: "/coop/" + coop + "/statements/" + month + ".csv", MonthName: month}
	for _, l := range st.Lines {
		v.Lines = append(v.Lines, statementLineView{l, m(l.Gross, l.Currency), m(l.ProducerShare, l.Currency), m(l.ShopMargin, l.Currency), m(l.Fees, l.Currency)})
	}
	for _, t := range st.Totals {
		cur := t.Currency
		v.Totals = append(v.Totals, statementTotalsView{t, m(t.Gross, cur), m(t.ProducerShare, cur), m(t.ShopMargin, cur), m(t.Fees, cur),
			m(t.AdvanceRepayment, cur), m(t.Payouts, cur), m(t.NetDue, cur), m(t.AdvanceLeft, cur)})
	}
	s.render(c, http.StatusOK, "statement", s.data(c, "stm_title", v))
}
