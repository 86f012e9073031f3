package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/problem"
	"github.com/terroir-coop/terroir/orders"
	"github.com/terroir-coop/terroir/traceability"
	"github.com/terroir-coop/terroir/web/page"
)

// MemberPay is the members' pay of the cooperatives (orders.MemberPay):
// statements, terms, payout runs and the network's impact report.
type MemberPay interface {
	MemberStatements(ctx context.Context, actor access.Actor, coop, month string) (orders.MemberStatements, error)
	MemberSeasonStatements(ctx context.Context, actor access.Actor, coop string, season int) (orders.MemberStatements, error)
	MemberSlip(ctx context.Context, actor access.Actor, coop, month, member string) (orders.MemberSlip, error)
	Terms(ctx context.Context, actor access.Actor, coop string) (orders.MemberTerms, error)
	SetRetention(ctx context.Context, actor access.Actor, coop, percent, from string) (orders.MemberTerms, error)
	SetRate(ctx context.Context, actor access.Actor, coop, month, currency, rate string) (orders.MemberTerms, error)
	PayMembers(ctx context.Context, actor access.Actor, coop string, req orders.NewPayoutRun, idemKey string) (orders.MemberPayoutRun, bool, error)
	PayoutRuns(ctx context.Context, actor access.Actor, coop string) ([]orders.MemberPayoutRun, error)
	Impact(ctx context.Context, actor access.Actor, season int, coop string) (orders.ImpactReport, error)
}

// LotShares are the members behind a lot (traceability.Service.Shares).
type LotShares interface {
	Shares(ctx context.Context, actor access.Actor, code string) (traceability.LotShares, error)
}

// Shares answers GET /api/v1/lots/{code}/shares: the members whose
// harvests are in the lot, with their share and grams (the owner
// cooperative, auditors in scope, the admin; 404 for anyone else).
func (h *Handlers) Shares(c *gin.Context) {
	s, err := h.d.LotShares.Shares(c.Request.Context(), page.Actor(c), c.Param("code"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s)
}

// wantsCSV reports whether the caller asked for CSV: ?format=csv, or an
// Accept header that names text/csv.
func wantsCSV(c *gin.Context) bool {
	return c.Query("format") == "csv" || strings.Contains(c.GetHeader("Accept"), "text/csv")
}

// writeCSV answers rows as a CSV download named filename.
func writeCSV(c *gin.Context, filename string, rows [][]string) {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, filename))
	c.Status(http.StatusOK)
	cw := csv.NewWriter(c.Writer)
	_ = cw.WriteAll(rows)
}

// seasonParam reads a season (its first year) from a query or path value.
func seasonParam(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, problem.Field("season", "must be a season that has begun, named by its first year (2025 for 2025–2026)")
	}
	return n, nil
}

func (h *Handlers) answerStatements(c *gin.Context, st orders.MemberStatements, err error) {
	if err != nil {
		page.Fail(c, err)
		return
	}
	if wantsCSV(c) {
		period := st.Month
		if period == "" {
			period = strconv.Itoa(st.Season)
		}
		writeCSV(c, "member-statements-"+st.Cooperative+"-"+period+".csv", st.CSV())
		return
	}
	c.JSON(http.StatusOK, st)
}

// MemberStatements answers GET
// /api/v1/cooperatives/{coop}/member-statements/{YYYY-MM}: every member's
// statement of the month (JSON, or CSV with ?format=csv or Accept: text/csv).
func (h *Handlers) MemberStatements(c *gin.Context) {
	st, err := h.d.MemberPay.MemberStatements(c.Request.Context(), page.Actor(c), c.Param("coop"), c.Param("month"))
	h.answerStatements(c, st, err)
}

// MemberStatementsQuery answers GET
// /api/v1/cooperatives/{coop}/member-statements?month=YYYY-MM (or
// ?season=YYYY for a season's statements; this month without either), as
// MemberStatements.
func (h *Handlers) MemberStatementsQuery(c *gin.Context) {
	ctx, actor, coop := c.Request.Context(), page.Actor(c), c.Param("coop")
	if s, ok := c.GetQuery("season"); ok && c.Query("month") == "" {
		season, err := seasonParam(s)
		if err != nil {
			page.Fail(c, err)
			return
		}
		st, err := h.d.MemberPay.MemberSeasonStatements(ctx, actor, coop, season)
		h.answerStatements(c, st, err)
		return
	}
	month := c.Query("month")
	if month == "" {
		month = h.d.Now().UTC().Format("2006-01")
	}
	st, err := h.d.MemberPay.MemberStatements(ctx, actor, coop, month)
	h.answerStatements(c, st, err)
}

// MemberSlip answers GET
// /api/v1/cooperatives/{coop}/members/{member}/statements/{YYYY-MM}: one
// member's statement of a month with its detail (deliveries and advances,
// each sale of lots she is in with her part, payouts).
func (h *Handlers) MemberSlip(c *gin.Context) {
	slip, err := h.d.MemberPay.MemberSlip(c.Request.Context(), page.Actor(c), c.Param("coop"), c.Param("month"), c.Param("member"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, slip)
}

// memberSeason is one member's statement of a season.
type memberSeason struct {
	Cooperative string                 `json:"cooperative"`
	Season      int                    `json:"season"`
	From        string                 `json:"from"`
	To          string                 `json:"to"`
	Currency    string                 `json:"currency"`
	Statement   orders.MemberStatement `json:"statement"`
}

// MemberSeason answers GET
// /api/v1/cooperatives/{coop}/members/{member}/seasons/{YYYY}: one
// member's line of the season's statements (zero when she had nothing).
func (h *Handlers) MemberSeason(c *gin.Context) {
	ctx, actor := c.Request.Context(), page.Actor(c)
	season, err := seasonParam(c.Param("season"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	st, err := h.d.MemberPay.MemberSeasonStatements(ctx, actor, c.Param("coop"), season)
	if err != nil {
		page.Fail(c, err)
		return
	}
	out := memberSeason{Cooperative: st.Cooperative, Season: season, From: st.From, To: st.To, Currency: st.Currency}
	for _, m := range st.Members {
		if m.Member == c.Param("member") {
			out.Statement = m
			c.JSON(http.StatusOK, out)
			return
		}
	}
	// Nothing in the season: her (empty) line, or 404 for someone who is
	// not a member of the cooperative.
	slip, err := h.d.MemberPay.MemberSlip(ctx, actor, st.Cooperative, st.To, c.Param("member"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	out.Statement = slip.Statement
	c.JSON(http.StatusOK, out)
}

// decimalText is the decimal text a JSON number or string holds (never
// read through a float); anything else is passed on as written, for the
// service to refuse naming its field once it has decided access.
func decimalText(raw json.RawMessage) string {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return text
	}
	return strings.TrimSpace(string(raw))
}

type retentionRequest struct {
	Percent json.RawMessage `json:"percent"`
	From    string          `json:"from"`
}

// SetRetention answers PUT (or POST) /api/v1/cooperatives/{coop}/retention
// {percent, from}: the retention the general assembly decided, from a day.
func (h *Handlers) SetRetention(c *gin.Context) {
	var req retentionRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	t, err := h.d.MemberPay.SetRetention(c.Request.Context(), page.Actor(c), c.Param("coop"), decimalText(req.Percent), req.From)
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

type rateRequest struct {
	Month    string          `json:"month"`
	Currency string          `json:"currency"`
	Rate     json.RawMessage `json:"rate"`
}

// SetRate answers POST /api/v1/cooperatives/{coop}/rates {month, currency,
// rate} and PUT /api/v1/cooperatives/{coop}/rates/{month} {currency, rate}:
// the month's rate at which members' statements convert what was sold in
// currency (EUR) into the cooperative's (MAD).
func (h *Handlers) SetRate(c *gin.Context) {
	var req rateRequest
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	if m := c.Param("month"); m != "" {
		// The path names the month; a body naming another is not a month
		// the service accepts (400 on "month").
		if req.Month != "" && req.Month != m {
			m += "≠" + req.Month
		}
		req.Month = m
	}
	if req.Currency == "" {
		req.Currency = "EUR"
	}
	t, err := h.d.MemberPay.SetRate(c.Request.Context(), page.Actor(c), c.Param("coop"), req.Month, req.Currency, decimalText(req.Rate))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

// MemberTerms answers GET /api/v1/cooperatives/{coop}/member-terms: the
// retention rules and the monthly rates recorded.
func (h *Handlers) MemberTerms(c *gin.Context) {
	t, err := h.d.MemberPay.Terms(c.Request.Context(), page.Actor(c), c.Param("coop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	t.Retention, t.Rates = list(t.Retention), list(t.Rates)
	c.JSON(http.StatusOK, t)
}

// PayMembers answers POST /api/v1/cooperatives/{coop}/member-payouts
// {method, note, lines?}: a payout run, recorded once under its
// Idempotency-Key (201; the same key and body again answer the same run).
func (h *Handlers) PayMembers(c *gin.Context) {
	var req orders.NewPayoutRun
	if err := decodeJSON(c, &req); err != nil {
		page.Fail(c, err)
		return
	}
	run, _, err := h.d.MemberPay.PayMembers(c.Request.Context(), page.Actor(c), c.Param("coop"), req, c.GetHeader("Idempotency-Key"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, run)
}

// PayoutRuns answers GET /api/v1/cooperatives/{coop}/member-payouts.
func (h *Handlers) PayoutRuns(c *gin.Context) {
	runs, err := h.d.MemberPay.PayoutRuns(c.Request.Context(), page.Actor(c), c.Param("coop"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(runs))
}

// Impact answers GET /api/v1/impact?season=YYYY[&cooperative=CODE]: the
// network's (or a cooperative's) impact report, JSON or CSV.
func (h *Handlers) Impact(c *gin.Context) {
	// Access is decided first: a season that is not a number is season 0,
	// which the service refuses (400 on "season") to those who may read.
	season, _ := strconv.Atoi(strings.TrimSpace(c.Query("season")))
	rep, err := h.d.MemberPay.Impact(c.Request.Context(), page.Actor(c), season, c.Query("cooperative"))
	if err != nil {
		page.Fail(c, err)
		return
	}
	if wantsCSV(c) {
		name := rep.Cooperative
		if name == "" {
			name = "network"
		}
		writeCSV(c, "impact-"+name+"-"+strconv.Itoa(season)+".csv", rep.CSV())
		return
	}
	c.JSON(http.StatusOK, rep)
}
