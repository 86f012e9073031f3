package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/terroir-coop/terroir/traceability"
)

// seasonsShown is how many past seasons the auditor's season select offers.
const seasonsShown = 6

type seasonOption struct {
	Year     int
	Label    string // "2026–2027"
	Selected bool
}

// balanceLine is a mass-balance row with its quantities written for people.
type balanceLine struct {
	traceability.BalanceRow
	Harvested, Produced, Transformed, Packed, Shipped, Adjusted, OnHand, Losses string
}

type auditView struct {
	Cooperative traceability.Cooperative
	Flagged     []traceability.FlaggedLot
	OpenFlags   int
	Season      int
	SeasonLabel string
	Seasons     []seasonOption
	Balance     []balanceLine
	CSVURL      string
}

func seasonLabel(y int) string { return fmt.Sprintf("%d–%d", y, y+1) }

// auditPage shows an auditor the flagged lots (open ones first) and the
// mass balance of a season; it also serves the admin and the manager.
func (s *Server) auditPage(c *gin.Context) {
	ctx, actor := c.Request.Context(), actorOf(c)
	coop, err := s.deps.Traceability.Cooperative(ctx, actor, c.Param("coop"))
	if err != nil {
		s.pageFail(c, err)
		return
	}
	season, err := s.seasonOf(c)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	flagged, err := s.deps.Traceability.Flags(ctx, actor, coop.Code)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	// Open flags first: they are what an auditor has to follow up.
	slices.SortStableFunc(flagged, func(a, b traceability.FlaggedLot) int {
		return min(b.Open, 1) - min(a.Open, 1)
	})
	rows, err := s.deps.Traceability.MassBalance(ctx, actor, coop.Code, season)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	v := &auditView{Cooperative: coop, Flagged: flagged, Season: season, SeasonLabel: seasonLabel(season),
		CSVURL: "/audit/" + coop.Code + "/mass-balance.csv?season=" + strconv.Itoa(season)}
	for _, f := range flagged {
		v.OpenFlags += f.Open
	}
	current := s.deps.Traceability.CurrentSeason()
	for y := current; y > current-seasonsShown; y-- {
		v.Seasons = append(v.Seasons, seasonOption{Year: y, Label: seasonLabel(y), Selected: y == season})
	}
	if season > current || season <= current-seasonsShown {
		v.Seasons = append(v.Seasons, seasonOption{Year: season, Label: seasonLabel(season), Selected: true})
	}
	for _, r := range rows {
		q := func(n int64) string { return traceability.FormatQuantity(n, r.Unit) }
		v.Balance = append(v.Balance, balanceLine{BalanceRow: r, Harvested: q(r.Harvested), Produced: q(r.Produced),
			Transformed: q(r.Transformed), Packed: q(r.Packed), Shipped: q(r.Shipped), Adjusted: q(r.Adjusted),
			OnHand: q(r.OnHand), Losses: q(r.Losses)})
	}
	s.render(c, http.StatusOK, "audit", s.data(c, "audit", v))
}

// auditBalanceCSV is the mass balance as CSV for a logged-in browser: the
// API's CSV needs a bearer token, which a page link cannot carry.
func (s *Server) auditBalanceCSV(c *gin.Context) {
	season, err := s.seasonOf(c)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	// Reading the cooperative first makes an unknown code a 404 and keeps
	// the file name to a validated code.
	coop, err := s.deps.Traceability.Cooperative(c.Request.Context(), actorOf(c), c.Param("coop"))
	if err != nil {
		s.pageFail(c, err)
		return
	}
	code := coop.Code
	rows, err := s.deps.Traceability.MassBalance(c.Request.Context(), actorOf(c), code, season)
	if err != nil {
		s.pageFail(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="mass-balance-%s-%d.csv"`, code, season))
	c.Status(http.StatusOK)
	writeBalanceCSV(c.Writer, rows)
}

// plausibilityPage shows the ranges that flag harvests and yields, with
// their sources: public, so cooperatives and consumers can read the rules.
func (s *Server) plausibilityPage(c *gin.Context) {
	s.render(c, http.StatusOK, "plausibility", s.data(c, "plausibility", traceability.PlausibilityTable()))
}
