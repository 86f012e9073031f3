package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/catalog"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/shops"
	"github.com/terroir-coop/terroir/traceability"
)

func (s *Server) shopRoutes(api *gin.RouterGroup) {
	api.PUT("/products/:sku/prices/:channel", s.setPrice)
	api.GET("/catalog", s.catalogJSON)
	api.POST("/shops/:shop/receipts", s.receive)
	api.POST("/shops/:shop/transfers", s.sendTransfer)
	api.GET("/shops/:shop/transfers", s.listTransfers)
	api.POST("/shops/:shop/transfers/:id/receive", s.receiveTransfer)
	api.GET("/shops/:shop/stock", s.stock)
	api.GET("/shops/:shop/shelves", s.shelves)
	api.PUT("/shops/:shop/thresholds/:sku", s.setThreshold)
	api.POST("/shops/:shop/sales", s.sell)
	api.GET("/shops/:shop/sales/:id", s.getSale)
	api.POST("/shops/:shop/returns", s.returnUnits)
	api.POST("/shops/:shop/adjustments", s.adjust)
	api.POST("/shops/:shop/counts", s.count)
	api.GET("/shops/:shop/movements", s.listMovements)
	api.GET("/cooperatives/:coop/holdings", s.holdings)
}

func (s *Server) setPrice(c *gin.Context) {
	var m catalog.Money
	if err := decodeJSON(c, &m); err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	sh, err := s.deps.Shops.Shop(ctx, c.Param("channel"))
	if err != nil {
		fail(c, err)
		return
	}
	p, err := s.deps.Catalog.SetPrice(ctx, actorOf(c), c.Param("sku"), sh.Code, sh.Currency, m)
	if err != nil {
		fail(c, err)
		return
	}
	s.catalog.dropAll()
	c.JSON(http.StatusOK, productView{p, quantityView{p.UnitSize, p.UnitSizeUnit}})
}

// catalogJSON is the public catalogue of a channel: GET /api/v1/catalog?channel=
// with filters kind, cooperative, claim, q (a name in any language) and
// pagination (limit, offset). Served from memory.
func (s *Server) catalogJSON(c *gin.Context) {
	items, err := s.catalogItems(c)
	if err != nil {
		fail(c, err)
		return
	}
	p := pageOf(c)
	end := min(p.Offset+p.Limit, len(items))
	if p.Offset > len(items) {
		p.Offset = len(items)
	}
	c.Header("X-Total-Count", strconv.Itoa(len(items)))
	c.JSON(http.StatusOK, items[p.Offset:end])
}

// catalogItems applies the query's channel and filters.
func (s *Server) catalogItems(c *gin.Context) ([]catalogItem, error) {
	channel := traceability.NormalizeCode(c.Query("channel"))
	if channel == "" {
		return nil, problem.Field("channel", "is required (a shop code such as TAROUDANNT or EU-PLATFORM)")
	}
	cc, err := s.catalogOf(c.Request.Context(), channel)
	if err != nil {
		return nil, err
	}
	all := cc.items(channel)
	kind, coop, claim, q := c.Query("kind"), traceability.NormalizeCode(c.Query("cooperative")), c.Query("claim"), strings.TrimSpace(c.Query("q"))
	if kind == "" && coop == "" && claim == "" && q == "" {
		return all, nil // shared and read-only: no copy of the whole catalogue per request
	}
	out := all[:0:0]
	for _, it := range all {
		if it.matches(kind, coop, claim, q) {
			out = append(out, it)
		}
	}
	return out, nil
}

func (s *Server) catalogOf(ctx context.Context, channel string) (*channelCatalog, error) {
	// A cached channel was built after its shop was found (shops are never
	// deleted), so only an unknown one costs a read.
	if s.catalog.known(channel) {
		return s.catalog.channel(ctx, channel, s.deps.Catalog, s.deps.Stock, s.deps.Traceability)
	}
	if _, err := s.deps.Shops.Shop(ctx, channel); err != nil {
		return nil, &problem.Error{Code: problem.NotFound, Field: "channel", Message: fmt.Sprintf("no channel %s", channel)}
	}
	return s.catalog.channel(ctx, channel, s.deps.Catalog, s.deps.Stock, s.deps.Traceability)
}

type receiptRequest struct {
	Lot   string `json:"lot"`
	Units int64  `json:"units"`
}

func (s *Server) receive(c *gin.Context) {
	var req receiptRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	b, err := s.deps.Stock.Receive(c.Request.Context(), actorOf(c), c.Param("shop"), shops.ReceiptRequest{Lot: req.Lot, Units: req.Units})
	if err != nil {
		fail(c, err)
		return
	}
	s.traces.invalidate(b.Lot)
	c.JSON(http.StatusCreated, b)
}

type lotUnitsRequest struct {
	Lot   string `json:"lot"`
	Units int64  `json:"units"`
}

type transferRequest struct {
	To    string            `json:"to"`
	Lines []lotUnitsRequest `json:"lines"`
}

func lotUnits(in []lotUnitsRequest) []shops.LotUnits {
	out := make([]shops.LotUnits, len(in))
	for i, l := range in {
		out[i] = shops.LotUnits{Lot: l.Lot, Units: l.Units}
	}
	return out
}

func (s *Server) sendTransfer(c *gin.Context) {
	var req transferRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	t, err := s.deps.Stock.Send(c.Request.Context(), actorOf(c), c.Param("shop"), req.To, lotUnits(req.Lines))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, t)
}

type arrivalRequest struct {
	Lines []lotUnitsRequest `json:"lines"`
}

func (s *Server) receiveTransfer(c *gin.Context) {
	var req arrivalRequest
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			fail(c, err)
			return
		}
	}
	t, err := s.deps.Stock.ReceiveTransfer(c.Request.Context(), actorOf(c), c.Param("shop"), c.Param("id"), lotUnits(req.Lines))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

func (s *Server) listTransfers(c *gin.Context) {
	ts, err := s.deps.Stock.Transfers(c.Request.Context(), actorOf(c), c.Param("shop"), c.Query("status"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(ts))
}

func (s *Server) stock(c *gin.Context) {
	lines, err := s.deps.Stock.StockOf(c.Request.Context(), actorOf(c), c.Param("shop"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, lines)
}

func (s *Server) shelves(c *gin.Context) {
	if err := actorOf(c).ManageShop(traceability.NormalizeCode(c.Param("shop"))); err != nil {
		fail(c, err)
		return
	}
	sh, err := s.deps.Stock.Shelves(c.Request.Context(), c.Param("shop"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(sh))
}

type thresholdRequest struct {
	Threshold int64 `json:"threshold"`
}

func (s *Server) setThreshold(c *gin.Context) {
	var req thresholdRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if err := s.deps.Stock.SetThreshold(c.Request.Context(), actorOf(c), c.Param("shop"), strings.ToUpper(c.Param("sku")), req.Threshold); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"sku": strings.ToUpper(c.Param("sku")), "threshold": req.Threshold})
}

type saleLineRequest struct {
	SKU   string `json:"sku"`
	Units int64  `json:"units"`
}

type saleRequest struct {
	Lines   []saleLineRequest `json:"lines"`
	Payment string            `json:"payment"`
}

// pricedLines prices each line from the catalogue for the channel: what a
// client says a thing costs is never used.
func (s *Server) pricedLines(ctx context.Context, channel string, in []saleLineRequest) ([]shops.Line, string, error) {
	sh, err := s.deps.Shops.Shop(ctx, channel)
	if err != nil {
		return nil, "", err
	}
	if len(in) == 0 {
		return nil, "", problem.Field("lines", "add at least one product")
	}
	lines := make([]shops.Line, len(in))
	for i, l := range in {
		p, err := s.deps.Catalog.Product(ctx, l.SKU)
		if err != nil {
			return nil, "", problem.Field(fmt.Sprintf("lines[%d].sku", i), "no product %q in the catalogue", l.SKU)
		}
		price, ok := p.PriceIn(sh.Code)
		if !ok {
			return nil, "", problem.Field(fmt.Sprintf("lines[%d].sku", i), "%s has no price in %s", p.SKU, sh.Code)
		}
		lines[i] = shops.Line{SKU: p.SKU, Units: l.Units, UnitPrice: price.Amount}
	}
	return lines, sh.Currency, nil
}

// saleView is a sale as the API answers it: total as Money.
type saleView struct {
	shops.Sale
	Total catalog.Money `json:"total"`
}

func (s *Server) sell(c *gin.Context) {
	var req saleRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	ctx, actor := c.Request.Context(), actorOf(c)
	shop := traceability.NormalizeCode(c.Param("shop"))
	if err := actor.OperateShop(shop); err != nil {
		fail(c, err)
		return
	}
	lines, currency, err := s.pricedLines(ctx, shop, req.Lines)
	if err != nil {
		fail(c, err)
		return
	}
	sale, err := s.deps.Stock.Sell(ctx, actor, shop, shops.SaleRequest{Lines: lines, Currency: currency, Payment: req.Payment})
	if err != nil {
		fail(c, err)
		return
	}
	for _, l := range sale.Lines {
		for _, lu := range l.Lots {
			s.traces.invalidate(lu.Lot)
		}
	}
	c.JSON(http.StatusCreated, saleView{sale, catalog.Money{Amount: sale.Total, Currency: sale.Currency}})
}

func (s *Server) getSale(c *gin.Context) {
	sale, err := s.deps.Stock.Sale(c.Request.Context(), actorOf(c), c.Param("shop"), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, saleView{sale, catalog.Money{Amount: sale.Total, Currency: sale.Currency}})
}

type returnRequest struct {
	Sale  string `json:"sale"`
	Lot   string `json:"lot"`
	Units int64  `json:"units"`
}

func (s *Server) returnUnits(c *gin.Context) {
	var req returnRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	b, err := s.deps.Stock.Return(c.Request.Context(), actorOf(c), c.Param("shop"), shops.ReturnRequest{Sale: req.Sale, Lot: req.Lot, Units: req.Units})
	if err != nil {
		fail(c, err)
		return
	}
	s.traces.invalidate(b.Lot)
	c.JSON(http.StatusCreated, b)
}

type adjustmentRequest struct {
	Lot    string `json:"lot"`
	Units  int64  `json:"units"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

func (s *Server) adjust(c *gin.Context) {
	var req adjustmentRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	b, err := s.deps.Stock.Adjust(c.Request.Context(), actorOf(c), c.Param("shop"), shops.AdjustmentRequest{Lot: req.Lot, Units: req.Units, Kind: req.Kind, Reason: req.Reason})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, b)
}

type countRequest struct {
	Lines []struct {
		Lot     string `json:"lot"`
		Counted int64  `json:"counted"`
	} `json:"lines"`
	Reason string `json:"reason"`
}

func (s *Server) count(c *gin.Context) {
	var req countRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	lines := make([]shops.CountLine, len(req.Lines))
	for i, l := range req.Lines {
		lines[i] = shops.CountLine{Lot: l.Lot, Counted: l.Counted}
	}
	ms, err := s.deps.Stock.ApplyCount(c.Request.Context(), actorOf(c), c.Param("shop"), lines, req.Reason)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"adjustments": list(ms)})
}

func (s *Server) listMovements(c *gin.Context) {
	ms, err := s.deps.Stock.Movements(c.Request.Context(), actorOf(c), c.Param("shop"),
		shops.MovementFilter{Lot: c.Query("lot"), SKU: c.Query("sku"), Kind: c.Query("kind")}, pageOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(ms))
}

func (s *Server) holdings(c *gin.Context) {
	bs, err := s.deps.Stock.Holdings(c.Request.Context(), actorOf(c), c.Param("coop"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(bs))
}
