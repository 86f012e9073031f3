package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/orders"
)

func (s *Server) settlementRoutes(api *gin.RouterGroup) {
	api.PUT("/products/:sku/shares/:channel", s.setShare)
	api.GET("/cooperatives/:coop/statements/:month", s.statement)
	api.POST("/cooperatives/:coop/statements/:month/close", s.closeStatement)
	api.POST("/cooperatives/:coop/advances", s.grantAdvance)
	api.POST("/cooperatives/:coop/payouts", s.recordPayout)
}

func (s *Server) setShare(c *gin.Context) {
	var sh catalog.Share
	if err := decodeJSON(c, &sh); err != nil {
		fail(c, err)
		return
	}
	p, err := s.deps.Catalog.SetShare(c.Request.Context(), actorOf(c), c.Param("sku"), c.Param("channel"), sh)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, productView{p, quantityView{p.UnitSize, p.UnitSizeUnit}})
}

// statement answers JSON, or CSV with ?format=csv (one row a line, then the
// totals per currency), amounts in minor units.
func (s *Server) statement(c *gin.Context) {
	st, err := s.deps.Orders.Statement(c.Request.Context(), actorOf(c), c.Param("coop"), c.Param("month"))
	if err != nil {
		fail(c, err)
		return
	}
	if c.Query("format") != "csv" {
		c.JSON(http.StatusOK, st)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="statement-%s-%s.csv"`, st.Cooperative, st.Month))
	writeStatementCSV(c.Writer, st)
}

func writeStatementCSV(w http.ResponseWriter, st orders.Statement) {
	cw := csv.NewWriter(w)
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	_ = cw.Write([]string{"date", "channel", "source", "ref", "sku", "units", "lots", "currency", "gross", "producer_share", "shop_margin", "fees"})
	for _, l := range st.Lines {
		_ = cw.Write([]string{l.Date, l.Channel, l.Source, l.Ref, l.SKU, i(l.Units), strings.Join(l.Lots, " "), l.Currency,
			i(l.Gross), i(l.ProducerShare), i(l.ShopMargin), i(l.Fees)})
	}
	_ = cw.Write(nil)
	_ = cw.Write([]string{"currency", "units", "gross", "producer_share", "shop_margin", "fees", "advance_repayment", "payouts", "net_due", "advance_outstanding"})
	for _, t := range st.Totals {
		_ = cw.Write([]string{t.Currency, i(t.Units), i(t.Gross), i(t.ProducerShare), i(t.ShopMargin), i(t.Fees),
			i(t.AdvanceRepayment), i(t.Payouts), i(t.NetDue), i(t.AdvanceLeft)})
	}
	cw.Flush()
}

func (s *Server) closeStatement(c *gin.Context) {
	st, err := s.deps.Orders.CloseStatement(c.Request.Context(), actorOf(c), c.Param("coop"), c.Param("month"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

type advanceRequest struct {
	Amount           catalog.Money `json:"amount"`
	RepaymentPercent int64         `json:"repayment_percent"`
	Note             string        `json:"note"`
}

func (s *Server) grantAdvance(c *gin.Context) {
	var req advanceRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	a, err := s.deps.Orders.GrantAdvance(c.Request.Context(), actorOf(c), c.Param("coop"), req.Amount, req.RepaymentPercent, req.Note)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, a)
}

type payoutRequest struct {
	Month     string        `json:"month"`
	Amount    catalog.Money `json:"amount"`
	Reference string        `json:"reference"`
}

func (s *Server) recordPayout(c *gin.Context) {
	var req payoutRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	p, err := s.deps.Orders.RecordPayout(c.Request.Context(), actorOf(c), c.Param("coop"), req.Month, req.Amount, req.Reference)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, p)
}
